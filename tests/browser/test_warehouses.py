"""The warehouses console in Chromium: Catalog → Warehouses → Postgres → Configure → Test
connection → Save → connect a source → Sync now → the history shows the rows; and a Free
workspace with a warehouse is told why it cannot add a second."""

import re

import pytest
from playwright.sync_api import expect

from catalog.models import DestinationMetadata
from tests.factories import make_source
from tests.warehouses.test_loading import send_with_python_client
from warehouses import operations, syncs
from warehouses.models import Sync, SyncStatus, Warehouse

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def console(signed_in, owner, workspace, catalog):
    return signed_in(owner)


def open_postgres_entry(page):
    page.get_by_role("link", name="Catalog").click()
    page.get_by_role("navigation", name="Catalog tabs").get_by_role(
        "link", name="Warehouses"
    ).click()
    page.locator(".catalog-card", has=page.get_by_text("Postgres", exact=True)).click()
    expect(page.get_by_role("heading", name="Postgres")).to_be_visible()


def test_add_postgres_connect_a_source_and_sync(console, live_server, workspace, warehouse_db):
    page = console
    source = make_source(workspace, "http-api", name="Backend")
    send_with_python_client(live_server, source)

    open_postgres_entry(page)
    page.get_by_role("link", name="Configure Postgres").click()
    page.get_by_label("Warehouse name").fill("Analytics")
    page.get_by_label("Hostname").fill(warehouse_db["hostname"])
    page.get_by_label("Port").fill(str(warehouse_db["port"]))
    page.get_by_label(re.compile(r"^Database")).fill(warehouse_db["database"])
    page.get_by_label("Username").fill(warehouse_db["username"])
    page.get_by_label("Password").fill(warehouse_db["password"])
    page.get_by_label("SSL mode").select_option("disable")
    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_text("Connected.")).to_be_visible()
    assert not Warehouse.objects.exists()  # testing saves nothing

    page.get_by_role("button", name="Save warehouse").click()
    expect(page.get_by_role("heading", name="Analytics")).to_be_visible()
    expect(page.get_by_text("Not synced yet").first).to_be_visible()
    warehouse = Warehouse.objects.get()
    assert warehouse.secrets == {"password": warehouse_db["password"]}

    page.get_by_label("Source to connect").select_option(label="Backend (backend)")
    page.get_by_role("button", name="Connect source").click()
    expect(page.get_by_text("Connected Backend")).to_be_visible()

    url_before = page.url
    page.get_by_role("button", name="Sync now").click()
    expect(page.get_by_text("Sync started for 1 source.")).to_be_visible()
    assert page.url == url_before  # the history swapped in place
    sync = Sync.objects.get()
    while syncs.run(sync.pk):  # what a worker does with the task the button sent
        pass
    # The history polls while a sync runs, and shows the finished one.
    expect(page.locator(".sync-history").get_by_text("Succeeded")).to_be_visible()
    page.get_by_text("13 rows").click()
    expect(page.locator(".per-table").get_by_text("order_completed")).to_be_visible()
    sync.refresh_from_db()
    assert sync.status == SyncStatus.SUCCESS and sync.rows == 13

    page.get_by_role("link", name="Warehouses", exact=True).click()
    row = page.locator("tr", has=page.get_by_role("link", name="Analytics"))
    expect(row.get_by_text("Healthy")).to_be_visible()
    expect(row.get_by_text("Backend")).to_be_visible()


def test_a_free_workspace_with_a_warehouse_is_told_why_not_a_second(
    console, workspace, owner, warehouse_db
):
    page = console
    postgres = DestinationMetadata.objects.get(slug="postgres")
    existing = operations.create_warehouse(
        workspace, postgres, owner, settings=warehouse_db, name="Main DB"
    )
    open_postgres_entry(page)
    expect(page.get_by_role("link", name="Configure Postgres")).to_have_count(0)
    refusal = page.locator("#configure-refusal")
    expect(refusal).to_contain_text("Free and Team workspaces connect one warehouse")
    page.goto(f"/w/{workspace.slug}/warehouses/new/postgres/")
    expect(page.get_by_role("button", name="Save warehouse")).to_have_count(0)
    expect(page.locator("#configure-refusal")).to_contain_text("upgrade to Business for more")
    page.get_by_role("link", name="Open Main DB").click()
    expect(page.get_by_role("heading", name="Main DB")).to_be_visible()
    assert page.url.endswith(f"/warehouses/{existing.pk}/")
