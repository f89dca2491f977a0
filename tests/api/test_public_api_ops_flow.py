"""Segment's official TypeScript Public API client reads a live Segapp's audit trail, Delivery
Overview and events volume with its own methods, after real traffic: events posted to
``/v1/batch``, routed and delivered to an HTTP sink on 127.0.0.1 by the worker's tasks."""

import json
import subprocess
from datetime import UTC, timedelta

import pytest
import requests
from django.utils import timezone

from delivery import tasks
from delivery.models import DeliveryJob, IngestBatch
from delivery.overview import DUPLICATE_REASON
from tests.factories import make_instance, make_source, make_token
from tests.processes import REPO


def post_batch(base_url: str, write_key: str, messages: list[dict]) -> None:
    response = requests.post(f"{base_url}/v1/batch", json={"batch": messages},
                             auth=(write_key, ""), timeout=10)  # fmt: skip
    assert response.status_code == 200, response.text


def route_and_deliver() -> None:
    """What workers do: route every batch, then send every due job (to the sink)."""
    for batch_id in IngestBatch.objects.filter(routed_at__isnull=True).values_list("pk", flat=True):
        tasks.route_batch(batch_id)
    for job_id in DeliveryJob.objects.filter(state="pending").values_list("pk", flat=True):
        tasks.deliver_job(job_id)


@pytest.mark.slow
def test_official_sdk_reads_audit_trail_delivery_overview_and_volume(
    catalog, live_server, workspace, sink
):
    source = make_source(workspace, "javascript", name="Shop")
    hook = make_instance(source, "webhooks", name="Hook", enabled=True,
                         settings={"webhookUrls": [f"{sink.url}/hook"]})  # fmt: skip
    key = source.write_keys.get().key
    order = {"type": "track", "event": "Order Completed", "userId": "u1"}
    post_batch(live_server.url, key, [
        {**order, "messageId": "m1"}, {**order, "messageId": "m2"}, {**order, "messageId": "m3"},
        {"type": "track", "event": "Signed Up", "userId": "u1", "messageId": "m4",
         "integrations": {"All": False}},
    ])  # fmt: skip
    post_batch(live_server.url, key, [{**order, "messageId": "m1"}])  # a duplicate
    route_and_deliver()
    assert len(sink.received) >= 1  # the hook really got the orders

    _, raw = make_token(workspace)
    start = timezone.now().astimezone(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(
        hours=1
    )
    args = [live_server.url, raw, source.pk, hook.pk, start.isoformat(),
            (start + timedelta(hours=3)).isoformat()]  # fmt: skip
    result = subprocess.run(["node", "ops_api_flow.js", *args], cwd=REPO / "tests" / "clients",
                            capture_output=True, text=True, timeout=180)  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.loads(result.stdout)

    assert summary["audit"]["newest"] == {
        "type": "Renamed destination", "resourceId": hook.pk, "resourceName": "Ops hook",
        "resourceType": "Destination", "actor": "API token “test token”",
    }  # fmt: skip
    assert summary["audit"]["secondIsOlder"] is True
    assert summary["audit"]["forHook"][0] == "Renamed destination"
    assert summary["overview"] == {
        "received": 5, "failedOnIngest": 0, "filteredAtSource": {DUPLICATE_REASON: 1},
        "filteredAtDestination": {'integrations object: "All": false': 1}, "failed": 0,
        "delivered": 3, "deliveredSeries": 3,
        "byEventName": {"status": 422, "field": "groupBy"},
    }  # fmt: skip
    assert summary["volume"] == {
        "byName": {"Order Completed": 3, "Signed Up": 1},
        "bySource": [{"id": source.pk, "total": 4}],
        "appVersion": {"status": 422, "field": "appVersion"},
    }
