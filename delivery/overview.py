"""Delivery Overview's stages, as Segment names them, counted from the per-minute counters
(``IngestCounter`` per source, ``DeliveryCounter`` per instance): one query per stage and window,
whatever the traffic. The console's Delivery Overview (``event_delivery.source_overview``) and the
Public API's ``/delivery-overview/…`` read the same stage definitions.

https://segment.com/docs/connections/delivery-overview/#delivery-overview-steps
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db.models import F, Sum
from django.db.models.functions import Trunc

from delivery.models import DeliveryCounter, IngestCounter, Outcome

# Messages whose messageId the source sent in the last 24 hours are dropped before routing:
# the only reason anything is filtered at the source.
DUPLICATE_REASON = "duplicate messageId within 24 hours"


@dataclass(frozen=True)
class Stage:
    name: str
    # An ingest stage sums these IngestCounter columns; a delivery stage, these outcomes' counts.
    columns: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()
    fixed_reason: str = ""  # the reason of every event counted (ingest stages that have one)
    has_reasons: bool = False
    label: str = ""  # as the console's pipeline names the step

    @property
    def is_delivery(self) -> bool:
        return bool(self.outcomes)


# Successfully received counts what passed validation (stored or deduplicated); the console's
# "Received" adds what failed on ingest.
SUCCESSFULLY_RECEIVED = Stage("successfully-received", columns=("accepted", "duplicates"))
FAILED_ON_INGEST = Stage("failed-on-ingest", columns=("rejected",), label="Failed on ingest")
FILTERED_AT_SOURCE = Stage(
    "filtered-at-source",
    columns=("duplicates",),
    fixed_reason=DUPLICATE_REASON,
    has_reasons=True,
    label="Filtered at source",
)
FILTERED_AT_DESTINATION = Stage(
    "filtered-at-destination",
    outcomes=(Outcome.FILTERED,),
    has_reasons=True,
    label="Filtered at destination",
)
# Retrying events are on their way, not failed: they end delivered, discarded or dead-lettered.
FAILED_DELIVERY = Stage(
    "failed-delivery",
    outcomes=(Outcome.DISCARDED, Outcome.DEAD_LETTERED),
    has_reasons=True,
    label="Failed",
)
SUCCESSFUL_DELIVERY = Stage("successful-delivery", outcomes=(Outcome.DELIVERED,), label="Delivered")

STAGES = {
    stage.name: stage
    for stage in (
        SUCCESSFULLY_RECEIVED,
        FAILED_ON_INGEST,
        FILTERED_AT_SOURCE,
        FILTERED_AT_DESTINATION,
        FAILED_DELIVERY,
        SUCCESSFUL_DELIVERY,
    )
}

# Only the console shows these two: everything that reached the tracking API, valid or not, and
# attempts that failed and will be tried again (counted per attempt, not per event).
RECEIVED = Stage("received", columns=("accepted", "duplicates", "rejected"), label="Received")
RETRYING = Stage("retrying", outcomes=(Outcome.RETRYING,), label="Retrying")

# The console's Delivery Overview, in Segment's order: the first three steps are the source's,
# the rest are counted per destination instance (and summed over them).
PIPELINE = (
    RECEIVED,
    FAILED_ON_INGEST,
    FILTERED_AT_SOURCE,
    FILTERED_AT_DESTINATION,
    RETRYING,
    FAILED_DELIVERY,
    SUCCESSFUL_DELIVERY,
)
DESTINATION_STEPS = tuple(stage for stage in PIPELINE if stage.is_delivery)


def count(stage: Stage, ingest: dict[str, int], outcomes: dict[str, int]) -> int:
    """The stage's total from a source's ``ingest_totals`` or an instance's outcome totals."""
    if stage.is_delivery:
        return sum(outcomes.get(outcome, 0) for outcome in stage.outcomes)
    return sum(ingest.get(column, 0) for column in stage.columns)


@dataclass
class Dataset:
    reason: str | None  # None unless grouped by reason
    counts: dict[datetime, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def datasets(
    stage: Stage,
    *,
    source_id: str,
    instance_id: str | None,
    start: datetime,
    end: datetime,
    step: str,
    by_reason: bool = False,
    reasons: list[str] | None = None,
) -> list[Dataset]:
    """The stage's counts per ``step`` bucket ("minute", "hour", "day") in ``[start, end)``, one
    dataset per reason when ``by_reason``, the largest first; ``reasons`` keeps only those. One
    query. Counters older than ``counters.KEEP_MINUTES_FOR`` are hourly, so minute buckets that
    old hold a whole hour at the hour's first minute."""
    bucket = Trunc("minute", step, tzinfo=UTC)
    if stage.is_delivery:
        rows = DeliveryCounter.objects.filter(
            instance_id=instance_id, outcome__in=stage.outcomes, minute__gte=start, minute__lt=end
        )
        if reasons is not None:
            rows = rows.filter(reason__in=reasons)
        keys = ["bucket", "reason"] if by_reason else ["bucket"]
        rows = rows.annotate(bucket=bucket).values(*keys).annotate(n=Sum("count"))
    else:
        if reasons is not None and stage.fixed_reason not in reasons:
            return []
        total = sum((F(column) for column in stage.columns[1:]), F(stage.columns[0]))
        rows = (
            IngestCounter.objects.filter(source_id=source_id, minute__gte=start, minute__lt=end)
            .annotate(bucket=bucket)
            .values("bucket")
            .annotate(n=Sum(total))
        )
    found: dict[str | None, Dataset] = {}
    for row in rows.order_by():
        if not row["n"]:
            continue
        reason = (row.get("reason", stage.fixed_reason) or "") if by_reason else None
        dataset = found.setdefault(reason, Dataset(reason))
        dataset.counts[row["bucket"]] = dataset.counts.get(row["bucket"], 0) + row["n"]
    if not by_reason and not found:
        found[None] = Dataset(None)  # ungrouped: one series, zeros included
    return sorted(found.values(), key=lambda d: (-d.total, d.reason or ""))


def ingest_totals(source_id: str, start: datetime, end: datetime) -> dict[str, int]:
    """The source's ingest counter columns summed over the window. One query."""
    columns = ("accepted", "rejected", "duplicates")
    sums = IngestCounter.objects.filter(
        source_id=source_id, minute__gte=start, minute__lt=end
    ).aggregate(**{column: Sum(column) for column in columns})
    return defaultdict(int, {column: sums[column] or 0 for column in columns})


@dataclass(frozen=True)
class Target:
    """One row of a source's destination steps: an instance, or something an app above
    ``delivery`` loads the source's events into (a warehouse), counted under its id."""

    pk: str
    name: str
    detail: str
    url: str
    enabled: bool


# Apps above delivery add their own targets (warehouses): source → targets. They register at
# start-up, so delivery imports none of them.
_TARGET_PROVIDERS: list[Callable[[object], list[Target]]] = []


def register_targets(provider: Callable[[object], list[Target]]) -> None:
    if provider not in _TARGET_PROVIDERS:
        _TARGET_PROVIDERS.append(provider)


def other_targets(source) -> list[Target]:
    return [target for provider in _TARGET_PROVIDERS for target in provider(source)]
