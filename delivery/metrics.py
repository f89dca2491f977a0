"""Delivery metrics over a time window, read from the per-minute ``DeliveryCounter`` rows (never
from raw events), so the Event Delivery pages and the metrics API cost a constant number of
queries whatever the traffic."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Sum
from django.db.models.functions import Trunc

from delivery.models import LATENCY_BOUNDS_MS, LATENCY_FIELDS, DeliveryCounter, Outcome

# The windows the console offers, from ten minutes to two weeks.
WINDOWS = {
    "10m": timedelta(minutes=10),
    "1h": timedelta(hours=1),
    "6h": timedelta(hours=6),
    "24h": timedelta(days=1),
    "7d": timedelta(days=7),
    "14d": timedelta(days=14),
}
DEFAULT_WINDOW = "24h"


@dataclass
class Summary:
    totals: dict[str, int] = field(default_factory=lambda: {o.value: 0 for o in Outcome})
    # outcome → [(reason, count)], most frequent first
    reasons: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    histogram: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BOUNDS_MS) + 1))

    @property
    def p95(self) -> "Latency | None":
        return percentile(self.histogram, 0.95)


@dataclass(frozen=True)
class Latency:
    """An estimated latency: ``ms``, or more than ``ms`` when it lies in the open last bucket."""

    ms: float
    is_open_ended: bool = False

    def __str__(self) -> str:
        return f"> {self.ms:,.0f} ms" if self.is_open_ended else f"≈ {self.ms:,.0f} ms"


def percentile(histogram: list[int], share: float) -> Latency | None:
    """The latency below which ``share`` of the histogram's latencies fall (None: no data).

    Counters keep buckets, not latencies, so within the bucket that holds it the value is
    interpolated linearly between the bucket's bounds (the first bucket starts at 0 ms). The
    last bucket has no upper bound: a percentile there is only known to exceed its lower one.
    """
    total = sum(histogram)
    if not total:
        return None
    needed, seen = share * total, 0
    for index, count in enumerate(histogram):
        if count and seen + count >= needed:
            if index >= len(LATENCY_BOUNDS_MS):
                return Latency(float(LATENCY_BOUNDS_MS[-1]), is_open_ended=True)
            lower = LATENCY_BOUNDS_MS[index - 1] if index else 0
            upper = LATENCY_BOUNDS_MS[index]
            return Latency(lower + (upper - lower) * max(needed - seen, 0) / count)
        seen += count
    return Latency(float(LATENCY_BOUNDS_MS[-1]), is_open_ended=True)


def _in_window(instance_ids, start: datetime, end: datetime):
    return DeliveryCounter.objects.filter(
        instance_id__in=list(instance_ids), minute__gte=start, minute__lt=end
    )


def summaries(
    instance_ids, start: datetime, end: datetime, with_latency: bool = True
) -> dict[str, Summary]:
    """Per instance: totals per outcome, reasons, and (``with_latency``) the latency histogram.
    One query each."""
    found: dict[str, Summary] = defaultdict(Summary)
    rows = (
        _in_window(instance_ids, start, end)
        .values("instance_id", "outcome", "reason")
        .annotate(total=Sum("count"))
        .order_by("-total")
    )
    reasons: dict[tuple[str, str], list] = defaultdict(list)
    for row in rows:
        summary = found[row["instance_id"]]
        summary.totals[row["outcome"]] = summary.totals.get(row["outcome"], 0) + row["total"]
        if row["reason"]:
            reasons[(row["instance_id"], row["outcome"])].append((row["reason"], row["total"]))
    for (instance_id, outcome), listed in reasons.items():
        found[instance_id].reasons[outcome] = listed
    if with_latency:
        delivered = (
            _in_window(instance_ids, start, end)
            .filter(outcome=Outcome.DELIVERED)
            .values("instance_id")
            .annotate(**{name: Sum(name) for name in LATENCY_FIELDS})
            .order_by()
        )
        for row in delivered:
            found[row["instance_id"]].histogram = [row[name] or 0 for name in LATENCY_FIELDS]
    return {instance_id: found[instance_id] for instance_id in instance_ids}


def step_for(span: timedelta) -> str:
    """The chart's bucket: minutes up to six hours, hours up to two days, then days."""
    if span <= timedelta(hours=6):
        return "minute"
    if span <= timedelta(days=2):
        return "hour"
    return "day"


def series(instance_id: str, start: datetime, end: datetime) -> list[dict]:
    """Counts per outcome per bucket, oldest first. One query."""
    step = step_for(end - start)
    rows = (
        _in_window([instance_id], start, end)
        .annotate(bucket=Trunc("minute", step))
        .values("bucket", "outcome")
        .annotate(total=Sum("count"))
        .order_by("bucket")
    )
    buckets: dict[datetime, dict[str, int]] = {}
    for row in rows:
        buckets.setdefault(row["bucket"], {})[row["outcome"]] = row["total"]
    return [{"at": at, **counts} for at, counts in buckets.items()]
