"""Old minute counters merge into hourly rows: totals, reasons and latency are kept, recent
minutes are left alone, and running it again changes nothing."""

from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from delivery import counters
from delivery.metrics import summaries
from delivery.models import DeliveryCounter, IngestCounter, Outcome

pytestmark = pytest.mark.django_db


def record(at, outcome, reason="", count=1, latencies=()):
    tally = counters.Tally()
    tally.add(
        "inst", at, outcome, reason, latencies_ms=latencies, count=None if latencies else count
    )
    tally.flush()


def test_old_minutes_merge_into_hours_and_recent_ones_stay():
    now = timezone.now().replace(minute=30, second=0, microsecond=0)
    old_hour = (now - timedelta(hours=10)).replace(minute=0)
    for minute in (0, 5, 59):
        record(old_hour + timedelta(minutes=minute), Outcome.DELIVERED, latencies=[80, 300])
        record(old_hour + timedelta(minutes=minute), Outcome.DISCARDED, "HTTP 400", count=2)
    record(old_hour + timedelta(hours=1, minutes=7), Outcome.FILTERED, "filter f: dropped", count=3)
    recent = now - timedelta(minutes=20)
    record(recent, Outcome.DELIVERED, latencies=[50])
    counters.count_ingest("src", old_hour + timedelta(minutes=3), 10, 1, 2)
    counters.count_ingest("src", old_hour + timedelta(minutes=40), 5, 0, 0)
    window = (now - timedelta(days=1), now + timedelta(minutes=1))
    before = summaries(["inst"], *window)["inst"]

    assert counters.compact(now) == 3  # two hours of deliveries, one of ingest
    rows = DeliveryCounter.objects.filter(minute__lt=recent)
    assert sorted((r.minute, r.outcome, r.count) for r in rows) == [
        (old_hour, Outcome.DELIVERED, 6), (old_hour, Outcome.DISCARDED, 6),
        (old_hour + timedelta(hours=1), Outcome.FILTERED, 3)]  # fmt: skip
    assert DeliveryCounter.objects.get(minute=recent).count == 1
    after = summaries(["inst"], *window)["inst"]
    assert (after.totals, after.reasons, after.histogram) == (
        before.totals,
        before.reasons,
        before.histogram,
    )
    assert list(IngestCounter.objects.values_list("minute", "accepted", "rejected", "duplicates")) == [
        (old_hour, 15, 1, 2)]  # fmt: skip

    assert counters.compact(now) == 0
    assert DeliveryCounter.objects.aggregate(n=Sum("count"))["n"] == 16
