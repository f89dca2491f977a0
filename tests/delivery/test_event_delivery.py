"""Event Delivery (per instance) and Delivery Overview (per source) over the engine's real
counters: the numbers, the errors with what was sent, dead letters and re-delivery, and a
bounded number of queries with a million recorded events."""

import re
import time
from datetime import timedelta

import orjson
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from connections import filters
from connections.instances import set_enabled
from delivery import counters, deliveries, tasks
from delivery.models import (
    DeliveryCounter,
    DeliveryJob,
    IngestCounter,
    InstanceHealth,
    JobState,
    Outcome,
    RedeliveryRun,
)
from segapp.models import AuditEntry
from tests.delivery.test_engine import deliver_all, ingest_and_route
from tests.delivery.test_pipeline import hook
from tests.factories import make_source
from tests.sinks import Reply

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def source(catalog, workspace):
    return make_source(workspace, "javascript", name="Website")


@pytest.fixture(autouse=True)
def fast(settings):
    settings.EGRESS_ALLOW_PRIVATE = True
    settings.DELIVERY_RETRY_BASE_DELAY = 0


def shown(html: str, element_id: str) -> str:
    return re.search(rf'id="{element_id}">([^<]*)<', html).group(1).strip()


def page(client, workspace, instance, window="1h") -> str:
    response = client.get(
        f"/w/{workspace.slug}/destinations/{instance.pk}/delivery/", {"window": window}
    )
    assert response.status_code == 200
    return response.content.decode()


def test_counts_errors_and_what_was_sent(source, sink, api, workspace, owner, client_as):
    instance = hook(source, sink, "A")
    filters.create_filter(
        instance, None, title="No tests", condition="event = 'Test'", actions=[{"type": "DROP"}]
    )
    ingest_and_route(api, [
        {"type": "track", "event": "Paid", "userId": "u1", "messageId": "ok-1"},
        {"type": "track", "event": "Test", "userId": "u3", "messageId": "skip-1"},
    ])  # fmt: skip
    deliver_all()
    sink.default = Reply(400, b'{"error": "field total is not a number"}')
    ingest_and_route(api, [{"type": "track", "event": "Paid", "userId": "u2", "messageId": "bad-1",
                            "properties": {"total": "x"}}])  # fmt: skip
    deliver_all()
    html = page(client_as(owner), workspace, instance)
    assert [shown(html, f"count-{o}") for o in ("delivered", "discarded", "retrying", "filtered", "dead_lettered")] == [
        "1", "1", "0", "1", "0"]  # fmt: skip
    assert shown(html, "p95").startswith("≈ ")  # interpolated, not a bucket bound
    assert "HTTP 400: {&quot;error&quot;: &quot;field total is not a number&quot;}" in html
    assert "&quot;messageId&quot;: &quot;bad-1&quot;" in html  # You sent
    assert f"POST {sink.url}/A" in html and "HTTP 400" in html
    assert html.count('class="bar-') >= 2  # the trend chart has bars
    assert re.search(r"<title>\d\d:\d\d — \d+ delivered, (\d+ filtered, )?\d+ failed</title>", html)


def test_dead_letters_are_listed_and_redelivered_one_or_all(
    source, sink, api, workspace, owner, client_as, settings
):
    settings.DELIVERY_RETRY_WINDOW = 0
    instance = hook(source, sink, "A")
    sink.default = Reply(503, b"down")
    for n in range(3):
        ingest_and_route(
            api, [{"type": "track", "event": "E", "userId": "u", "messageId": f"m-{n}"}]
        )
    deliver_all()
    dead = list(DeliveryJob.objects.filter(instance_id=instance.pk, state=JobState.DEAD_LETTERED))
    assert len(dead) == 3
    client = client_as(owner)
    html = page(client, workspace, instance)
    assert "Dead letters (3 batches)" in html and shown(html, "count-dead_lettered") == "3"

    settings.DELIVERY_RETRY_WINDOW = 3600
    sink.default = Reply(200)
    InstanceHealth.objects.all().delete()  # the breaker's pause is over (it has its own tests)
    sink.received.clear()
    base = f"/w/{workspace.slug}/destinations/{instance.pk}/delivery/"
    assert client.post(f"{base}redeliver/{dead[0].pk}/").status_code == 302
    tasks.dispatch_due_jobs()
    deliver_all()
    assert (
        DeliveryJob.objects.filter(instance_id=instance.pk, state=JobState.DEAD_LETTERED).count()
        == 2
    )

    assert client.post(f"{base}redeliver/").status_code == 302
    run = RedeliveryRun.objects.get()
    assert (run.total_jobs, run.state) == (2, RedeliveryRun.State.QUEUED)
    assert AuditEntry.objects.filter(
        action="instance.redelivery_requested", object_id=instance.pk
    ).exists()
    # Should the task be lost, the dispatcher sends it again once it is clearly overdue.
    assert deliveries.redeliveries_to_resend() == []
    later = timezone.now() + deliveries.REDELIVERY_RESEND_AFTER + timedelta(seconds=1)
    assert deliveries.redeliveries_to_resend(later) == [run.pk]
    assert deliveries.redeliveries_to_resend(later) == []  # once per period
    tasks.redeliver_dead_letters(run.pk)  # what the worker runs for the published task
    run.refresh_from_db()
    assert (run.done_jobs, run.events, run.state) == (2, 2, RedeliveryRun.State.DONE)
    progress = client.get(f"{base}progress/").content.decode()
    assert "2 of 2 batches" in progress and "hx-trigger" not in progress  # stops polling
    tasks.dispatch_due_jobs()
    deliver_all()
    html = page(client, workspace, instance)
    assert "Dead letters (0 batches)" in html and shown(html, "count-delivered") == "3"
    assert sorted(orjson.loads(r.body)["messageId"] for r in sink.received) == ["m-0", "m-1", "m-2"]


def test_delivery_overview_follows_events_from_arrival_to_delivery(
    source, sink, api, workspace, owner, client_as
):
    delivered = hook(source, sink, "A")
    filtering = hook(source, sink, "B")
    filters.create_filter(
        filtering, None, title="Only paid", condition="event != 'Paid'", actions=[{"type": "DROP"}]
    )
    ingest_and_route(api, [
        {"type": "track", "event": "Paid", "userId": "u", "messageId": "a"},
        {"type": "track", "event": "Viewed", "userId": "u", "messageId": "b"},
        {"type": "track", "event": "Broken"},  # neither userId nor anonymousId: refused at ingest
    ])  # fmt: skip
    assert (
        api.batch([{"type": "track", "event": "Paid", "userId": "u", "messageId": "a"}]).status_code
        == 200
    )
    deliver_all()
    html = (
        client_as(owner)
        .get(f"/w/{workspace.slug}/sources/{source.pk}/overview/", {"window": "1h"})
        .content.decode()
    )
    steps = re.findall(
        r'<span class="label">([^<]+)</span>\s*<strong id="stage-[a-z-]+">(\d+)<', html
    )
    assert steps == [
        ("Received", "4"),  # three in the batch, then a repeat
        ("Failed on ingest", "1"),
        ("Filtered at source", "1"),  # the repeated messageId
        ("Filtered at destination", "1"),  # "Viewed", by B's filter
        ("Retrying", "0"),
        ("Failed", "0"),
        ("Delivered", "3"),  # two to A, one to B
    ]
    rows = {i.pk: re.findall(r'data-label="([^"]+)">(\d+)</td>', html.split(f'id="overview-{i.pk}"')[1])[:4]
            for i in (delivered, filtering)}  # fmt: skip
    labels = ["Filtered at destination", "Retrying", "Failed", "Delivered"]
    assert rows[delivered.pk] == list(zip(labels, ["0", "0", "0", "2"], strict=True))
    assert rows[filtering.pk] == list(zip(labels, ["1", "0", "0", "1"], strict=True))
    assert "disabled destination" not in html


def test_delivery_overview_collapses_disabled_destinations(
    source, sink, api, workspace, owner, client_as
):
    enabled = hook(source, sink, "A")
    paused = [hook(source, sink, name) for name in ("B", "C")]
    ingest_and_route(api, [{"type": "track", "event": "Paid", "userId": "u", "messageId": "a"}])
    deliver_all()
    for instance in paused:
        set_enabled(instance, False, None)
    html = (
        client_as(owner)
        .get(f"/w/{workspace.slug}/sources/{source.pk}/overview/", {"window": "1h"})
        .content.decode()
    )
    shown_first, collapsed = html.split('<details class="disabled-destinations"')
    assert f'id="overview-{enabled.pk}"' in shown_first
    assert "<summary>2 disabled destinations</summary>" in collapsed
    assert all(f'id="overview-{i.pk}"' in collapsed for i in paused)
    # Their deliveries before they were disabled still count in the pipeline.
    assert shown(html, "stage-successful-delivery") == "3"


def generate_counters(instances, source, events: int):
    """``events`` outcomes spread over the last two weeks, one counter row per instance per
    minute and outcome, as the engine writes them."""
    now = timezone.now().replace(second=0, microsecond=0)
    minutes = 14 * 24 * 60 - 60  # an hour inside the window, however long the test takes
    per_row = -(-events // (minutes * len(instances) * 2))  # rounded up
    rows = []
    for instance in instances:
        for m in range(minutes):
            at = now - timedelta(minutes=m)
            rows.append(DeliveryCounter(instance_id=instance.pk, minute=at, outcome=Outcome.DELIVERED, count=per_row,
                                        latency_ms_sum=120.0 * per_row, latency_1=per_row))  # fmt: skip
            rows.append(DeliveryCounter(instance_id=instance.pk, minute=at, outcome=Outcome.DISCARDED,
                                        reason=f"HTTP 400: reason {m % 7}", count=per_row))  # fmt: skip
    DeliveryCounter.objects.bulk_create(rows, batch_size=5000)
    IngestCounter.objects.bulk_create(
        [IngestCounter(source_id=source.pk, minute=now - timedelta(minutes=m), accepted=events // minutes)
         for m in range(minutes)], batch_size=5000)  # fmt: skip
    return per_row * 2 * minutes * len(instances)


def measure(client, url) -> tuple[int, float]:
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.get(url, {"window": "14d"})
        elapsed = time.perf_counter() - started
    assert response.status_code == 200
    return len(queries), elapsed


def test_pages_take_the_same_queries_with_a_million_events(
    source, sink, workspace, owner, client_as, capsys
):
    instances = [hook(source, sink, name) for name in ("A", "B")]
    client = client_as(owner)
    delivery_url = f"/w/{workspace.slug}/destinations/{instances[0].pk}/delivery/"
    overview_url = f"/w/{workspace.slug}/sources/{source.pk}/overview/"
    client.get(overview_url)  # the session's first request also saves the session
    generate_counters(instances, source, 1_000)  # one event a minute: every row exists, tiny
    few = measure(client, delivery_url)[0], measure(client, overview_url)[0]
    DeliveryCounter.objects.all().delete()
    IngestCounter.objects.all().delete()
    recorded = generate_counters(instances, source, 1_000_000)
    assert recorded >= 1_000_000
    (delivery_queries, delivery_time), (overview_queries, overview_time) = (
        measure(client, delivery_url), measure(client, overview_url))  # fmt: skip
    assert (delivery_queries, overview_queries) == few
    html = client.get(delivery_url, {"window": "14d"}).content.decode()
    assert (
        int(shown(html, "count-delivered")) + int(shown(html, "count-discarded")) == recorded // 2
    )
    counters.compact(limit=24 * 15)  # what the beat task does over time
    (compacted_queries, compacted_time), (_, compacted_overview) = (
        measure(client, delivery_url), measure(client, overview_url))  # fmt: skip
    assert compacted_queries == delivery_queries
    compacted_html = client.get(delivery_url, {"window": "14d"}).content.decode()
    for outcome in ("delivered", "discarded"):
        assert shown(compacted_html, f"count-{outcome}") == shown(html, f"count-{outcome}")
    with capsys.disabled():
        print(f"\n{recorded:,} events in counters: Event Delivery {delivery_queries} queries "
              f"{delivery_time * 1000:.0f} ms, Delivery Overview {overview_queries} queries {overview_time * 1000:.0f} ms; "
              f"after compaction {compacted_time * 1000:.0f} ms and {compacted_overview * 1000:.0f} ms")  # fmt: skip


def test_filtered_events_are_broken_down_by_reason(source, sink, api, workspace, owner, client_as):
    instance = hook(source, sink, "A")
    no_tests, no_debug = (
        filters.create_filter(
            instance, None, title=title, condition=f"event = '{event}'", actions=[{"type": "DROP"}]
        )
        for title, event in (("No tests", "Test"), ("No debug", "Debug"))
    )
    ingest_and_route(api, [
        {"type": "track", "event": "Test", "userId": "u", "messageId": "t-1"},
        {"type": "track", "event": "Test", "userId": "u", "messageId": "t-2"},
        {"type": "track", "event": "Debug", "userId": "u", "messageId": "d-1"},
        {"type": "track", "event": "Paid", "userId": "u", "messageId": "p-1"},
    ])  # fmt: skip
    deliver_all()
    html = page(client_as(owner), workspace, instance)
    assert shown(html, "count-filtered") == "3"
    table = html.split('id="filtered-reasons"')[1].split("</table>")[0]
    rows = re.findall(r'<td class="filter-reason">([^<]*)</td><td class="num">(\d+)</td>'
                      r'<td class="num">(\d+)%</td>', table)  # fmt: skip
    assert rows == [(f"filter {no_tests.pk}: dropped", "2", "67"),
                    (f"filter {no_debug.pk}: dropped", "1", "33")]  # fmt: skip
