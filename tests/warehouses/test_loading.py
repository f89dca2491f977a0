"""Events stored by the tracking API end in the customer's PostgreSQL in Segment's warehouse
schema: the right tables, columns and counts; once each, whatever is re-run."""

import re

from django.urls import reverse
from segment.analytics import Client

from connections.transformations import create_transformation
from warehouses import syncs
from warehouses.models import ConnectedSource, Sync, SyncStatus, SyncTrigger


def sync_once(warehouse) -> Sync:
    connected = ConnectedSource.objects.get(warehouse=warehouse)
    sync, new = syncs.start(connected, SyncTrigger.MANUAL)
    assert new
    while syncs.run(sync.pk):
        pass
    sync.refresh_from_db()
    return sync


def send_with_python_client(live_server, source) -> list[dict]:
    client = Client(source.write_keys.get().key, host=live_server.url, max_retries=1)
    sent = [
        client.identify(
            "u1", {"email": "ada@example.com", "plan": "pro", "address": {"city": "Paris"}}
        ),
        client.track("u1", "Order Completed", {"revenue": 12.5, "orderId": "o-1", "coupon": None}),
        client.track("u1", "Order Completed", {"revenue": 30, "orderId": "o-2", "items": [1, 2]}),
        client.track("u2", "Signed Up", {"plan": "team", "accountType": "Facebook"}),
        client.page("u1", "Docs", "Install", {"url": "https://example.com/docs"}),
        client.screen("u1", "Feed", "Home"),
        client.group("u1", "g1", {"name": "Acme", "employees": 40}),
        client.alias("u1", "u1-new"),
        client.identify("u1", {"plan": "enterprise"}),
    ]
    client.shutdown()
    assert all(ok for ok, _ in sent)
    return [message for _, message in sent]


def test_official_client_events_land_in_segments_warehouse_schema(
    live_server, source, warehouse, reader
):
    messages = send_with_python_client(live_server, source)

    sync = sync_once(warehouse)

    assert sync.status == SyncStatus.SUCCESS, sync.error
    schema = "backend"
    assert reader.tables(schema) == {
        "identifies", "users", "tracks", "order_completed", "signed_up", "pages", "screens",
        "groups", "aliases",
    }  # fmt: skip
    counts = {table: reader.count(schema, table) for table in reader.tables(schema)}
    assert counts == {
        "identifies": 2, "users": 1, "tracks": 3, "order_completed": 2, "signed_up": 1,
        "pages": 1, "screens": 1, "groups": 1, "aliases": 1,
    }  # fmt: skip
    assert sync.rows == sum(counts.values()) and sync.rows_by_table == counts

    order = reader.columns(schema, "order_completed")
    for column, kind in {
        "id": "text", "received_at": "timestamp with time zone", "sent_at": "timestamp with time zone",
        "original_timestamp": "timestamp with time zone", "timestamp": "timestamp with time zone",
        "user_id": "text", "anonymous_id": "text", "event": "text", "event_text": "text",
        "revenue": "double precision", "order_id": "text", "items": "text",
        "context_library_name": "text", "context_library_version": "text",
        "uuid_ts": "timestamp with time zone", "loaded_at": "timestamp with time zone",
    }.items():  # fmt: skip
        assert order.get(column) == kind, column
    assert "coupon" not in order  # a null property makes no column
    assert "revenue" not in reader.columns(schema, "tracks")  # properties live in event tables

    completed = {m["messageId"]: m for m in messages if m.get("event") == "Order Completed"}
    rows = reader.query(
        "SELECT id, event, event_text, revenue, order_id, items, user_id FROM backend.order_completed"
    )
    assert {row[0] for row in rows} == set(completed)
    assert {(r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows} == {
        ("order_completed", "Order Completed", 12.5, "o-1", None, "u1"),
        ("order_completed", "Order Completed", 30.0, "o-2", "[1,2]", "u1"),
    }
    signed_up = reader.columns(schema, "signed_up")
    assert {"plan", "account_type"} <= set(signed_up)
    assert {"email", "plan", "address_city"} <= set(reader.columns(schema, "identifies"))
    assert reader.query("SELECT id, email, plan, address_city FROM backend.users") == [
        ("u1", "ada@example.com", "enterprise", "Paris")  # the newest traits, the older kept
    ]
    assert "anonymous_id" not in reader.columns(schema, "users")
    assert reader.query("SELECT name, url FROM backend.pages") == [
        ("Install", "https://example.com/docs")
    ]
    assert reader.query("SELECT group_id, name, employees FROM backend.groups") == [
        ("g1", "Acme", 40)
    ]
    assert reader.query("SELECT user_id, previous_id FROM backend.aliases") == [("u1-new", "u1")]


def test_a_second_sync_loads_only_what_is_new(live_server, source, warehouse, reader):
    send_with_python_client(live_server, source)
    first = sync_once(warehouse)
    assert first.rows == 13

    again = sync_once(warehouse)
    assert (again.status, again.rows) == (SyncStatus.SUCCESS, 0)

    send_with_python_client(live_server, source)
    third = sync_once(warehouse)
    assert third.rows_by_table["users"] == 1  # the same user again: updated, not added
    assert reader.count("backend", "tracks") == 6
    assert reader.count("backend", "users") == 1


def test_a_chunk_loaded_again_adds_no_row(live_server, source, warehouse, reader):
    """As after a crash between the warehouse's commit and the mark's move."""
    send_with_python_client(live_server, source)
    sync_once(warehouse)
    before = {t: reader.count("backend", t) for t in reader.tables("backend")}

    ConnectedSource.objects.filter(warehouse=warehouse).update(loaded_through=0)
    replayed = sync_once(warehouse)

    assert replayed.status == SyncStatus.SUCCESS and replayed.rows == 1  # users, re-applied
    assert {t: reader.count("backend", t) for t in reader.tables("backend")} == before


def test_source_transformations_apply_as_for_destinations(live_server, source, warehouse, reader):
    create_transformation(source, None, {
        "name": "Rename sign-ups", "target": "track", "event_name": "Signed Up",
        "new_event_name": "Account Created", "renames": {"accountType": "account_kind"},
    })  # fmt: skip
    send_with_python_client(live_server, source)

    sync_once(warehouse)

    assert "signed_up" not in reader.tables("backend")
    assert reader.query("SELECT event_text, plan, account_kind FROM backend.account_created") == [
        ("Account Created", "team", "Facebook")
    ]


def test_delivery_overview_counts_the_events_a_warehouse_loaded(
    live_server, source, warehouse, owner, client_as
):
    send_with_python_client(live_server, source)
    sync_once(warehouse)
    sync_once(warehouse)  # nothing new: nothing counted twice

    url = reverse("delivery:delivery-overview", args=[source.workspace.slug, source.pk])
    page = client_as(owner).get(url)

    assert page.status_code == 200
    row = re.search(rf'<tr id="overview-{warehouse.pk}">(.*?)</tr>', page.content.decode(), re.S)
    assert row is not None, "no row for the warehouse"
    detail = reverse("warehouses:detail", args=[source.workspace.slug, warehouse.pk])
    assert f'href="{detail}"' in row[1] and "Postgres · warehouse" in row[1]
    # Events loaded, not rows: 9 calls made 13 rows.
    assert re.search(r'class="num successful-delivery"[^>]*>9<', row[1]), row[1]
