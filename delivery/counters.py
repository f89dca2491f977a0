"""Per-instance, per-minute outcome counters with latency from ``receivedAt``."""

from bisect import bisect_left
from collections import defaultdict
from datetime import datetime

from django.db import transaction

from delivery.models import LATENCY_BOUNDS_MS, DeliveryCounter


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
            with transaction.atomic():
                counter, _ = DeliveryCounter.objects.select_for_update().get_or_create(
                    instance_id=instance_id, minute=minute, outcome=outcome, reason=reason
                )
                counter.count += count
                counter.latency_ms_sum += latency_sum
                old = counter.latency_histogram or [0] * len(histogram)
                counter.latency_histogram = [a + b for a, b in zip(old, histogram, strict=True)]
                counter.save(update_fields=["count", "latency_ms_sum", "latency_histogram"])
        self._rows.clear()
