"""Events volume: the events sources sent that were stored (valid, not duplicates), per bucket.

Per source, the ingest counters answer in one query whatever the traffic. The counters do not
keep event names or types, so a volume by name or type counts the stored events themselves, read
through their batches (indexed by source and time, and events by batch), and only for windows
the counters say hold at most ``ARCHIVE_LIMIT`` events: a bounded query, or a refusal that says
to narrow the window.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db.models import Count, Sum
from django.db.models.functions import Trunc

from delivery.models import Event, IngestBatch, IngestCounter
from segapp.refusal import Refusal

ARCHIVE_LIMIT = 1_000_000
# groupBy names → the archive's columns.
ARCHIVE_DIMENSIONS = {"eventName": "event_name", "eventType": "type"}


@dataclass
class Volume:
    key: dict  # {"source": id, "eventName": …, "eventType": …}: the dimensions grouped by
    counts: dict[datetime, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def volumes(
    source_ids: list[str],
    start: datetime,
    end: datetime,
    step: str,
    *,
    group_by: list[str],
    event_names: list[str],
    event_types: list[str],
) -> list[Volume]:
    """Volumes per bucket of ``step``, one per combination of ``group_by`` ("source",
    "eventName", "eventType"), the largest first. One query from the counters, two when names or
    types are involved."""
    bucket = Trunc("minute", step, tzinfo=UTC)
    counters = IngestCounter.objects.filter(
        source_id__in=source_ids, minute__gte=start, minute__lt=end
    ).annotate(bucket=bucket)
    by_source = "source" in group_by
    by_archive = [d for d in group_by if d in ARCHIVE_DIMENSIONS]
    if not (by_archive or event_names or event_types):
        keys = ["bucket", "source_id"] if by_source else ["bucket"]
        rows = counters.values(*keys).annotate(n=Sum("accepted")).order_by()
        return _grouped(
            rows, lambda row: {"source": row["source_id"]} if by_source else {}, by_source
        )

    stored = counters.aggregate(n=Sum("accepted"))["n"] or 0
    if stored > ARCHIVE_LIMIT:
        raise Refusal(
            f"This window holds {stored} events; counting them by name or type reads at most "
            f"{ARCHIVE_LIMIT}. Choose a shorter window or fewer sources.",
            rule="validation",
            field="startTime",
        )
    # received_at is the batch's, so the batch index bounds the read; Trunc on the event's own.
    batches = IngestBatch.objects.filter(
        source_id__in=source_ids, received_at__gte=start, received_at__lt=end
    ).values("pk")
    events = Event.objects.filter(batch_id__in=batches)
    if event_names:
        events = events.filter(event_name__in=event_names)
    if event_types:
        events = events.filter(type__in=event_types)
    columns = [ARCHIVE_DIMENSIONS[d] for d in by_archive] + (["source_id"] * by_source)
    rows = (
        events.annotate(bucket=Trunc("received_at", step, tzinfo=UTC))
        .values("bucket", *columns)
        .annotate(n=Count("id"))
        .order_by()
    )
    names = {column: name for name, column in ARCHIVE_DIMENSIONS.items()}
    return _grouped(
        rows,
        lambda row: {
            **({"source": row["source_id"]} if by_source else {}),
            **{names[c]: row[c] for c in columns if c != "source_id"},
        },
        bool(columns),
    )


def _grouped(rows, key_of, grouped: bool) -> list[Volume]:
    """Rows of (bucket, dimensions…, n) as volumes; ungrouped, one volume even with no events."""
    found: dict[tuple, Volume] = {} if grouped else {(): Volume({})}
    for row in rows:
        if not row["n"]:
            continue
        key = key_of(row)
        volume = found.setdefault(tuple(sorted(key.items())), Volume(key))
        volume.counts[row["bucket"]] = volume.counts.get(row["bucket"], 0) + row["n"]
    return sorted(found.values(), key=lambda v: (-v.total, sorted(v.key.items())))
