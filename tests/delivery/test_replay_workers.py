"""Replay with real Celery workers on PostgreSQL: the workers' own sweep advances it each second,
and their delivery tasks send its jobs to a real HTTP sink."""

import os
import signal
import time

import pytest
from django.utils import timezone

from connections.filters import create_filter
from delivery import replays
from delivery.models import DeliveryJob, Replay, ReplayStatus
from tests.delivery.replay_archive import archive_days
from tests.delivery.test_engine_workers import hook, ids, worker
from tests.processes import stop, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def source(business_website):
    return business_website


@pytest.fixture
def history(source):
    """5,000 events over 3 simulated days, 100 per request."""
    return archive_days(source, per_day=1667, days=3, until=timezone.now(), per_batch=100)


def finished(replay: Replay) -> Replay:
    wait_for(lambda: Replay.objects.get(pk=replay.pk).is_finished, timeout=120, interval=0.2,
             message="the replay to finish")  # fmt: skip
    return Replay.objects.get(pk=replay.pk)


def start(instance, start_time, end_time, **choices) -> Replay:
    replay = replays.start_replay(instance, None, start=start_time, end=end_time, **choices)
    return replay  # the workers' sweep sends its first slice within a second


def test_a_replay_to_a_new_instance_sends_the_range_once_with_its_filters(
    source, history, sink, broker, tmp_path
):
    instance = hook(source, sink, "New")
    create_filter(instance, None, title="No Event 4", condition='event = "Event 4"',
                  actions=[{"type": "DROP"}])  # fmt: skip
    proc, _ = worker(tmp_path, broker, concurrency=2)
    try:
        replay = finished(start(instance, history[0].start, history[1].end, rate=5000))
    finally:
        stop(proc, sig=signal.SIGTERM)
    in_range = [m for day in history[:2] for m in day.messages]
    expected = {m["messageId"] for m in in_range if m.get("event") != "Event 4"}
    got = ids(sink)
    assert replay.status == ReplayStatus.FINISHED
    assert len(got) == len(set(got)), "an event arrived twice"
    assert set(got) == expected
    assert (replay.total, replay.sent, replay.filtered) == (
        len(in_range),
        len(expected),
        len(in_range) - len(expected),
    )


def test_a_worker_killed_mid_replay_resumes_without_loss_or_duplicate(
    source, history, sink, broker, tmp_path
):
    instance = hook(source, sink, "New")
    env = {"SEGAPP_DELIVERY_JOB_LEASE": "3"}
    proc, _ = worker(tmp_path, broker, concurrency=2, **env)
    replay = start(instance, history[0].start, history[2].end, rate=500)
    wait_for(lambda: len(sink.received) >= 1500, timeout=120, interval=0.01,
             message="a third of the replay")  # fmt: skip
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
    killed_after = len(sink.received)
    assert killed_after < 5000, "the worker was killed after the replay had ended"
    # Replays and jobs the dead worker held come back once their leases end.
    Replay.objects.filter(pk=replay.pk).update(lease_until=None)
    second, _ = worker(tmp_path, broker, concurrency=2, **env)
    try:
        replay = finished(replay)
        time.sleep(2)  # a late second copy would show now
    finally:
        stop(second, sig=signal.SIGTERM)
    got = ids(sink)
    every = {m["messageId"] for day in history for m in day.messages}
    twice = len(got) - len(set(got))
    print(f"killed after {killed_after} of 5,000 events; {twice} arrived twice")
    assert set(got) == every, "events were lost"
    assert replay.status == ReplayStatus.FINISHED and replay.sent >= 5000 - twice
    # The replay owed each event once: one job holds it, whatever the takeover.
    owed = [e for job in DeliveryJob.objects.filter(replay_id=replay.pk) for e in job.event_ids]
    assert not [e for e in owed if owed.count(e) > 1]
    # Only the request a killed worker process was waiting on may arrive twice.
    assert twice <= 2, f"{twice} events were sent twice"


def test_cancel_stops_a_running_replay(source, history, sink, broker, tmp_path):
    instance = hook(source, sink, "New")
    proc, _ = worker(tmp_path, broker, concurrency=2)
    try:
        replay = start(instance, history[0].start, history[2].end, rate=100)
        wait_for(lambda: len(sink.received) >= 100, timeout=60, interval=0.05,
                 message="the replay to start sending")  # fmt: skip
        replays.cancel_replay(replay, None)
        time.sleep(3)  # jobs being sent at the cancel finish; nothing after them
        settled = len(sink.received)
        time.sleep(3)
        assert len(sink.received) == settled < 5000
    finally:
        stop(proc, sig=signal.SIGTERM)
    assert Replay.objects.get(pk=replay.pk).status == ReplayStatus.CANCELLED
