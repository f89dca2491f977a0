"""Segment's official TypeScript Public API client manages a live Segapp's warehouses with its own
``WarehousesApi``, ``SelectiveSyncApi`` and ``SourcesApi`` methods, against a real second PostgreSQL
database: the sync it starts is run as a worker would, then read back with its row count."""

import json
import subprocess

import pytest
import requests

from catalog.models import DestinationMetadata
from connections.models import MASK
from segapp.models import AuditEntry, Plan
from tests.factories import make_source, make_token, make_workspace
from tests.processes import REPO
from warehouses import syncs
from warehouses.models import Sync, Warehouse

EVENTS = [
    {"type": "track", "event": "Order Completed", "userId": "u1", "properties": {"total": 3}},
    {"type": "track", "event": "Signed Up", "userId": "u2"},
    {"type": "identify", "userId": "u1", "traits": {"email": "ada@example.com"}},
]
LOADED = {"tracks": 2, "order_completed": 1, "signed_up": 1, "identifies": 1, "users": 1}


def flow(*args) -> dict:
    result = subprocess.run(
        ["node", "warehouses_api_flow.js", *args], cwd=REPO / "tests" / "clients",
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(result.stdout)


@pytest.mark.slow
def test_official_sdk_manages_warehouses_selective_sync_and_the_schedule(
    catalog, live_server, warehouse_db, reader
):
    workspace = make_workspace(name="Big", plan=Plan.BUSINESS)
    source = make_source(workspace, "http-api", name="Backend")
    response = requests.post(f"{live_server.url}/v1/batch", json={"batch": EVENTS},
                             auth=(source.write_keys.get().key, ""), timeout=10)  # fmt: skip
    assert response.status_code == 200, response.text
    token, raw = make_token(workspace)
    _, free_raw = make_token(make_workspace(name="Small", plan=Plan.FREE))
    postgres = DestinationMetadata.objects.get(slug="postgres")
    snowflake = DestinationMetadata.objects.get(slug="snowflake")

    connected = flow("connect", live_server.url, raw, free_raw, json.dumps(warehouse_db),
                     postgres.pk, snowflake.pk, source.pk)  # fmt: skip

    warehouse_id = connected["created"]["id"]
    assert connected["validation"] == {"good": "CONNECTED", "closedPort": "FAILED"}
    assert connected["snowflake"]["status"] == 422
    assert connected["snowflake"]["type"] == "warehouse-not-available"
    assert connected["snowflake"]["field"] == "metadataId"
    assert connected["created"] == {
        "id": warehouse_id, "name": "Analytics", "password": MASK, "shape": "ok",
        "metadata": "postgres",
    }  # fmt: skip
    assert connected["connectionState"] == "CONNECTED"
    assert connected["added"] == "CONNECTED"
    assert connected["addedTwice"]["status"] == 409
    assert connected["addedTwice"]["type"] == "warehouse-source-connected"
    assert connected["connectedSources"] == {"ids": [source.pk], "shape": "ok", "total": 1}
    assert connected["connectedWarehouses"] == [warehouse_id]
    assert connected["listed"] == {"ids": [warehouse_id], "total": 1}
    free = connected["free"]
    assert (free["second"]["status"], free["second"]["type"]) == (409, "warehouse-plan-limit")
    assert (free["schedule"]["status"], free["schedule"]["type"]) == (422, "sync-schedule-business")
    assert (free["selectiveSync"]["status"], free["selectiveSync"]["type"]) == (
        422,
        "selective-sync-business",
    )
    assert connected["started"] == {
        "status": 200, "reports": [{"sourceId": source.pk, "status": "PENDING"}],
    }  # fmt: skip

    # What a worker does with the task the request queued.
    sync = Sync.objects.get(warehouse_id=warehouse_id)
    while syncs.run(sync.pk):
        pass
    assert {t: reader.count("backend", t) for t in reader.tables("backend")} == LOADED

    seen = flow("inspect", live_server.url, raw, warehouse_id, source.pk)

    assert seen["syncs"] == {
        "total": 1, "status": "SUCCESS", "count": sum(LOADED.values()), "notices": [],
        "shape": "ok", "ended": True,
    }  # fmt: skip
    assert seen["sourceSyncCounts"] == [sum(LOADED.values())]
    assert seen["collections"] == sorted(LOADED)
    assert seen["itemShape"] == "ok"
    assert seen["turnedOff"] == {"status": "UPDATED", "warnings": []}
    assert seen["again"] == {"status": "UNCHANGED", "warnings": []}
    assert seen["after"] == {"signedUp": False, "eventText": False, "event": True}
    assert seen["notConnected"]["status"] == 422
    assert seen["notConnected"]["type"] == "warehouse-source-not-connected"
    assert seen["scheduleBefore"] == {"enabled": False}
    schedule = {
        "times": [{"hourOfDay": 8, "enabled": True}, {"hourOfDay": 20, "enabled": True}],
        "timezone": "America/New_York",
    }
    assert (
        seen["scheduleReplaced"] == seen["scheduleRead"] == {"enabled": True, "schedule": schedule}
    )
    assert (seen["badHour"]["status"], seen["badHour"]["field"]) == (422, "schedule.times")
    assert seen["updated"] == {"name": "BI", "password": MASK, "state": "CONNECTED"}
    assert seen["removed"] == "SUCCESS" and seen["connectedAfter"] == 0
    assert seen["deleted"] == "SUCCESS"
    assert seen["missing"]["status"] == 404

    assert not Warehouse.objects.filter(workspace=workspace).exists()
    actions = set(AuditEntry.objects.filter(actor_token=token).values_list("action", flat=True))
    assert actions == {
        "warehouse.created", "warehouse.source_connected", "warehouse.sync_started",
        "warehouse.selective_sync_changed", "warehouse.schedule_changed", "warehouse.updated",
        "warehouse.source_disconnected", "warehouse.deleted",
    }  # fmt: skip
