"""What the Event Delivery page (per instance) and Delivery Overview (per source) show, from
the counters: a bounded number of queries whatever the number of events."""

from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse
from django.utils import timezone

from delivery import charts, metrics, overview
from delivery.models import (
    DeliveryError,
    DeliveryJob,
    Event,
    JobState,
    Outcome,
    RedeliveryRun,
    Replay,
)
from delivery.pretty import pretty_text

FAILED = (Outcome.DISCARDED, Outcome.RETRYING, Outcome.DEAD_LETTERED)
ERROR_GROUPS = 10
DEAD_LETTERS_SHOWN = 50
REPLAYS_SHOWN = 3


@dataclass
class Window:
    key: str
    start: datetime
    end: datetime

    @classmethod
    def from_query(cls, value: str | None) -> "Window":
        key = value if value in metrics.WINDOWS else metrics.DEFAULT_WINDOW
        end = timezone.now()
        return cls(key, end - metrics.WINDOWS[key], end)


@dataclass
class ErrorGroup:
    outcome: str
    reason: str
    count: int
    sample: DeliveryError | None = None
    sent: str = ""  # the event as the source sent it, pretty JSON

    @property
    def request_body(self) -> str:
        return pretty_text(self.sample.request.get("body", "")) if self.sample else ""

    @property
    def response_body(self) -> str:
        return pretty_text(self.sample.response.get("body", "")) if self.sample else ""


def error_groups(instance, summary: metrics.Summary) -> list[ErrorGroup]:
    """The most frequent failure reasons, each with the latest recorded attempt that failed for
    it and the event the source sent."""
    groups = sorted(
        (ErrorGroup(outcome, reason, count) for outcome in FAILED
         for reason, count in summary.reasons.get(outcome, [])),
        key=lambda g: -g.count,
    )[:ERROR_GROUPS]  # fmt: skip
    samples: dict[str, DeliveryError] = {}
    for error in DeliveryError.objects.filter(instance_id=instance.pk).order_by("-id")[:100]:
        samples.setdefault(error.reason[:200], error)
    for group in groups:
        group.sample = samples.get(group.reason)
    sampled = [g.sample for g in groups if g.sample and g.sample.message_ids]
    # Looked up through the failed jobs' batches (indexed), not by messageId across the archive.
    batches = DeliveryJob.objects.filter(pk__in=[s.job_id for s in sampled]).values("batch_id")
    sent = dict(
        Event.objects.filter(
            batch_id__in=batches, message_id__in={s.message_ids[0] for s in sampled}
        ).values_list("message_id", "payload")
    )
    for group in groups:
        if group.sample and group.sample.message_ids:
            group.sent = pretty_text(sent.get(group.sample.message_ids[0], ""))
    return groups


def instance_page(instance, window: Window) -> dict:
    summary = metrics.summaries([instance.pk], window.start, window.end)[instance.pk]
    step = metrics.step_for(window.end - window.start)
    points = metrics.series(instance.pk, window.start, window.end)
    dead = DeliveryJob.objects.filter(instance_id=instance.pk, state=JobState.DEAD_LETTERED)
    return {
        "window": window,
        "windows": list(metrics.WINDOWS),
        "summary": summary,
        "totals": summary.totals,
        "chart": charts.stacked_bars(points, window.start, window.end, step),
        "errors": error_groups(instance, summary),
        # What filters, idle instances and unsupported event types kept back, with counts.
        "filtered_reasons": summary.reasons.get(Outcome.FILTERED, []),
        "dead_letters": list(dead.order_by("-updated_at")[:DEAD_LETTERS_SHOWN]),
        "dead_letter_count": dead.count(),
        "run": RedeliveryRun.objects.filter(instance_id=instance.pk).first(),
        # Replayed deliveries are counted in their replay, never in the live numbers above.
        "replays": list(Replay.objects.filter(instance_id=instance.pk)[:REPLAYS_SHOWN]),
    }


@dataclass
class Step:
    stage: overview.Stage
    count: int


@dataclass
class OverviewRow:
    target: overview.Target
    steps: list[Step]  # overview.DESTINATION_STEPS, in order


def instance_target(instance, workspace_slug: str, window: Window) -> overview.Target:
    url = reverse("delivery:event-delivery", args=[workspace_slug, instance.pk])
    return overview.Target(
        instance.pk,
        instance.name,
        f"{instance.metadata.name} · {instance.get_mode_display()}",
        f"{url}?window={window.key}",
        instance.enabled,
    )


def source_overview(source, instances, window: Window) -> dict:
    """The pipeline's steps (``overview.PIPELINE``) for the source, then the destination steps
    per instance (and per warehouse it loads into), enabled ones first. Two queries, whatever
    the instances and traffic."""
    slug = source.workspace.slug
    targets = [instance_target(i, slug, window) for i in instances]
    targets += overview.other_targets(source)
    ingest = overview.ingest_totals(source.pk, window.start, window.end)
    summaries = metrics.summaries(
        [t.pk for t in targets], window.start, window.end, with_latency=False
    )
    rows = [
        OverviewRow(t, [Step(stage, overview.count(stage, {}, summaries[t.pk].totals))
                        for stage in overview.DESTINATION_STEPS])
        for t in targets
    ]  # fmt: skip
    steps = [
        Step(stage, sum(row.steps[overview.DESTINATION_STEPS.index(stage)].count for row in rows))
        if stage.is_delivery
        else Step(stage, overview.count(stage, ingest, {}))
        for stage in overview.PIPELINE
    ]
    return {
        "window": window,
        "windows": list(metrics.WINDOWS),
        "steps": steps,
        "destination_steps": overview.DESTINATION_STEPS,
        "rows": [row for row in rows if row.target.enabled],
        "disabled_rows": [row for row in rows if not row.target.enabled],
    }
