"""The warehouses console: the catalog's Warehouses entries, Add with Test connection against a
real PostgreSQL database, the warehouse page, schedule and selective sync, by plan and by role."""

import socket

import pytest

from segapp.models import Plan
from tests.factories import make_source, make_workspace
from warehouses import operations, syncs
from warehouses.models import Collection, ConnectedSource, Sync, Warehouse

HTMX = {"HX-Request": "true"}


@pytest.fixture
def owner_client(client_as, owner):
    return client_as(owner)


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def form(settings: dict, action: str, name: str = "") -> dict:
    return {"name": name, "action": action, **{f"settings-{k}": v for k, v in settings.items()}}


def set_plan(workspace, plan):
    workspace.plan = plan
    workspace.save(update_fields=["plan"])


def run_all(warehouse):
    for sync, _ in operations.sync_now(warehouse, None):
        while syncs.run(sync.pk):
            pass


def body(response) -> str:
    return response.content.decode()


def add_page(client, workspace, settings: dict, action: str) -> str:
    """What Test connection or Save on the Add page answers HTMX with."""
    url = f"/w/{workspace.slug}/warehouses/new/postgres/"
    return body(client.post(url, form(settings, action), headers=HTMX))


# Catalog entries


def test_postgres_entry_offers_configure_leading_to_the_create_page(
    catalog, owner_client, workspace
):
    page = body(owner_client.get(f"/w/{workspace.slug}/catalog/warehouses/postgres/"))
    assert f'href="/w/{workspace.slug}/warehouses/new/postgres/"' in page
    assert "Configure Postgres" in page and "<code>password</code>" in page


@pytest.mark.parametrize("slug", ["bigquery", "redshift", "snowflake"])
def test_other_warehouses_say_not_available_and_offer_no_configure(
    catalog, owner_client, workspace, slug
):
    page = body(owner_client.get(f"/w/{workspace.slug}/catalog/warehouses/{slug}/"))
    assert "Not available yet" in page and "PostgreSQL is available" in page
    assert "Configure" not in page
    create = body(owner_client.get(f"/w/{workspace.slug}/warehouses/new/{slug}/"))
    assert "Segapp cannot load into" in create and "Test connection" not in create


def test_free_workspace_with_a_warehouse_is_not_offered_a_second(
    owner_client, workspace, warehouse, warehouse_db
):
    detail = f"/w/{workspace.slug}/warehouses/{warehouse.pk}/"
    for url in [
        f"/w/{workspace.slug}/catalog/warehouses/postgres/",
        f"/w/{workspace.slug}/warehouses/new/postgres/",
    ]:
        page = body(owner_client.get(url))
        assert "connect one warehouse; upgrade to Business for more." in page, url
        assert f'href="{detail}"' in page and "Configure Postgres" not in page, url
        assert 'value="save"' not in page, url
    response = owner_client.post(
        f"/w/{workspace.slug}/warehouses/new/postgres/", form(warehouse_db, "save")
    )
    assert response.status_code == 200 and Warehouse.objects.count() == 1


def test_business_workspace_is_offered_another(owner_client, workspace, warehouse):
    set_plan(workspace, Plan.BUSINESS)
    page = body(owner_client.get(f"/w/{workspace.slug}/catalog/warehouses/postgres/"))
    assert "Configure Postgres" in page and "upgrade to Business for more" not in page


# Add: Test connection, then Save


def test_test_connection_says_connected_against_a_real_database(
    catalog, owner_client, workspace, warehouse_db
):
    response = owner_client.post(
        f"/w/{workspace.slug}/warehouses/new/postgres/", form(warehouse_db, "test"), headers=HTMX
    )
    page = body(response)
    assert response.status_code == 200 and "<html" not in page
    assert "Connected." in page and Warehouse.objects.count() == 0


def test_test_connection_shows_the_databases_message_and_a_hint(
    catalog, owner_client, workspace, warehouse_db
):
    page = add_page(owner_client, workspace, {**warehouse_db, "port": closed_port()}, "test")
    assert "Could not connect." in page and "Connection refused" in page
    assert "Hint:" in page and Warehouse.objects.count() == 0


def test_test_connection_names_a_missing_setting(catalog, owner_client, workspace, warehouse_db):
    settings = {k: v for k, v in warehouse_db.items() if k != "hostname"}
    page = add_page(owner_client, workspace, settings, "test")
    assert "Hostname: This setting is required." in page


def test_save_tests_first_and_creates_nothing_when_the_test_fails(
    catalog, owner_client, workspace, warehouse_db
):
    page = add_page(owner_client, workspace, {**warehouse_db, "port": closed_port()}, "save")
    assert "Could not connect." in page and "Nothing was saved" in page
    assert Warehouse.objects.count() == 0


def test_save_creates_a_warehouse_that_connects_and_never_shows_its_password(
    catalog, owner_client, workspace, warehouse_db
):
    response = owner_client.post(
        f"/w/{workspace.slug}/warehouses/new/postgres/",
        form(warehouse_db, "save", name="Analytics"),
        headers=HTMX,
    )
    warehouse = Warehouse.objects.get()
    assert response["HX-Redirect"] == f"/w/{workspace.slug}/warehouses/{warehouse.pk}/"
    assert warehouse.name == "Analytics"
    assert warehouse.secrets == {"password": warehouse_db["password"]}
    page = body(owner_client.get(response["HX-Redirect"]))
    assert "Analytics" in page and "Not synced yet" in page
    assert f'value="{warehouse_db["password"]}"' not in page
    assert 'type="password"' in page


def test_settings_keep_the_stored_password_unless_retyped(
    owner_client, workspace, warehouse, warehouse_db
):
    url = f"/w/{workspace.slug}/warehouses/{warehouse.pk}/settings/"
    kept = {**warehouse_db, "password": "", "schemaPrefix": "seg_"}
    response = owner_client.post(url, form(kept, "save", name="Main"))
    assert response.status_code == 302
    warehouse.refresh_from_db()
    assert warehouse.secrets["password"] == warehouse_db["password"]
    assert warehouse.settings["schemaPrefix"] == "seg_" and warehouse.name == "Main"
    broken = {**warehouse_db, "password": "", "port": closed_port()}
    page = body(owner_client.post(url, form(broken, "save")))
    assert "Could not connect." in page
    warehouse.refresh_from_db()
    assert warehouse.settings["port"] == warehouse_db["port"]


# The warehouse page


def test_sync_now_runs_and_the_history_shows_rows_per_table(
    live_server, owner_client, workspace, warehouse, source
):
    from tests.warehouses.test_loading import send_with_python_client

    send_with_python_client(live_server, source)
    response = owner_client.post(
        f"/w/{workspace.slug}/warehouses/{warehouse.pk}/sync/", headers=HTMX
    )
    assert "Sync started for 1 source." in body(response)
    assert 'hx-trigger="every 2s"' in body(response)
    (sync,) = Sync.objects.all()
    while syncs.run(sync.pk):
        pass
    poll = owner_client.get(
        f"/w/{workspace.slug}/warehouses/{warehouse.pk}/",
        headers={**HTMX, "HX-Target": "sync-history"},
    )
    assert poll.status_code == 286  # nothing left running: stop polling
    page = body(poll)
    assert "Succeeded" in page and "<code>order_completed</code> 2" in page
    assert "13 rows" in page
    page = body(owner_client.get(f"/w/{workspace.slug}/warehouses/{warehouse.pk}/"))
    assert 'data-health="Healthy"' in page


def test_a_failed_sync_shows_the_databases_message_and_hint(owner_client, workspace, warehouse):
    operations.update_warehouse(warehouse, None, settings={"port": closed_port()})
    run_all(warehouse)
    page = body(owner_client.get(f"/w/{workspace.slug}/warehouses/{warehouse.pk}/"))
    assert 'data-health="Failing"' in page and "Connection refused" in page
    assert "Hint:" in page and "Failed" in page


def test_sync_now_without_sources_or_disabled_says_why(owner_client, workspace, warehouse, source):
    operations.disconnect_source(warehouse, source, None)
    url = f"/w/{workspace.slug}/warehouses/{warehouse.pk}/sync/"
    assert "Connect a source first" in body(owner_client.post(url, headers=HTMX))
    operations.update_warehouse(warehouse, None, enabled=False)
    response = owner_client.post(url, follow=True)
    assert "Enable the warehouse to sync it." in body(response)
    assert 'data-health="Disabled"' in body(response) and Sync.objects.count() == 0


def test_connect_and_disconnect_a_source(owner_client, workspace, warehouse, source):
    other = make_source(workspace, "javascript", name="Website")
    base = f"/w/{workspace.slug}/warehouses/{warehouse.pk}"
    page = body(owner_client.get(base + "/"))
    assert f'<option value="{other.pk}">' in page and f'<option value="{source.pk}">' not in page
    response = owner_client.post(base + "/sources/", {"source": other.pk}, follow=True)
    assert "Connected Website" in body(response)
    assert ConnectedSource.objects.filter(warehouse=warehouse).count() == 2
    again = owner_client.post(base + "/sources/", {"source": other.pk}, follow=True)
    assert "already connected" in body(again)
    confirm = owner_client.get(f"{base}/sources/{other.pk}/disconnect/")
    assert "Disconnect Website from" in body(confirm)
    owner_client.post(f"{base}/sources/{other.pk}/disconnect/")
    assert not ConnectedSource.objects.filter(source=other).exists()


def test_a_source_of_another_workspace_cannot_be_connected(owner_client, workspace, warehouse):
    theirs = make_source(make_workspace(), "javascript", name="Theirs")
    url = f"/w/{workspace.slug}/warehouses/{warehouse.pk}/sources/"
    assert owner_client.post(url, {"source": theirs.pk}).status_code == 404


def test_free_plan_sees_why_the_schedule_is_fixed(owner_client, workspace, warehouse):
    page = body(owner_client.get(f"/w/{workspace.slug}/warehouses/{warehouse.pk}/"))
    assert "Syncs every 24 hours, the Free plan" in page
    assert "upgrade to Business to choose the schedule" in page
    assert 'name="every_minutes"' not in page
    url = f"/w/{workspace.slug}/warehouses/{warehouse.pk}/schedule/"
    response = owner_client.post(url, {"every_minutes": "60", "timezone": "UTC"}, follow=True)
    assert "upgrade to Business" in body(response)
    warehouse.refresh_from_db()
    assert warehouse.sync_every_minutes is None


def test_business_chooses_an_interval_and_an_advanced_schedule(owner_client, workspace, warehouse):
    set_plan(workspace, Plan.BUSINESS)
    url = f"/w/{workspace.slug}/warehouses/{warehouse.pk}/schedule/"
    page = body(owner_client.get(f"/w/{workspace.slug}/warehouses/{warehouse.pk}/"))
    assert '<option value="5">Every 5 minutes</option>' in page
    owner_client.post(url, {"every_minutes": "5", "timezone": "UTC"})
    warehouse.refresh_from_db()
    assert warehouse.sync_every_minutes == 5
    owner_client.post(
        url,
        {"every_minutes": "", "advanced_enabled": "on", "hours": ["2", "14"],
         "timezone": "Europe/Paris"},
    )  # fmt: skip
    warehouse.refresh_from_db()
    assert warehouse.advanced_schedule_enabled and warehouse.sync_every_minutes is None
    assert warehouse.advanced_schedule["timezone"] == "Europe/Paris"
    on = [t["hourOfDay"] for t in warehouse.advanced_schedule["times"] if t["enabled"]]
    assert on == [2, 14]
    page = body(owner_client.get(f"/w/{workspace.slug}/warehouses/{warehouse.pk}/"))
    assert "Syncs at 02:00, 14:00 (Europe/Paris)" in page


def test_enable_disable_and_delete(owner_client, workspace, warehouse):
    base = f"/w/{workspace.slug}/warehouses/{warehouse.pk}"
    owner_client.post(base + "/toggle/", {"enabled": "false"})
    warehouse.refresh_from_db()
    assert not warehouse.enabled
    assert "Delete Postgres?" in body(owner_client.get(base + "/delete/"))
    response = owner_client.post(base + "/delete/", follow=True)
    assert "Deleted the warehouse" in body(response) and not Warehouse.objects.exists()


# Selective sync


@pytest.fixture
def loaded(live_server, warehouse, source):
    from tests.warehouses.test_loading import send_with_python_client

    send_with_python_client(live_server, source)
    run_all(warehouse)
    return warehouse


def test_business_turns_a_table_and_a_column_off(owner_client, workspace, loaded, source):
    set_plan(workspace, Plan.BUSINESS)
    url = f"/w/{workspace.slug}/warehouses/{loaded.pk}/sources/{source.pk}/selective-sync/"
    page = body(owner_client.get(url))
    assert "<code>order_completed</code>" in page and 'aria-label="Column revenue"' in page
    fragment = owner_client.post(url, {"collection": "pages", "enabled": "false"}, headers=HTMX)
    assert 'id="collection-' in body(fragment) and "Off: this table is not loaded." in body(
        fragment
    )
    owner_client.post(
        url, {"collection": "order_completed", "property": "revenue", "enabled": "false"}
    )
    assert not Collection.objects.get(name="pages").enabled
    assert Collection.objects.get(name="order_completed").disabled_columns == ["revenue"]


def test_free_sees_selective_sync_explained_without_switches(
    owner_client, workspace, loaded, source
):
    url = f"/w/{workspace.slug}/warehouses/{loaded.pk}/sources/{source.pk}/selective-sync/"
    page = body(owner_client.get(url))
    assert "Selective sync is part of the Business plan" in page
    assert "<code>tracks</code>" in page and 'role="switch"' not in page
    response = owner_client.post(url, {"collection": "pages", "enabled": "false"}, follow=True)
    assert "Selective sync is part of the Business plan" in body(response)
    assert Collection.objects.get(name="pages").enabled


# Roles and workspaces


def test_read_only_member_sees_everything_and_no_write_controls(
    client_as, read_only_user, workspace, loaded, source
):
    set_plan(workspace, Plan.BUSINESS)
    client = client_as(read_only_user)
    base = f"/w/{workspace.slug}/warehouses/{loaded.pk}"
    page = body(client.get(base + "/"))
    assert "Sync history" in page and "Connected sources" in page and "Backend" in page
    for control in [">Sync now</button>", "Connect source", "Disconnect", "Test connection",
                    "Save schedule", "Delete this warehouse"]:  # fmt: skip
        assert control not in page, control
    assert "Add Warehouse" not in body(client.get(f"/w/{workspace.slug}/warehouses/"))
    selective = body(client.get(f"{base}/sources/{source.pk}/selective-sync/"))
    assert "<code>tracks</code>" in selective and 'role="switch"' not in selective
    for path in ["/sync/", "/toggle/", "/delete/", "/schedule/", "/settings/"]:
        assert client.post(base + path).status_code == 403, path
    assert Warehouse.objects.filter(pk=loaded.pk, enabled=True).exists()


def test_another_workspaces_warehouse_is_404(client_as, warehouse):
    stranger = make_workspace()
    client = client_as(stranger.memberships.get().user)
    assert client.get(f"/w/{stranger.slug}/warehouses/{warehouse.pk}/").status_code == 404
    assert client.post(f"/w/{stranger.slug}/warehouses/{warehouse.pk}/sync/").status_code == 404


def test_list_shows_health_sources_and_syncs(owner_client, workspace, warehouse):
    page = body(owner_client.get(f"/w/{workspace.slug}/warehouses/"))
    assert "Postgres" in page and "Backend" in page and "Not synced yet" in page
    assert "Never" in page and "in 23\xa0hours" in page


def test_list_queries_do_not_grow_with_warehouses(
    owner_client, workspace, owner, postgres_entry, source, django_assert_num_queries
):
    set_plan(workspace, Plan.BUSINESS)
    settings = {"hostname": "db.example.com", "port": 5432, "database": "d", "username": "u",
                "password": "p", "sslMode": "require"}  # fmt: skip
    url = f"/w/{workspace.slug}/warehouses/"
    owner_client.get(url)

    def add(n):
        for _ in range(n):
            made = operations.create_warehouse(workspace, postgres_entry, owner, settings=settings)
            operations.connect_source(made, source, owner)

    add(1)
    # session, user, membership, warehouses, their connected sources, health, switcher
    with django_assert_num_queries(7):
        owner_client.get(url)
    add(19)
    with django_assert_num_queries(7):
        assert body(owner_client.get(url)).count('data-health="Not synced yet"') == 20
