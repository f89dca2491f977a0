"""Replay, task by task in this process against a real HTTP sink: the range and the selection,
filters and transformations, context.replay, idempotence, the rate, cancel, the rules."""

from datetime import datetime, timedelta

import orjson
import pytest
from django.utils import timezone

from connections import transformations
from connections.filters import create_filter
from connections.instances import set_enabled
from delivery import deliveries, replays, routing
from delivery.models import (
    DeliveryCounter,
    DeliveryJob,
    IngestBatch,
    JobState,
    Replay,
    ReplayStatus,
)
from segapp.models import Plan
from segapp.refusal import Refusal
from tests.delivery.replay_archive import archive_days, send_in_line
from tests.factories import make_instance

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def source(business_website):
    return business_website


@pytest.fixture(autouse=True)
def fast_retries(settings):
    settings.EGRESS_ALLOW_PRIVATE = True
    settings.DELIVERY_RETRY_BASE_DELAY = 0


@pytest.fixture
def hook(source, sink):
    def make(name="Webhooks"):
        instance = make_instance(
            source, "webhooks", name=name, settings={"webhookUrls": [f"{sink.url}/{name}"]}
        )
        return set_enabled(instance, True, None)

    return make


def run(replay: Replay, step=timedelta(seconds=1), limit=500) -> Replay:
    """Advances the replay a second at a time and sends its jobs, as the sweep and the workers
    would, until it ends."""
    now = replay.created_at
    for _ in range(limit):
        now += step
        send_in_line(replays.advance(replay.pk, now))
        replay.refresh_from_db()
        if replay.is_finished:
            return replay
    raise AssertionError(f"replay still {replay.status} after {limit} steps")


def received(sink) -> list[dict]:
    return [orjson.loads(r.body) for r in sink.received]


def start(instance, start, end, **choices) -> Replay:
    return replays.start_replay(instance, None, start=start, end=end, **choices)


def test_a_replay_sends_the_range_once_through_the_filters(source, hook, sink):
    days = archive_days(source, per_day=40, days=3, until=timezone.now())
    instance = hook()
    create_filter(instance, None, title="No Event 3", condition='event = "Event 3"',
                  actions=[{"type": "DROP"}], enabled=True)  # fmt: skip
    day2 = days[1]
    replay = run(start(instance, day2.start, day2.end))

    assert replay.status == ReplayStatus.FINISHED
    got = received(sink)
    ids = [m["messageId"] for m in got]
    expected = [m for m in day2.messages if m.get("event") != "Event 3"]
    assert sorted(ids) == sorted(m["messageId"] for m in expected)
    assert len(ids) == len(set(ids))
    assert all(m["context"]["replay"] is True for m in got)
    by_id = {m["messageId"]: m for m in got}
    for message in expected:
        sent = by_id[message["messageId"]]
        assert sent["timestamp"] == message["timestamp"]
        assert datetime.fromisoformat(sent["receivedAt"]) == day2.received_at
    assert (replay.total, replay.sent, replay.filtered, replay.failed) == (
        40,
        len(expected),
        40 - len(expected),
        0,
    )
    assert replay.percent == 100
    # Counted apart: the live counters of the instance saw nothing.
    assert not DeliveryCounter.objects.filter(instance_id=instance.pk).exists()


def test_the_selection_by_type_and_event_name_and_no_replay_marker(source, hook, sink):
    days = archive_days(source, per_day=30, days=1, until=timezone.now())
    instance = hook()
    replay = run(start(instance, days[0].start, days[0].end, types=["track"],
                       event_names=["Event 1", "Event 2"], mark_context=False))  # fmt: skip
    got = received(sink)
    assert {m["event"] for m in got} == {"Event 1", "Event 2"}
    assert len(got) == replay.total == replay.sent
    assert all("replay" not in m["context"] for m in got)


def test_replaying_a_range_again_sends_nothing_twice(source, hook, sink):
    days = archive_days(source, per_day=20, days=2, until=timezone.now())
    instance = hook()
    first = run(start(instance, days[0].start, days[1].end))
    assert first.sent == 40
    second = run(start(instance, days[0].start, days[1].end))
    assert (second.status, second.sent, second.skipped) == (ReplayStatus.FINISHED, 0, 40)
    assert len(sink.received) == 40


def test_batches_live_routing_gave_the_instance_are_left_out(source, hook, sink):
    now = timezone.now()
    before = archive_days(source, per_day=10, days=1, until=now - timedelta(days=1))
    instance = hook()
    since = archive_days(source, per_day=10, days=1, until=now)  # routed live to the instance
    for job_id in since[0].job_ids:
        deliveries.deliver_job(job_id)
    assert len(sink.received) == 10
    replay = run(start(instance, before[0].start, since[0].end))
    assert (replay.sent, replay.skipped) == (10, 10)
    ids = [m["messageId"] for m in received(sink)]
    assert len(ids) == len(set(ids)) == 20


def test_a_batch_live_routing_has_not_reached_is_left_to_it(source, hook, sink):
    days = archive_days(source, per_day=10, days=1, until=timezone.now(), per_batch=5)
    late = days[0].batch_ids[-1]
    IngestBatch.objects.filter(pk=late).update(routed_at=None)
    replay = run(start(hook(), days[0].start, days[0].end))
    instance = replay.instance
    assert replay.sent == replay.total == 5  # the other 5 are live routing's to send
    assert DeliveryJob.objects.get(pk=routing.route_batch(late)[0]).instance_id == instance.pk


def test_the_rate_limits_each_slice(source, hook, sink):
    days = archive_days(source, per_day=100, days=1, until=timezone.now(), per_batch=5)
    instance = hook()
    replay = start(instance, days[0].start, days[0].end, rate=10)
    now = replay.created_at
    replays.advance(replay.pk, now)  # the first slice: one second's worth
    replay.refresh_from_db()
    assert replay.routed == 10
    replays.advance(replay.pk, now + timedelta(seconds=0.5))
    replay.refresh_from_db()
    assert replay.routed == 15
    # A replay that waited long does not burst: two seconds' worth at most.
    replays.advance(replay.pk, now + timedelta(seconds=60))
    replay.refresh_from_db()
    assert replay.routed == 35


def in_line(replay) -> list[int]:
    return list(DeliveryJob.objects.filter(replay_id=replay.pk, state=JobState.PENDING)
                .order_by("pk").values_list("pk", flat=True))  # fmt: skip


def test_a_replays_jobs_go_one_at_a_time_and_it_waits_while_they_wait(source, hook, sink, settings):
    settings.REPLAY_WAITING_JOBS = 2
    days = archive_days(source, per_day=10, days=1, until=timezone.now(), per_batch=1)
    replay = start(hook(), days[0].start, days[0].end, rate=1000)
    first = replays.advance(replay.pk, replay.created_at)
    assert len(in_line(replay)) == 10 and first == in_line(replay)[:1]
    # Ten jobs wait: no more routing, and the one being sent is enough.
    assert replays.advance(replay.pk, replay.created_at + timedelta(seconds=1)) == first
    assert deliveries.deliver_job(first[0]) == in_line(replay)[0]  # it hands its slot on
    assert run(replay).sent == 10


def test_cancel_stops_routing_and_takes_back_waiting_jobs(source, hook, sink):
    days = archive_days(source, per_day=50, days=1, until=timezone.now(), per_batch=5)
    instance = hook()
    replay = start(instance, days[0].start, days[0].end, rate=10)
    jobs = replays.advance(replay.pk, replay.created_at)
    assert jobs and in_line(replay)
    replays.cancel_replay(replay, None)
    send_in_line(jobs)
    assert replays.advance(replay.pk, replay.created_at + timedelta(seconds=5)) == []
    replay.refresh_from_db()
    assert replay.status == ReplayStatus.CANCELLED
    assert sink.received == []
    assert set(DeliveryJob.objects.filter(replay_id=replay.pk).values_list("state", flat=True)) == {
        JobState.DONE
    }
    with pytest.raises(Refusal) as refused:
        replays.cancel_replay(replay, None)
    assert refused.value.rule == "replay-finished"


def test_one_unfinished_replay_per_instance(source, hook):
    days = archive_days(source, per_day=5, days=1, until=timezone.now())
    instance = hook()
    start(instance, days[0].start, days[0].end)
    with pytest.raises(Refusal) as refused:
        start(instance, days[0].start, days[0].end)
    assert (refused.value.rule, refused.value.status) == ("replay-running", 409)


@pytest.mark.parametrize("plan", [Plan.FREE, Plan.TEAM])
def test_free_and_team_workspaces_may_not_replay(source, hook, plan):
    instance = hook()
    source.workspace.plan = plan
    source.workspace.save(update_fields=["plan"])
    now = timezone.now()
    with pytest.raises(Refusal) as refused:
        start(instance, now - timedelta(days=1), now)
    assert (refused.value.rule, refused.value.status) == ("replay-plan", 403)


def test_a_range_must_be_kept_and_in_order(source, hook, settings):
    instance = hook()
    now = timezone.now()
    for begin, end, field in [
        (now - timedelta(hours=1), now - timedelta(hours=2), "endTime"),
        (now + timedelta(hours=1), now + timedelta(hours=2), "startTime"),
        (now - timedelta(days=31), now - timedelta(days=1), "startTime"),
        (now - timedelta(days=40), now - timedelta(days=35), "endTime"),
    ]:
        with pytest.raises(Refusal) as refused:
            start(instance, begin, end)
        assert (refused.value.rule, refused.value.field) == ("replay-range", field)
    source.workspace.retention_days = 60
    source.workspace.save(update_fields=["retention_days"])
    assert start(instance, now - timedelta(days=40), now - timedelta(days=35)).total == 0


def test_a_disabled_or_device_mode_destination_is_refused(source, hook):
    instance = set_enabled(hook(), False, None)
    now = timezone.now()
    with pytest.raises(Refusal) as refused:
        start(instance, now - timedelta(days=1), now)
    assert refused.value.rule == "replay-destination"


def test_replay_jobs_are_small_and_hold_at_most_their_worker_slots(source, hook, sink, settings):
    settings.REPLAY_SLOTS, settings.REPLAY_JOB_EVENTS = 1, 4
    live = hook("Live")
    days = archive_days(source, per_day=10, days=1, until=timezone.now(), per_batch=10)
    replay = start(hook("New"), days[0].start, days[0].end)
    replays.advance(replay.pk, replay.created_at)
    jobs = in_line(replay)
    sizes = [len(DeliveryJob.objects.get(pk=job).event_ids) for job in jobs]
    assert sizes == [4, 4, 2]
    DeliveryJob.objects.filter(pk__in=jobs).update(next_attempt_at=timezone.now())
    now = timezone.now()
    assert deliveries.claim(jobs[0], now)
    assert not deliveries.claim(jobs[1], now)  # the one replay slot is taken
    (live_job,) = days[0].job_ids
    assert DeliveryJob.objects.get(pk=live_job).instance_id == live.pk
    assert deliveries.claim(live_job, now)  # live traffic is not held up


def test_replayed_events_go_through_the_sources_transformations(source, hook, sink):
    days = archive_days(source, per_day=10, days=1, until=timezone.now())
    transformations.create_transformation(
        source, None, {"name": "Rename", "target": "track", "event_name": "Event 1",
                       "new_event_name": "Event One", "renames": {"n": "number"}},
    )  # fmt: skip
    run(start(hook(), days[0].start, days[0].end))
    renamed = [m for m in received(sink) if m.get("event") == "Event One"]
    assert renamed and all("number" in m["properties"] for m in renamed)
    assert not [m for m in received(sink) if m.get("event") == "Event 1"]


def test_a_replay_fails_with_the_reason_when_its_destination_is_disabled(source, hook, sink):
    days = archive_days(source, per_day=10, days=1, until=timezone.now())
    instance = hook()
    replay = start(instance, days[0].start, days[0].end)
    set_enabled(instance, False, None)
    assert replays.advance(replay.pk, replay.created_at) == []
    replay.refresh_from_db()
    assert replay.status == ReplayStatus.FAILED
    assert "instance disabled" in replay.error and sink.received == []
