"""Replay: a source's archived events of a time range sent again to one destination instance.

A replay routes the range's ingest batches in id order behind a cursor (``routed_through``), a
slice at a time: each tick (the ``advance_replays`` sweep, once a second) routes as many events
as its rate allows since the last slice, and none while too many of its jobs still wait to be
sent. Each batch is routed in one transaction with the cursor's move, so a worker killed between
two batches leaves nothing half done, and the worker that takes the replay over starts at the
next batch. Events go through the source's transformations and the instance's current filters,
as live routing would, into jobs that carry the replay's id: the delivery engine sends them like
any other, adds ``context.replay``, and counts them in the replay instead of the live counters.

An event is owed to an instance by one replay at most (``ReplayedEvent``), and a batch live
routing already gave the instance is left out, so replaying a range again sends nothing twice.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from connections.models import DestinationInstance
from delivery import pipeline, retention, routing, rules
from delivery.adapters import adapter_for
from delivery.models import (
    OPEN_JOB_STATES,
    UNFINISHED_REPLAY,
    DeliveryJob,
    Event,
    IngestBatch,
    JobState,
    Replay,
    ReplayedEvent,
    ReplayStatus,
)
from privacy import suppressions
from segapp import audit
from segapp.models import Workspace

LEASE = timedelta(seconds=60)
# A slice routes at most this many seconds' worth of the rate (a replay that waited, for its
# jobs or for a worker, does not then send a burst).
MAX_SLICE_SECONDS = 2.0
BATCHES_PER_READ = 50
# A replay's new jobs are due this far ahead: never sent by the dispatcher, they wait for their
# turn in line (``_next_in_line``).
IN_LINE = timedelta(hours=1)


class _Stopped(Exception):
    """The replay was cancelled, or another worker took it over, while this one routed."""


def matching_events(source_id: str, start: datetime, end: datetime, types=(), event_names=()):
    """The source's archived events received in [start, end), of those types and names if given.
    Read through the batches of the range (an index on (source, received_at)), never the whole
    archive."""
    batches = IngestBatch.objects.filter(
        source_id=source_id, received_at__gte=start, received_at__lt=end
    )
    events = Event.objects.filter(batch_id__in=batches.values("pk"))
    if types:
        events = events.filter(type__in=types)
    if event_names:
        events = events.filter(event_name__in=event_names)
    return events


def snapshot(replay: Replay) -> dict:
    return {
        "startTime": replay.start_time.isoformat(),
        "endTime": replay.end_time.isoformat(),
        "eventNames": replay.event_names,
        "types": replay.types,
        "rate": replay.rate,
        "markContext": replay.mark_context,
        "total": replay.total,
    }


def refuse(
    instance: DestinationInstance,
    start: datetime,
    end: datetime,
    types=(),
    event_names=(),
    rate: int | None = None,
    now: datetime | None = None,
):
    """The first rule a replay of these choices breaks, or None: the console asks before it
    offers Start, and ``start_replay`` asks again under the instance's lock."""
    now = now or timezone.now()
    workspace = instance.workspace
    running = Replay.objects.filter(instance=instance, status__in=UNFINISHED_REPLAY).exists()
    return (
        rules.refuse_plan(workspace.plan)
        or _refuse_destination(instance)
        or rules.refuse_running(running)
        or rules.refuse_range(start, end, retention.kept_from(workspace, now), now)
        or rules.refuse_selection(list(types), list(event_names))
        or rules.refuse_rate(rate if rate is not None else settings.REPLAY_RATE)
    )


def _refuse_destination(instance: DestinationInstance):
    return rules.refuse_destination(
        routing.idle_reason(instance), adapter_for(instance.metadata.slug) is not None
    )


def start_replay(
    instance: DestinationInstance,
    actor,
    *,
    start: datetime,
    end: datetime,
    types=(),
    event_names=(),
    rate: int | None = None,
    mark_context: bool = True,
) -> Replay:
    """Records (and audits) a replay; the caller sends its first slice once this commits
    (``delivery.tasks.queue_replay``). Raises the Refusal of a rule it breaks."""
    now = timezone.now()
    types, event_names = sorted(set(types)), sorted(set(event_names))
    with transaction.atomic():
        Workspace.objects.select_for_update().filter(pk=instance.workspace_id).first()
        instance = DestinationInstance.objects.select_related("metadata", "workspace").get(
            pk=instance.pk
        )
        if refusal := refuse(instance, start, end, types, event_names, rate, now):
            raise refusal
        end = min(end, now)
        replay = Replay.objects.create(
            workspace=instance.workspace,
            instance=instance,
            start_time=start,
            end_time=end,
            types=types,
            event_names=event_names,
            rate=rate or settings.REPLAY_RATE,
            mark_context=mark_context,
            total=matching_events(instance.source_id, start, end, types, event_names).count(),
            requested_by=audit.actor_label(actor),
        )
        audit.record(instance.workspace, actor, "instance.replay_started", instance,
                     after={"replay": replay.pk, **snapshot(replay)})  # fmt: skip
    return replay


def cancel_replay(replay: Replay, actor) -> Replay:
    """Stops routing and takes back the jobs not yet being sent; a job a worker is sending now
    finishes. Raises a Refusal if the replay has already ended."""
    now = timezone.now()
    with transaction.atomic():
        replay = Replay.objects.select_for_update().select_related("instance").get(pk=replay.pk)
        if refusal := rules.refuse_cancel(replay.is_finished):
            raise refusal
        replay.status, replay.finished_at, replay.lease_until = ReplayStatus.CANCELLED, now, None
        replay.save(update_fields=["status", "finished_at", "lease_until"])
        DeliveryJob.objects.filter(replay_id=replay.pk, state__in=OPEN_JOB_STATES).filter(
            Q(lease_until__isnull=True) | Q(lease_until__lt=now)
        ).update(state=JobState.DONE, last_error="replay cancelled", updated_at=now)
        audit.record(replay.workspace, actor, "instance.replay_cancelled", replay.instance,
                     after={"replay": replay.pk, "sent": replay.sent, "total": replay.total})  # fmt: skip
    return replay


def unfinished(now: datetime | None = None) -> list[str]:
    """Replays to advance now: unfinished, and no worker holds them."""
    now = now or timezone.now()
    return list(
        Replay.objects.filter(status__in=UNFINISHED_REPLAY)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .order_by("created_at")
        .values_list("pk", flat=True)
    )


def _claim(replay_id: str, now: datetime) -> bool:
    return (
        Replay.objects.filter(pk=replay_id, status__in=UNFINISHED_REPLAY)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(status=ReplayStatus.RUNNING, lease_until=now + LEASE)
        == 1
    )


def advance(replay_id: str, now: datetime | None = None) -> list[int]:
    """Routes the replay's next slice, or ends it; returns the jobs to send."""
    now = now or timezone.now()
    if not _claim(replay_id, now):
        return []
    Replay.objects.filter(pk=replay_id, started_at__isnull=True).update(started_at=now)
    try:
        replay = Replay.objects.select_related("instance__metadata").get(pk=replay_id)
        return _slice(replay, now)
    except _Stopped:
        return []
    finally:
        Replay.objects.filter(pk=replay_id).update(lease_until=None)


def _end(replay: Replay, status: str, error: str = "", **fields) -> None:
    Replay.objects.filter(pk=replay.pk, status__in=UNFINISHED_REPLAY).update(
        status=status, finished_at=timezone.now(), error=error[:500], **fields
    )


def _waiting_jobs(replay: Replay) -> int:
    return DeliveryJob.objects.filter(replay_id=replay.pk, state__in=OPEN_JOB_STATES).count()


def _slice(replay: Replay, now: datetime) -> list[int]:
    instance = replay.instance
    if refusal := _refuse_destination(instance):  # disabled or switched mode since the start
        _end(replay, ReplayStatus.FAILED, refusal.message)
        return []
    waiting = _waiting_jobs(replay)
    if replay.routed_all and not waiting:
        _end(replay, ReplayStatus.FINISHED, total=F("routed"))
        return []
    if not replay.routed_all and waiting < settings.REPLAY_WAITING_JOBS:
        _route_slice(replay, instance, now)
    return _next_in_line(replay, now)


def _route_slice(replay: Replay, instance, now: datetime) -> None:
    """Routes as many of the range's batches as the rate allows since the last slice."""
    earliest = now - timedelta(seconds=MAX_SLICE_SECONDS)
    since = max(replay.slice_at or now - timedelta(seconds=1), earliest)
    seconds = (now - since).total_seconds()
    if seconds <= 0:
        return  # the last slices' whole batches ran ahead of the rate: wait for it
    budget = max(1, int(replay.rate * seconds))
    plan = pipeline.plan_for(instance.source_id)
    # Only routed batches: one live routing has not reached yet will reach the instance itself.
    batches = (
        IngestBatch.objects.filter(
            source_id=instance.source_id,
            received_at__gte=replay.start_time,
            received_at__lt=replay.end_time,
            routed_at__isnull=False,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    routed = 0
    while routed < budget:
        batch_ids = list(batches.filter(pk__gt=replay.routed_through)[:BATCHES_PER_READ])
        if not batch_ids:
            Replay.objects.filter(pk=replay.pk).update(routed_all=True)
            break
        for batch_id in batch_ids:
            routed += _route(replay, instance, plan, batch_id)
            if routed >= budget:
                break
    # Batches are routed whole, so a slice may route more than its budget: the time it paid
    # for runs past now, and the next slices wait (a rate below the batch size holds).
    paid_until = since + timedelta(seconds=routed / replay.rate)
    Replay.objects.filter(pk=replay.pk).update(slice_at=paid_until)


def _next_in_line(replay: Replay, now: datetime) -> list[int]:
    """The replay's job to send now, if none of its jobs is being sent: its jobs go one at a
    time, each handing its worker slot to the next as it finishes
    (``deliveries._waiting_for_a_slot``), so a replay never fills the broker's queue ahead of
    live traffic. Each tick starts the line again should it have stopped (a failed attempt, a
    worker gone)."""
    if DeliveryJob.objects.filter(replay_id=replay.pk, lease_until__gte=now).exists():
        return []
    first = (
        DeliveryJob.objects.filter(replay_id=replay.pk, state=JobState.PENDING, lease_until=None)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    if first is None:
        return []
    due = timezone.now()  # ``now`` may be a slice's time; the job is due in the workers' time
    DeliveryJob.objects.filter(pk=first).update(next_attempt_at=due, queued_at=due)
    return [first]


def _route(replay: Replay, instance, plan: pipeline.Plan, batch_id: int) -> int:
    """Routes one batch of the range to the instance, with the cursor's move, in one
    transaction, into jobs of ``REPLAY_JOB_EVENTS`` events at most that wait in line
    (``_next_in_line``); the batch's events in the replay."""
    events = list(
        matching_events(instance.source_id, replay.start_time, replay.end_time,
                        replay.types, replay.event_names)
        .filter(batch_id=batch_id).only("id", "user_id", "payload").order_by("pk")
    )  # fmt: skip
    owed, filtered = [], 0
    live = DeliveryJob.objects.filter(
        batch_id=batch_id, instance_id=instance.pk, replay_id=""
    ).exists()
    if not live:
        # Suppressed users stay suppressed in a replay, as in live routing.
        suppressed = suppressions.suppressed(instance.source_id, {e.user_id for e in events})
        for event in events:
            if event.user_id in suppressed or routing.refusal(
                instance, plan.transform(event.message), plan
            ):
                filtered += 1
            else:
                owed.append(event.pk)
    with transaction.atomic():
        current = Replay.objects.select_for_update().filter(
            pk=replay.pk, status=ReplayStatus.RUNNING, routed_through=replay.routed_through
        )
        if not current.exists():
            raise _Stopped
        fresh = _first_time(instance.pk, owed)
        size = settings.REPLAY_JOB_EVENTS
        in_line = timezone.now() + IN_LINE
        DeliveryJob.objects.bulk_create(
            DeliveryJob(
                instance_id=instance.pk,
                source_id=instance.source_id,
                batch_id=batch_id,
                event_ids=fresh[i : i + size],
                replay_id=replay.pk,
                next_attempt_at=in_line,
            )
            for i in range(0, len(fresh), size)
        )
        current.update(
            routed_through=batch_id,
            routed=F("routed") + len(events),
            filtered=F("filtered") + filtered,
            skipped=F("skipped") + len(events) - filtered - len(fresh),
        )
    replay.routed_through = batch_id
    return len(events)


def _first_time(instance_id: str, event_ids: list[int]) -> list[int]:
    """The events no replay has owed the instance yet, now remembered as owed. Only the worker
    holding the instance's one unfinished replay writes here, under that replay's row lock."""
    if not event_ids:
        return []
    before = set(
        ReplayedEvent.objects.filter(instance_id=instance_id, event_id__in=event_ids).values_list(
            "event_id", flat=True
        )
    )
    fresh = [event_id for event_id in event_ids if event_id not in before]
    ReplayedEvent.objects.bulk_create(
        [ReplayedEvent(instance_id=instance_id, event_id=event_id) for event_id in fresh]
    )
    return fresh


def marks_context(job: DeliveryJob) -> bool:
    """Whether the job's messages carry ``context.replay = true``."""
    return (
        bool(job.replay_id) and Replay.objects.filter(pk=job.replay_id, mark_context=True).exists()
    )


def marked(message: dict) -> dict:
    context = message.get("context")
    context = dict(context) if isinstance(context, dict) else {}
    context["replay"] = True
    return {**message, "context": context}
