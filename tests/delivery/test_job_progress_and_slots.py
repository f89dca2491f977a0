"""Within one attempt: requests one at a time to a quick tool, side by side to a slow one; progress
written as the tool acknowledges, so a job taken over re-sends only the rest; an instance's slots;
leases renewed while work runs."""

import threading
import time
from datetime import timedelta

import orjson
import pytest
from django.utils import timezone

from connections.instances import set_enabled
from delivery import deliveries, leases, tasks
from delivery.models import DeliveryAck, DeliveryCounter, DeliveryJob, IngestBatch, JobState
from tests.delivery.conftest import track
from tests.factories import make_instance
from tests.processes import wait_for
from tests.sinks import Reply

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def private_sinks(settings):
    settings.EGRESS_ALLOW_PRIVATE = True


@pytest.fixture
def hook(source, sink):
    instance = make_instance(
        source, "webhooks", name="Hook", settings={"webhookUrls": [f"{sink.url}/hook"]}
    )
    return set_enabled(instance, True, None)


def routed_job(api, count: int, first: int = 0) -> DeliveryJob:
    messages = [track(n, messageId=f"m{n}") for n in range(first, first + count)]
    assert api.batch(messages).status_code == 200
    tasks.route_batch(IngestBatch.objects.order_by("id").last().pk)
    return DeliveryJob.objects.order_by("id").last()


def received_ids(sink) -> list[str]:
    return [orjson.loads(r.body)["messageId"] for r in sink.received]


def noted(job) -> list[int]:
    """The job's events noted as acknowledged in the attempt under way."""
    return list(
        DeliveryAck.objects.filter(job_id=job.pk).order_by("id").values_list("event_id", flat=True)
    )


def delivered_count(instance) -> int:
    counters = DeliveryCounter.objects.filter(instance_id=instance.pk, outcome="delivered")
    return sum(c.count for c in counters)


def test_a_quick_tool_gets_one_request_at_a_time(api, hook, sink):
    job = routed_job(api, 20)
    tasks.deliver_job(job.pk)
    assert sorted(received_ids(sink)) == sorted(f"m{n}" for n in range(20))
    assert sink.most_in_flight == 1


def test_once_answers_are_slow_the_rest_go_side_by_side(api, hook, sink, settings):
    settings.DELIVERY_PARALLEL_REQUESTS = 8
    sink.default = Reply(delay=0.2)
    job = routed_job(api, 12)
    tasks.deliver_job(job.pk)
    assert len(received_ids(sink)) == 12
    assert sink.most_in_flight > 1
    assert DeliveryJob.objects.get(pk=job.pk).state == JobState.DONE


def test_progress_is_written_as_the_tool_acknowledges(api, hook, sink):
    sink.replies = [Reply()] * 5 + [Reply(delay=2)]  # the sixth answer keeps the job running
    job = routed_job(api, 10)
    sending = threading.Thread(target=tasks.deliver_job, args=[job.pk])
    sending.start()
    try:
        wait_for(lambda: len(sink.received) >= 6, timeout=10, message="the sixth request")
        assert set(noted(job)) >= set(job.event_ids[:5])  # each noted as its answer came
        assert DeliveryJob.objects.get(pk=job.pk).lease_until > timezone.now()
    finally:
        sending.join(30)
    after = DeliveryJob.objects.get(pk=job.pk)
    assert (after.state, after.event_ids, noted(job)) == (JobState.DONE, [], [])
    assert delivered_count(hook) == 10


def test_a_job_taken_over_sends_only_what_was_not_acknowledged(api, hook, sink):
    job = routed_job(api, 10)
    # As a worker killed after the tool acknowledged six events leaves it, its lease run out.
    DeliveryAck.objects.bulk_create(
        DeliveryAck(job_id=job.pk, event_id=e) for e in job.event_ids[:6]
    )
    DeliveryJob.objects.filter(pk=job.pk).update(
        attempts=1,
        first_attempt_at=timezone.now(),
        lease_until=timezone.now() - timedelta(seconds=1),
    )
    tasks.deliver_job(job.pk)
    assert sorted(received_ids(sink)) == [f"m{n}" for n in range(6, 10)]
    after = DeliveryJob.objects.get(pk=job.pk)
    assert (after.state, noted(job)) == (JobState.DONE, [])
    assert delivered_count(hook) == 10  # the six the dead worker saw delivered are counted once


def test_an_instance_whose_slots_are_taken_waits_for_one(api, hook, sink, settings):
    settings.DELIVERY_INSTANCE_SLOTS = 2
    busy = [routed_job(api, 1, first=n) for n in range(2)]
    waiting = routed_job(api, 1, first=2)
    DeliveryJob.objects.filter(pk__in=[j.pk for j in busy]).update(
        lease_until=timezone.now() + timedelta(seconds=30)
    )
    assert deliveries.deliver_job(waiting.pk) is None
    assert sink.received == []
    job = DeliveryJob.objects.get(pk=waiting.pk)
    assert job.attempts == 0 and job.next_attempt_at > timezone.now()

    # Should no slot be handed on, the dispatcher sends it once it has waited, and a slot is free.
    DeliveryJob.objects.filter(pk=waiting.pk).update(next_attempt_at=timezone.now())
    grace = timedelta(minutes=5)
    assert deliveries.jobs_to_dispatch(grace) == []  # every slot still taken
    DeliveryJob.objects.filter(pk=busy[0].pk).update(lease_until=None, state=JobState.DONE)
    assert deliveries.jobs_to_dispatch(grace) == [waiting.pk]


def test_a_finished_job_hands_its_slot_to_the_one_waiting(api, hook, sink, settings):
    settings.DELIVERY_INSTANCE_SLOTS = 1
    running, waiting = routed_job(api, 1, first=0), routed_job(api, 1, first=1)
    DeliveryJob.objects.filter(pk=running.pk).update(
        lease_until=timezone.now() + timedelta(seconds=30)
    )
    assert deliveries.deliver_job(waiting.pk) is None  # no slot: it waits
    DeliveryJob.objects.filter(pk=running.pk).update(lease_until=None)  # as if it were lost
    assert deliveries.deliver_job(running.pk) == waiting.pk  # done, and its slot handed on
    assert deliveries.deliver_job(waiting.pk) is None
    assert received_ids(sink) == ["m0", "m1"]


def test_another_instances_jobs_do_not_take_its_slots(api, hook, sink, settings):
    settings.DELIVERY_INSTANCE_SLOTS = 1
    other = make_instance(
        hook.source, "webhooks", name="Other", settings={"webhookUrls": [f"{sink.url}/other"]}
    )
    set_enabled(other, True, None)
    job = routed_job(api, 1)
    DeliveryJob.objects.filter(instance_id=other.pk).update(
        lease_until=timezone.now() + timedelta(seconds=30)
    )
    tasks.deliver_job(DeliveryJob.objects.get(batch_id=job.batch_id, instance_id=hook.pk).pk)
    assert [r.path for r in sink.received] == ["/hook"]


def test_leases_are_renewed_while_their_work_runs(api, hook):
    job = routed_job(api, 1)
    soon = timezone.now() + timedelta(seconds=3)
    DeliveryJob.objects.filter(pk=job.pk).update(lease_until=soon)
    with leases.held(DeliveryJob, job.pk, 3):
        assert leases.renew_due(time.monotonic()) is None  # renewed a third of the lease later
        assert leases.renew_due(time.monotonic() + 1.1) == 1
        assert DeliveryJob.objects.get(pk=job.pk).lease_until > soon
        DeliveryJob.objects.filter(pk=job.pk).update(lease_until=None)  # the work finished
        assert leases.renew_due(time.monotonic() + 2.2) == 0
        assert DeliveryJob.objects.get(pk=job.pk).lease_until is None
    assert leases.renew_due(time.monotonic() + 10) is None  # no longer held
