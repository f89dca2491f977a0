"""Periodic sweeps without a separate scheduler: one run acts per interval wherever its task was
sent from, workers send them when due, and a sweep that stopped is visible."""

from datetime import timedelta

import pytest
from django.utils import timezone

from segapp import sweeps
from segapp.models import Sweep, WorkerHeartbeat

DISPATCH = "delivery.tasks.dispatch_due_jobs"


@pytest.fixture
def intervals(settings):
    settings.SWEEPS = {DISPATCH: 2, "delivery.tasks.compact_counters": 600}
    return settings.SWEEPS


def test_one_caller_wins_each_interval(db, intervals):
    lease = timedelta(seconds=30)
    assert sweeps.claim(DISPATCH, lease)
    sweeps.finish(DISPATCH)
    assert not sweeps.claim(DISPATCH, lease)  # its interval has not passed
    Sweep.objects.filter(pk=DISPATCH).update(last_started_at=timezone.now() - timedelta(seconds=3))
    assert sweeps.claim(DISPATCH, lease)
    Sweep.objects.filter(pk=DISPATCH).update(last_started_at=timezone.now() - timedelta(seconds=3))
    assert not sweeps.claim(DISPATCH, lease)  # the run in progress holds its lease


def test_a_lease_left_by_a_killed_run_expires(db, intervals):
    assert sweeps.claim(DISPATCH, timedelta(seconds=30))
    long_ago = timezone.now() - timedelta(minutes=5)
    Sweep.objects.filter(pk=DISPATCH).update(last_started_at=long_ago, lease_until=long_ago)
    assert sweeps.claim(DISPATCH, timedelta(seconds=30))


def test_only_one_ticker_sends_a_due_sweep(db, intervals):
    now = timezone.now()
    first, second = sweeps.due_to_send(now), sweeps.due_to_send(now)
    assert sorted(first) == sorted(intervals) and second == []
    assert sweeps.due_to_send(now + timedelta(seconds=2)) == [DISPATCH]


def test_a_sweep_is_late_after_three_intervals_without_finishing(db, intervals):
    now = timezone.now()
    assert {name for name, _ in sweeps.late(now)} == set(intervals)  # never ran
    for name in intervals:
        assert sweeps.claim(name, timedelta(seconds=30))
        sweeps.finish(name)
    assert sweeps.late(now + timedelta(seconds=5)) == []
    late = sweeps.late(now + timedelta(seconds=7))
    assert [name for name, _ in late] == [DISPATCH] and late[0][1] <= now + timedelta(seconds=1)


def test_worker_heartbeats_show_live_workers(db):
    now = timezone.now()
    sweeps.beat("celery@a", now - timedelta(minutes=5))
    sweeps.beat("celery@b", now)
    assert [w.hostname for w in sweeps.live_workers(now)] == ["celery@b"]
    assert WorkerHeartbeat.objects.count() == 2
