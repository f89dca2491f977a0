"""docs/grafana-dashboard.json asks only for metrics ``/metrics`` exposes, and shows every metric
README lists."""

import json
import re

import orjson
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from connections.instances import set_enabled
from delivery import deliveries, routing, tasks
from delivery.models import DeliveryJob, IngestBatch, JobState
from tests.factories import make_instance, make_source
from tests.processes import REPO

DASHBOARD = REPO / "docs" / "grafana-dashboard.json"
METRIC = re.compile(r"\bsegapp_[a-z0-9_]+")
SUFFIXES = ("_bucket", "_count", "_sum", "_total")


def expressions(node) -> list[str]:
    """Every PromQL expression in the dashboard, however deep its panel."""
    if isinstance(node, dict):
        found = [node["expr"]] if isinstance(node.get("expr"), str) else []
        return found + [e for value in node.values() for e in expressions(value)]
    if isinstance(node, list):
        return [e for item in node for e in expressions(item)]
    return []


def dashboard_metrics() -> set[str]:
    return {
        name
        for expr in expressions(json.loads(DASHBOARD.read_text()))
        for name in METRIC.findall(expr)
    }


def exposed(text: str) -> set[str]:
    """Metric family names and sample names of a scrape."""
    names = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
    return names


def is_exposed(name: str, names: set[str]) -> bool:
    return name in names or any(name.endswith(s) and name[: -len(s)] in names for s in SUFFIXES)


def make_traffic(workspace, sink) -> None:
    """One request to the tracking API, routed and delivered to a sink, as a worker would."""
    source = make_source(workspace, "javascript", name="Website")
    hook = make_instance(source, "webhooks", settings={"webhookUrls": [f"{sink.url}/hook"]})
    set_enabled(hook, True, None)
    body = {
        "writeKey": source.write_keys.get().key,
        "batch": [{"type": "track", "event": "E", "userId": "u"}],
    }
    response = Client().post("/v1/batch", orjson.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.content
    batch = IngestBatch.objects.get(source_id=source.pk)
    assert IngestBatch.claim(batch.pk, routing.ROUTING_LEASE)
    (job_id,) = routing.route_batch(batch.pk)
    deliveries.deliver_job(job_id)
    assert DeliveryJob.objects.get(pk=job_id).state == JobState.DONE
    assert len(sink.received) == 1
    # A task waiting in the broker: on Redis an empty queue does not exist, and a passive declare
    # of it fails, so the queue-length gauge is only exposed while something waits.
    assert tasks.queue_routing(batch.pk)


def test_the_dashboard_asks_only_for_metrics_that_are_exposed(
    catalog, workspace, sink, broker, settings
):
    settings.EGRESS_ALLOW_PRIVATE = True
    make_traffic(workspace, sink)
    response = Client().get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    names = exposed(response.content.decode())

    used = dashboard_metrics()
    assert "segapp_deliveries_total" in used and "segapp_broker_queue_length" in used
    assert sorted(n for n in used if not is_exposed(n, names)) == []
    # The check can fail: a name the code does not expose is caught.
    assert not is_exposed("segapp_deliveries_failed_total", names)


def test_the_dashboard_shows_every_metric_readme_lists():
    readme = (REPO / "README.md").read_text()
    paragraph = readme[readme.index("Prometheus scrapes") : readme.index("### Settings")]
    listed = set(METRIC.findall(paragraph))
    assert len(listed) >= 12
    used = {re.sub(r"_(bucket|count|sum)$", "", name) for name in dashboard_metrics()}
    assert sorted(listed - used) == []


def test_the_dashboard_imports_with_a_prometheus_data_source_input():
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["schemaVersion"] == 39
    assert [i["name"] for i in dashboard["__inputs"]] == ["DS_PROMETHEUS"]
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert panels and all(p["datasource"]["uid"] == "${DS_PROMETHEUS}" for p in panels)
    assert all(t["datasource"]["uid"] == "${DS_PROMETHEUS}" for p in panels for t in p["targets"])
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
