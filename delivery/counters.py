"""Per-instance, per-minute outcome counters with latency from ``receivedAt``, per-source ingest
counters, and their compaction into hourly rows once they are old."""

from bisect import bisect_left
from collections import defaultdict
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Sum
from django.db.models.functions import Trunc
from django.utils import timezone

from delivery import prometheus
from delivery.models import (
    LATENCY_BOUNDS_MS,
    LATENCY_FIELDS,
    DeliveryCounter,
    IngestCounter,
    Outcome,
    Replay,
)

# What each outcome of a replay's job adds to in the replay (retrying adds to nothing yet).
_REPLAY_FIELDS = {
    Outcome.DELIVERED: "sent",
    Outcome.DISCARDED: "failed",
    Outcome.DEAD_LETTERED: "failed",
    Outcome.FILTERED: "filtered",
}


class Tally:
    """Outcomes gathered during one task, written in one go by ``flush``. A replay's outcomes
    (``replay_id``) are counted in the replay only, apart from live traffic."""

    def __init__(self, replay_id: str | None = None):
        self._rows = defaultdict(lambda: [0, 0.0, [0] * (len(LATENCY_BOUNDS_MS) + 1)])
        self.replay_id = replay_id
        self._replay = defaultdict(int)

    def add(
        self,
        instance_id: str,
        at: datetime,
        outcome: str,
        reason: str = "",
        latencies_ms=(),
        count=None,
    ):
        latencies = list(latencies_ms)
        count = count if count is not None else len(latencies)
        if self.replay_id:
            if name := _REPLAY_FIELDS.get(outcome):
                self._replay[name] += count
            return
        row = self._rows[(instance_id, at.replace(second=0, microsecond=0), outcome, reason[:200])]
        row[0] += count
        prometheus.count_outcome(instance_id, outcome, count, latencies)
        for latency in latencies:
            row[1] += latency
            row[2][bisect_left(LATENCY_BOUNDS_MS, latency)] += 1

    def flush(self) -> None:
        if self._replay:
            Replay.objects.filter(pk=self.replay_id).update(
                **{name: F(name) + n for name, n in self._replay.items()}
            )
            self._replay.clear()
        # Sorted keys: two workers lock the same counter rows in the same order (no deadlock).
        for key in sorted(self._rows):
            count, latency_sum, histogram = self._rows[key]
            instance_id, minute, outcome, reason = key
            row = {"instance_id": instance_id, "minute": minute, "outcome": outcome,
                   "reason": reason}  # fmt: skip
            with transaction.atomic():
                DeliveryCounter.objects.get_or_create(**row)
                DeliveryCounter.objects.filter(**row).update(
                    count=F("count") + count,
                    latency_ms_sum=F("latency_ms_sum") + latency_sum,
                    **{
                        name: F(name) + n
                        for name, n in zip(LATENCY_FIELDS, histogram, strict=True)
                        if n
                    },
                )
        self._rows.clear()


def count_ingest(source_id: str, at: datetime, accepted: int, rejected: int, duplicates: int):
    """Adds one request's messages to its source's counter for that minute."""
    prometheus.count_events(source_id, accepted, rejected, duplicates)
    minute = at.replace(second=0, microsecond=0)
    with transaction.atomic():
        IngestCounter.objects.get_or_create(source_id=source_id, minute=minute)
        IngestCounter.objects.filter(source_id=source_id, minute=minute).update(
            accepted=F("accepted") + accepted,
            rejected=F("rejected") + rejected,
            duplicates=F("duplicates") + duplicates,
        )


# Minute rows older than this are merged into one row per hour (at the hour's first minute):
# the short windows keep their minutes, and a two-week window reads 60 times fewer rows.
KEEP_MINUTES_FOR = timedelta(hours=7)
HOURS_PER_COMPACTION = 48


def compact(now: datetime | None = None, limit: int = HOURS_PER_COMPACTION) -> int:
    """Merges the minute rows of up to ``limit`` old hours into hourly rows, oldest first; returns
    how many hours it merged. Counters are only ever written for the current minute, so an hour
    older than ``KEEP_MINUTES_FOR`` no longer changes; running twice merges nothing twice."""
    cutoff = (now or timezone.now()) - KEEP_MINUTES_FOR
    cutoff = cutoff.replace(minute=0, second=0, microsecond=0)
    merged = 0
    for model, key, sums in (
        (DeliveryCounter, ("instance_id", "outcome", "reason"),
         ["count", "latency_ms_sum", *LATENCY_FIELDS]),
        (IngestCounter, ("source_id",), ["accepted", "rejected", "duplicates"]),
    ):  # fmt: skip
        hours = (
            model.objects.filter(minute__lt=cutoff)
            .exclude(minute=Trunc("minute", "hour"))
            .annotate(hour=Trunc("minute", "hour"))
            .values_list("hour", flat=True)
            .distinct()
            .order_by("hour")[:limit]
        )
        for hour in list(hours):
            with transaction.atomic():
                rows = model.objects.filter(minute__gte=hour, minute__lt=hour + timedelta(hours=1))
                # Locked first: a second run waits, then merges the merged row with itself.
                list(rows.select_for_update().values_list("pk", flat=True))
                totals = rows.values(*key).annotate(**{f"sum_{n}": Sum(n) for n in sums}).order_by()
                merged_rows = [
                    model(
                        minute=hour,
                        **{k: row[k] for k in key},
                        **{n: row[f"sum_{n}"] or 0 for n in sums},
                    )
                    for row in totals
                ]
                rows.delete()
                model.objects.bulk_create(merged_rows)
            merged += 1
    return merged
