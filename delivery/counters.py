"""Per-instance, per-minute outcome counters with latency from ``receivedAt``."""

from bisect import bisect_left
from collections import defaultdict
from datetime import datetime

from django.db import transaction
from django.db.models import F

from delivery.models import LATENCY_BOUNDS_MS, LATENCY_FIELDS, DeliveryCounter, IngestCounter


class Tally:
    """Outcomes gathered during one task, written in one go by ``flush``."""

    def __init__(self):
        self._rows = defaultdict(lambda: [0, 0.0, [0] * (len(LATENCY_BOUNDS_MS) + 1)])

    def add(
        self,
        instance_id: str,
        at: datetime,
        outcome: str,
        reason: str = "",
        latencies_ms=(),
        count=None,
    ):
        row = self._rows[(instance_id, at.replace(second=0, microsecond=0), outcome, reason[:200])]
        latencies = list(latencies_ms)
        row[0] += count if count is not None else len(latencies)
        for latency in latencies:
            row[1] += latency
            row[2][bisect_left(LATENCY_BOUNDS_MS, latency)] += 1

    def flush(self) -> None:
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
    minute = at.replace(second=0, microsecond=0)
    with transaction.atomic():
        IngestCounter.objects.get_or_create(source_id=source_id, minute=minute)
        IngestCounter.objects.filter(source_id=source_id, minute=minute).update(
            accepted=F("accepted") + accepted,
            rejected=F("rejected") + rejected,
            duplicates=F("duplicates") + duplicates,
        )
