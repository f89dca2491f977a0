"""Syncs, the advanced schedule and selective sync through the Public API: a sync started with
``POST /syncs`` loads the archived events into a real second PostgreSQL database and is listed with
its row count; a failed one says why; the Business features refuse other plans by rule."""

import base64
import re

import orjson
import pytest
from django.test import Client

from segapp.models import Plan
from tests.api.conftest import errors_of, validate_with_sdk
from tests.api.test_query_counts import queries
from tests.factories import make_source, make_workspace
from warehouses import operations, syncs
from warehouses.models import Sync, Warehouse

# A sync reads the archive on a thread of its own, which sees only committed rows.
pytestmark = pytest.mark.django_db(transaction=True)

CLOSED_PORT = 9
ORDER = {"type": "track", "event": "Order Completed", "userId": "u1"}
EVENTS = [
    {**ORDER, "properties": {"revenue": 12.5, "orderId": "o-1"}},
    {**ORDER, "properties": {"revenue": 30, "orderId": "o-2"}},
    {"type": "track", "event": "Signed Up", "userId": "u2", "properties": {"plan": "team"}},
    {"type": "identify", "userId": "u1", "traits": {"email": "ada@example.com"}},
]
# tracks 3, order_completed 2, signed_up 1, identifies 1, users 1
LOADED = {"tracks": 3, "order_completed": 2, "signed_up": 1, "identifies": 1, "users": 1}


def send(source, messages: list[dict]) -> None:
    """Posts ``messages`` to the tracking API with the source's write key (stored in the archive)."""
    key = base64.b64encode(f"{source.write_keys.get().key}:".encode()).decode()
    response = Client().post("/v1/batch", orjson.dumps({"batch": messages}),
                             content_type="application/json", HTTP_AUTHORIZATION=f"Basic {key}")  # fmt: skip
    assert response.status_code == 200, response.content


def run_syncs_now(api, warehouse_id: str) -> dict:
    """``POST /syncs``, then what a worker does with each sync it started."""
    started = api.post(f"/warehouses/{warehouse_id}/syncs")
    assert started.status_code == 200, started.content
    for sync_id in Sync.objects.filter(warehouse_id=warehouse_id, status="PENDING").values_list(
        "pk", flat=True
    ):
        while syncs.run(sync_id):
            pass
    return started.json()["data"]


@pytest.fixture
def business(api_as, catalog):
    """A Business workspace's API, with a source."""
    workspace = make_workspace(name="Big", plan=Plan.BUSINESS)
    api = api_as(ws=workspace)
    api.source = make_source(workspace, "http-api", name="Backend")
    return api


def add_warehouse(api, postgres, settings, source) -> str:
    made = api.post("/warehouses", {"metadataId": postgres.pk, "settings": settings})
    assert made.status_code == 201, made.content
    warehouse_id = made.json()["data"]["warehouse"]["id"]
    assert api.post(f"/warehouses/{warehouse_id}/connected-sources/{source.pk}").status_code == 201
    return warehouse_id


def test_sync_started_by_post_loads_the_events_and_is_listed_with_its_count(
    api, postgres, warehouse_db, reader, source, workspace
):
    warehouse_id = add_warehouse(api, postgres, warehouse_db, source)
    send(source, EVENTS)

    started = run_syncs_now(api, warehouse_id)

    (pending,) = started["reports"]
    assert (pending["sourceId"], pending["status"], pending["count"]) == (source.pk, "PENDING", 0)
    assert pending["end"] is None and pending["notices"] == []
    assert {t: reader.count("website", t) for t in reader.tables("website")} == LOADED
    listed = api.get(f"/warehouses/{warehouse_id}/syncs").json()["data"]
    (report,) = listed["reports"]
    assert (report["status"], report["count"], report["notices"]) == ("SUCCESS", 8, [])
    assert report["end"] >= report["start"] and report["duration"] >= 0
    assert re.fullmatch(r"\d+s", report["humanDuration"])
    path = f"/warehouses/{warehouse_id}/connected-sources/{source.pk}/syncs"
    for_source = api.get(path).json()["data"]
    assert for_source["reports"] == [report]
    other = make_source(workspace, "http-api", name="Other")
    assert (
        api.get(f"/warehouses/{warehouse_id}/connected-sources/{other.pk}/syncs").json()["data"][
            "reports"
        ]
        == []
    )

    # The tables the sync made, each with its columns, all loaded.
    path = f"/warehouses/{warehouse_id}/connected-sources/{source.pk}/selective-syncs"
    tables = api.get(path).json()["data"]
    assert [item["collection"] for item in tables["items"]] == sorted(LOADED)
    order = next(i for i in tables["items"] if i["collection"] == "order_completed")
    assert order["enabled"] is True and order["warehouseId"] == warehouse_id
    assert order["properties"]["revenue"] is True and order["properties"]["order_id"] is True

    # A second sync loads nothing new, and is listed first.
    run_syncs_now(api, warehouse_id)
    counts = [r["count"] for r in api.get(f"/warehouses/{warehouse_id}/syncs").json()["data"]["reports"]]  # fmt: skip
    assert counts == [0, 8]
    validate_with_sdk([
        {"model": "ListSyncsFromWarehouseV1Output", "value": listed},
        {"model": "ListSyncsFromWarehouseAndSourceV1Output", "value": for_source},
        {"model": "ListSyncsFromWarehouseV1Output", "value": started | {"pagination": listed["pagination"]}},
        {"model": "ListSelectiveSyncsFromWarehouseAndSourceV1Output", "value": tables},
    ])  # fmt: skip


def test_failed_sync_lists_the_databases_error_and_a_hint(api, postgres, warehouse_db, source):
    closed = {**warehouse_db, "port": CLOSED_PORT}
    warehouse_id = add_warehouse(api, postgres, closed, source)
    send(source, EVENTS)

    run_syncs_now(api, warehouse_id)

    (report,) = api.get(f"/warehouses/{warehouse_id}/syncs").json()["data"]["reports"]
    sync = Sync.objects.get()
    assert (report["status"], report["count"]) == ("FAILED", 0)
    error, hint = report["notices"]
    assert (error["level"], error["message"]) == ("error", sync.error)
    assert "refused" in error["message"] or "connect" in error["message"]
    assert (hint["level"], hint["message"]) == ("info", sync.hint)
    assert "port" in hint["message"]


def test_sync_now_needs_a_connected_source_and_an_enabled_warehouse(
    api, postgres, warehouse_db, source
):
    made = api.post("/warehouses", {"metadataId": postgres.pk, "settings": warehouse_db})
    path = f"/warehouses/{made.json()['data']['warehouse']['id']}"
    assert errors_of(api.post(f"{path}/syncs"), 409)[0]["type"] == "warehouse-no-sources"
    api.post(f"{path}/connected-sources/{source.pk}")
    api.patch(path, {"enabled": False})
    assert errors_of(api.post(f"{path}/syncs"), 409)[0]["type"] == "warehouse-disabled"
    assert not Sync.objects.exists()


SCHEDULE = {
    "times": [{"hourOfDay": 18, "enabled": True}, {"hourOfDay": 6, "enabled": True}],
    "timezone": "Europe/Paris",
}


def test_advanced_schedule_is_for_business_and_checked(
    api, business, postgres, warehouse_db, source
):
    free_path = f"/warehouses/{add_warehouse(api, postgres, warehouse_db, source)}"
    assert api.get(f"{free_path}/advanced-sync-schedule").json() == {"data": {"enabled": False}}
    refused = api.client.put(f"/api{free_path}/advanced-sync-schedule", orjson.dumps({"enabled": True, "schedule": SCHEDULE}), "application/json", headers=api.headers)  # fmt: skip
    assert errors_of(refused, 422)[0]["type"] == "sync-schedule-business"

    path = f"/warehouses/{add_warehouse(business, postgres, warehouse_db, business.source)}"

    def put(body):
        return business.client.put(f"/api{path}/advanced-sync-schedule", orjson.dumps(body),
                                   "application/json", headers=business.headers)  # fmt: skip

    replaced = put({"enabled": True, "schedule": SCHEDULE})
    assert replaced.status_code == 200, replaced.content
    expected = {"enabled": True, "schedule": {
        "times": [{"hourOfDay": 6, "enabled": True}, {"hourOfDay": 18, "enabled": True}],
        "timezone": "Europe/Paris",
    }}  # fmt: skip
    assert replaced.json()["data"] == expected
    got = business.get(f"{path}/advanced-sync-schedule").json()["data"]
    assert got == expected
    for body, field in [
        ({"enabled": True, "schedule": {**SCHEDULE, "timezone": "Mars/Olympus"}}, "schedule.timezone"),
        ({"enabled": True, "schedule": {**SCHEDULE, "times": [{"hourOfDay": 24, "enabled": True}]}}, "schedule.times"),
        ({"enabled": True, "schedule": {**SCHEDULE, "times": "6"}}, "schedule.times"),
        ({"schedule": SCHEDULE}, "enabled"),
    ]:  # fmt: skip
        assert errors_of(put(body), 422)[0]["field"] == field, body
    assert put({"enabled": False}).json()["data"] == {**expected, "enabled": False}
    validate_with_sdk([
        {"model": "ReplaceAdvancedSyncScheduleForWarehouseV1Output", "value": replaced.json()["data"]},
        {"model": "GetAdvancedSyncScheduleFromWarehouseV1Output", "value": got},
    ])  # fmt: skip


def test_selective_sync_is_for_business_and_turns_tables_and_columns_off(
    api, business, postgres, warehouse_db, source
):
    free_id = add_warehouse(api, postgres, warehouse_db, source)
    off = {"syncOverrides": [{"sourceId": source.pk, "collection": "tracks", "enabled": False}]}
    refused = errors_of(api.patch(f"/warehouses/{free_id}/selective-sync", off), 422)
    assert refused[0]["type"] == "selective-sync-business"

    source = business.source
    warehouse_id = add_warehouse(business, postgres, warehouse_db, source)
    send(source, EVENTS)
    run_syncs_now(business, warehouse_id)
    path = f"/warehouses/{warehouse_id}/selective-sync"

    def change(*overrides):
        return business.patch(path, {"syncOverrides": [{"sourceId": source.pk, **o} for o in overrides]})  # fmt: skip

    updated = change({"collection": "order_completed", "enabled": False},
                     {"collection": "tracks", "property": "event_text", "enabled": False})  # fmt: skip
    assert updated.json() == {"data": {"status": "UPDATED", "warnings": []}}
    again = change({"collection": "order_completed", "enabled": False})
    assert again.json() == {"data": {"status": "UNCHANGED", "warnings": []}}
    ahead = change({"collection": "refunds", "enabled": False}).json()["data"]
    assert ahead["status"] == "UPDATED" and "refunds" in ahead["warnings"][0]

    listed = business.get(f"/warehouses/{warehouse_id}/connected-sources/{source.pk}/selective-syncs")  # fmt: skip
    items = {i["collection"]: i for i in listed.json()["data"]["items"]}
    assert items["order_completed"]["enabled"] is False and items["refunds"]["enabled"] is False
    assert items["tracks"]["enabled"] is True
    assert items["tracks"]["properties"]["event_text"] is False
    assert items["tracks"]["properties"]["event"] is True

    stranger = make_source(source.workspace, "http-api", name="Unconnected")
    (error,) = errors_of(business.patch(path, {"syncOverrides": [{"sourceId": stranger.pk, "enabled": False}]}), 422)  # fmt: skip
    assert (error["type"], error["field"]) == ("warehouse-source-not-connected", "syncOverrides")
    shape = errors_of(business.patch(path, {"syncOverrides": [{"sourceId": source.pk}]}), 422)
    assert shape[0]["field"].startswith("syncOverrides") and "enabled" in shape[0]["field"]
    validate_with_sdk([
        {"model": "UpdateSelectiveSyncForWarehouseV1Output", "value": updated.json()["data"]},
        {"model": "ListSelectiveSyncsFromWarehouseAndSourceV1Output", "value": listed.json()["data"]},
    ])  # fmt: skip


def test_warehouse_lists_query_the_same_for_1_and_20_rows(business, postgres):
    closed = {"hostname": "127.0.0.1", "port": CLOSED_PORT, "database": "analytics",
              "username": "loader", "password": "secret", "sslMode": "disable"}  # fmt: skip
    source = business.source
    first = add_warehouse(business, postgres, closed, source)
    run_syncs_now(business, first)
    expected = {
        # token, rate-limit upsert, count, page (with its catalog entries)
        "/warehouses": 4,
        # token, rate-limit upsert, the warehouse, count, page
        f"/warehouses/{first}/syncs": 5,
        # token, rate-limit upsert, the warehouse, count, page, the page's write keys
        f"/warehouses/{first}/connected-sources": 6,
        # token, rate-limit upsert, the source, count, page (with its catalog entries)
        f"/sources/{source.pk}/connected-warehouses": 5,
    }
    paths = list(expected)
    one = [queries(business, path) for path in paths]
    warehouse = Warehouse.objects.get(pk=first)
    for n in range(19):
        add_warehouse(business, postgres, closed, source)
        other = make_source(source.workspace, "http-api", name=f"Backend {n}")
        operations.connect_source(warehouse, other, None)
        run_syncs_now(business, first)
    twenty = [queries(business, path) for path in paths]
    assert one == twenty == list(expected.values())
