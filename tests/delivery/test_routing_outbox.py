"""The database is the source of truth and the broker a doorbell: one routing task per request,
claimed once, re-sent by the sweeper when lost, and a dead broker never fails a request."""

import json
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from delivery import routing, tasks
from delivery.models import Event, IngestBatch
from tests.delivery.conftest import TrackingApi, start_web, start_worker_with_sweeper, track
from tests.processes import start_worker, stop, wait_for


def queued_tasks(broker) -> list[tuple[str, str]]:
    """(task name, args) of the messages waiting in the default queue."""
    messages = [json.loads(raw) for raw in broker.lrange("celery", 0, -1)]
    return [(m["headers"]["task"], m["headers"]["argsrepr"]) for m in messages]


def test_one_routing_task_per_request_carrying_only_the_batch_id(api, broker):
    api.batch([track(n) for n in range(100)])
    api.post("/v1/track", track(100))
    batch_ids = list(IngestBatch.objects.order_by("id").values_list("id", flat=True))
    assert len(batch_ids) == 2 and Event.objects.count() == 101
    expected = [("delivery.tasks.route_batch", f"({batch_id},)") for batch_id in batch_ids]
    assert sorted(queued_tasks(broker)) == sorted(expected)


def test_a_routing_task_run_twice_routes_the_batch_once(api):
    api.batch([track(1)])
    batch = IngestBatch.objects.get()
    assert batch.routed_at is None

    tasks.route_batch(batch.pk)
    batch.refresh_from_db()
    routed_at = batch.routed_at
    assert routed_at is not None and batch.lease_until is None

    tasks.route_batch(batch.pk)
    batch.refresh_from_db()
    assert batch.routed_at == routed_at
    assert not IngestBatch.claim(batch.pk, routing.ROUTING_LEASE)


def test_a_live_claim_keeps_a_second_worker_out_until_its_lease_expires(api):
    api.batch([track(1)])
    batch = IngestBatch.objects.get()
    assert IngestBatch.claim(batch.pk, timedelta(minutes=3))
    assert not IngestBatch.claim(batch.pk, timedelta(minutes=3))
    IngestBatch.objects.update(lease_until=timezone.now() - timedelta(seconds=1))  # worker died
    assert IngestBatch.claim(batch.pk, timedelta(minutes=3))


def test_sweeper_resends_batches_unrouted_after_the_grace_period(api, broker):
    api.batch([track(1)])
    api.batch([track(2)])
    stale, _fresh = IngestBatch.objects.order_by("id")
    IngestBatch.objects.filter(pk=stale.pk).update(
        queued_at=timezone.now() - timedelta(seconds=settings.ROUTING_SWEEP_GRACE + 1)
    )
    broker.delete("celery")

    tasks.requeue_unrouted_batches()

    assert queued_tasks(broker) == [("delivery.tasks.route_batch", f"({stale.pk},)")]
    stale.refresh_from_db()
    assert timezone.now() - stale.queued_at < timedelta(seconds=5)  # next try after a grace
    assert routing.batches_to_requeue(timedelta(seconds=settings.ROUTING_SWEEP_GRACE)) == []


@pytest.mark.slow
def test_a_worker_routes_each_batch_the_web_process_stores(api, broker):
    worker, output = start_worker(settings.CELERY_BROKER_URL)
    try:
        for n in range(3):
            assert api.batch([track(n), track(n + 10)]).status_code == 200
        wait_for(
            lambda: not IngestBatch.objects.filter(routed_at__isnull=True).exists(),
            timeout=30,
            message="the worker to route every batch",
        )
        assert IngestBatch.objects.count() == 3
    except AssertionError:
        print("".join(output.lines[-60:]))
        raise
    finally:
        stop(worker, sig=15)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_events_accepted_while_the_broker_is_down_are_routed_once_it_is_back(
    source, write_key, broker, tmp_path
):
    web, web_output, base_url = start_web("redis://127.0.0.1:1/0")  # nothing listens there
    try:
        api = TrackingApi(base_url, write_key)
        for n in range(3):
            started = time.monotonic()
            response = api.batch([track(n, messageId=f"m-{n}"), track(n + 10)])
            assert response.status_code == 200, response.text
            assert time.monotonic() - started < 2, "publishing must not hold the request"
        assert Event.objects.filter(source=source).count() == 6
        assert IngestBatch.objects.filter(routed_at__isnull=True).count() == 3
        web_output.wait_for_match(r"task not sent.*delivery.tasks.route_batch", timeout=5)
    finally:
        stop(web, sig=15)

    worker, output = start_worker_with_sweeper(tmp_path, settings.CELERY_BROKER_URL)
    try:
        wait_for(
            lambda: not IngestBatch.objects.filter(routed_at__isnull=True).exists(),
            timeout=45,
            interval=0.3,
            message="the sweeper to send the batches and the worker to route them",
        )
        output.wait_for_match(r"re-sending routing tasks", timeout=5)
    except AssertionError:
        print("".join(output.lines[-80:]))
        raise
    finally:
        stop(worker, sig=15)
    assert IngestBatch.objects.count() == 3 and Event.objects.count() == 6
