"""Sending one ``DeliveryJob``: claim it, build the tool's requests, send, and record what
happened. ``retries.decide`` says what follows each verdict; this module only carries it out."""

import logging
import time
from collections import Counter, deque
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from datetime import datetime, timedelta
from math import ceil

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from connections import endpoints
from connections.models import DestinationInstance
from delivery import leases, pipeline, replays, retries, routing
from delivery.adapters import adapter_for
from delivery.adapters.base import Adapter, PreparedRequest, Result, Verdict
from delivery.counters import Tally
from delivery.masking import masked, masked_request, masked_response
from delivery.models import (
    OPEN_JOB_STATES,
    DeliveryError,
    DeliveryJob,
    Event,
    InstanceHealth,
    JobState,
    Outcome,
    RedeliveryRun,
)
from delivery.progress import Progress
from delivery.sender import Response, send
from segapp import audit
from segapp.refusal import Refusal

logger = logging.getLogger(__name__)

# The circuit breaker opens after this many failed attempts in a row...
BREAKER_THRESHOLD = 3
# ...for this long, doubling with each further failure up to the maximum.
BREAKER_BASE = timedelta(seconds=10)
BREAKER_MAX = timedelta(minutes=5)
KEPT_ERRORS_PER_INSTANCE = 100
# Follow-up requests one prepared request may lead to (a lookup, then a create or an update), so a
# tool whose answers keep calling for more cannot hold a worker.
MAX_FOLLOW_UPS = 4
_RANK = {Verdict.DELIVERED: 0, Verdict.DISCARD: 1, Verdict.RETRY: 2}
# A job whose instance has no free slot waits for one to be handed on, or this long at most.
SLOT_WAIT = timedelta(seconds=5)
ERASED = "deleted from the archive by a user deletion"
# A job has one more request in flight for each such span (seconds) its tool takes to answer.
SLOW_ANSWER = 0.005


def _due(now: datetime):
    """Jobs whose time has come and on which no worker holds a live lease."""
    return DeliveryJob.objects.filter(state__in=OPEN_JOB_STATES, next_attempt_at__lte=now).filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    )


def _claimable(job_id: int, now: datetime):
    return _due(now).filter(pk=job_id)


def _without_a_free_slot(now: datetime):
    """Instances whose ``DELIVERY_INSTANCE_SLOTS`` jobs are all being sent now (few rows: the
    leased jobs, through their partial index)."""
    return (
        DeliveryJob.objects.filter(lease_until__gte=now)
        .values("instance_id")
        .annotate(taken=Count("pk"))
        .filter(taken__gte=settings.DELIVERY_INSTANCE_SLOTS)
        .values("instance_id")
    )


def _replay_slots_taken(now: datetime) -> Exists:
    """Whether replays' jobs hold all ``REPLAY_SLOTS`` worker processes they may hold."""
    leased = DeliveryJob.objects.filter(lease_until__gte=now).exclude(replay_id="")
    nth = settings.REPLAY_SLOTS - 1
    return Exists(leased.order_by().values("pk")[nth : nth + 1])


def claim(job_id: int, now: datetime) -> bool:
    """Takes a due job unless another worker holds a live lease on it, its instance already has
    ``DELIVERY_INSTANCE_SLOTS`` jobs being sent, or it is a replay's and replays hold their
    ``REPLAY_SLOTS`` (one conditional UPDATE).

    The slots are isolation: a tool that hangs keeps at most that many worker processes waiting,
    and a replay at most its few, and the others go on sending to everyone else. Two workers
    claiming at the same moment may each see a free slot, so a limit can be passed by one now
    and then, never by many."""
    return (
        _claimable(job_id, now)
        .exclude(instance_id__in=_without_a_free_slot(now))
        .exclude(~Q(replay_id="") & Q(_replay_slots_taken(now)))
        .update(
            lease_until=now + timedelta(seconds=settings.DELIVERY_JOB_LEASE),
            attempts=F("attempts") + 1,
            first_attempt_at=Coalesce("first_attempt_at", now),
            updated_at=now,
        )
        == 1
    )


def _wait_for_a_slot(job_id: int, now: datetime) -> None:
    """A due job its instance has no slot for waits, without spending an attempt, until a job
    of the instance finishes and hands its slot on (``_waiting_for_a_slot``); should that never
    come (its worker died), the dispatcher sends it after ``SLOT_WAIT``."""
    _claimable(job_id, now).update(next_attempt_at=now + SLOT_WAIT, queued_at=now)


def _waiting_for_a_slot(instance_id: str) -> int | None:
    """The job of the instance that has waited longest for a slot, made due now; None if none
    waits. Pending jobs due later are those (or jobs waiting for an open breaker's probe, which
    wait again if sent)."""
    now = timezone.now()
    waiting = (
        DeliveryJob.objects.filter(
            instance_id=instance_id,
            state=JobState.PENDING,
            next_attempt_at__gt=now,
            lease_until__isnull=True,
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)
        .first()
    )
    if waiting is None:
        return None
    taken = DeliveryJob.objects.filter(pk=waiting, next_attempt_at__gt=now).update(
        next_attempt_at=now, queued_at=now
    )
    return waiting if taken else None


def deliver_job(job_id: int) -> int | None:
    """Sends what the job owes, if it can be claimed; returns a job of the same instance that
    waited for the slot this one frees, to be sent now."""
    now = timezone.now()
    if not claim(job_id, now):
        _wait_for_a_slot(job_id, now)
        return None
    with leases.held(DeliveryJob, job_id, settings.DELIVERY_JOB_LEASE):
        job = DeliveryJob.objects.get(pk=job_id)
        healthy = _deliver(job, now)
    # A tool that failed would only have the next job wait for its breaker or its retry.
    return _waiting_for_a_slot(job.instance_id) if healthy else None


def _deliver(job: DeliveryJob, now: datetime) -> bool:
    """One attempt at the job; True if the tool took it without a failure worth retrying."""
    instance = (
        DestinationInstance.objects.select_related("metadata").filter(pk=job.instance_id).first()
    )
    tally = Tally(job.replay_id)
    progress = Progress(job)
    # Deleted, switched off or to device mode since routing owed it these events.
    reason = "destination deleted" if instance is None else routing.idle_reason(instance)
    if reason:
        tally.add(job.instance_id, now, Outcome.FILTERED, reason, count=len(progress.owed))
        _finish(job, tally, progress, [], None, JobState.DONE, reason)
        return False
    if wait_until := _breaker_wait(instance.pk, now):
        # Breaker open: wait for the probe instead of spending a worker on a failing tool.
        DeliveryJob.objects.filter(pk=job.pk).update(
            next_attempt_at=wait_until, lease_until=None, attempts=F("attempts") - 1
        )
        return False

    try:
        adapter = adapter_of(instance)
    except Refusal as refusal:
        # A stored endpoint the catalog no longer allows: sending would hand the tool's
        # credentials to another host, and no retry helps until someone changes the setting.
        reason = f"Not sent: {refusal.message}"
        count = len(progress.owed)
        tally.add(instance.pk, now, Outcome.DISCARDED, reason[:200], count=count)
        _finish(job, tally, progress, [], None, JobState.DONE, reason)
        return False

    owed = progress.owed
    events = {
        e.pk: e for e in Event.objects.filter(pk__in=owed).only("id", "payload", "received_at")
    }
    messages = {}
    plan = pipeline.plan_for(instance.source_id)
    mark = replays.marked if replays.marks_context(job) else None
    for event_id in owed:
        event = events.get(event_id)
        if event is None:  # a user's data deleted since routing (privacy regulations)
            tally.add(instance.pk, now, Outcome.FILTERED, ERASED, count=1)
            continue
        message = plan.transform(event.message)
        message, reason = plan.receive(instance.pk, mark(message) if mark else message)
        if message is None:
            tally.add(instance.pk, now, Outcome.FILTERED, reason, count=1)
            continue
        messages[message["messageId"]] = (event_id, event.received_at, message)
    verdicts: dict[str, tuple[Verdict, str]] = {}
    prepared, unsupported, failure = build(adapter, [m for _, _, m in messages.values()])
    if failure:
        # Nothing was sent: every message's attempt failed, and retries.decide judges it.
        verdicts = {message_id: (Verdict.RETRY, failure) for message_id in messages}
    for item in unsupported:
        tally.add(instance.pk, now, Outcome.FILTERED, item.reason, count=1)

    secrets = instance.secrets
    progress.needed = len(prepared) > 1  # a job of one request is settled by finishing it
    # A message is settled once every request carrying it has an answer.
    unanswered = Counter(message_id for request in prepared for message_id in request.message_ids)
    retry_after, failed, succeeded = None, False, False
    for chain in chains(adapter, prepared):
        for request, response, result in chain:
            if result.verdict == Verdict.RETRY:
                failed = True
                if response.retry_after is not None:
                    retry_after = max(retry_after or 0, response.retry_after)
            elif result.verdict == Verdict.DELIVERED:
                succeeded = True
            if result.verdict != Verdict.DELIVERED or result.per_message:
                _record_error(instance, job, request, response, result)
            for message_id in request.message_ids:
                verdict, reason = result.per_message.get(
                    message_id, (result.verdict, result.reason)
                )
                verdict = (verdict, masked(reason, secrets))  # reasons are shown and counted
                current = verdicts.get(message_id)
                if current is None or _RANK[verdict[0]] > _RANK[current[0]]:
                    verdicts[message_id] = verdict
        unanswered.subtract(chain[0][0].message_ids)
        progress.delivered(
            messages[message_id][0]
            for message_id in chain[0][0].message_ids
            if unanswered[message_id] == 0 and verdicts[message_id][0] == Verdict.DELIVERED
        )
    _update_breaker(instance.pk, failed, succeeded, now)

    done = timezone.now()
    remaining, next_at, dead, last_error = [], None, False, ""
    for message_id, (verdict, reason) in verdicts.items():
        event_id, received_at, _ = messages[message_id]
        decision = retries.decide(verdict, job.attempts, job.first_attempt_at, done, retry_after)
        if decision.state == retries.Next.DELIVERED:
            tally.add(
                instance.pk, done, Outcome.DELIVERED, latencies_ms=[_latency_ms(received_at, done)]
            )
        elif decision.state == retries.Next.DISCARDED:
            tally.add(instance.pk, done, Outcome.DISCARDED, reason, count=1)
        else:
            remaining.append(event_id)
            last_error = reason
            if decision.state == retries.Next.DEAD:
                dead = True
            else:
                next_at = min(next_at or decision.next_attempt_at, decision.next_attempt_at)
    if remaining and dead:
        # Messages of one job share their attempts and window, so they reach its end together.
        tally.add(instance.pk, done, Outcome.DEAD_LETTERED, last_error[:200], count=len(remaining))
        _finish(job, tally, progress, remaining, None, JobState.DEAD_LETTERED, last_error)
    elif remaining:
        tally.add(instance.pk, done, Outcome.RETRYING, last_error[:200], count=len(remaining))
        _finish(job, tally, progress, remaining, next_at, JobState.RETRYING, last_error)
    else:
        _finish(job, tally, progress, [], None, JobState.DONE, "")
    return not failed


def adapter_of(instance: DestinationInstance, *, signing: bool = True) -> Adapter:
    """The instance's adapter, with its settings (secrets included); the caller knows it has one.
    ``signing=False`` leaves out the settings that sign requests, for bodies a user wrote.

    Raises the Refusal of a stored endpoint override that names a host the tool's credentials
    may not go to (stored before the rule, or since the catalog or the operator narrowed it)."""
    extra = settings.ENDPOINT_EXTRA_HOSTS
    if refusal := endpoints.refuse_stored_endpoint(
        instance.metadata.options, instance.settings, extra
    ):
        raise refusal
    adapter = adapter_for(instance.metadata.slug)
    values = instance.all_settings()
    if not signing:
        values = {k: v for k, v in values.items() if k not in adapter.signing_settings}
    return adapter(
        values,
        names=(instance.metadata.name, *instance.metadata.previous_names),
        instance_id=instance.pk,
    )


def build(adapter: Adapter, messages: list[dict]) -> tuple[list, list, str]:
    """The adapter's requests and unsupported messages, and why building failed ("" if it did
    not): settings stored before they were validated must fail an attempt, not the task."""
    try:
        return (*adapter.build(messages), "")
    except Exception as exc:
        logger.warning("requests could not be built", extra={"error": type(exc).__name__})
        return [], [], f"the request could not be built: {type(exc).__name__}"


def exchanges(adapter, prepared: list[PreparedRequest]):
    """(request, response, result) of every request ``chains`` sends."""
    for chain in chains(adapter, prepared):
        yield from chain


def chains(adapter, prepared: list[PreparedRequest]):
    """Sends each request and reads its answer, yielding each request's chain of exchanges (the
    follow-up requests an answer calls for are sent right after it, at most ``MAX_FOLLOW_UPS``)
    as soon as it is complete.

    How many requests of a job are in flight follows how long the tool takes to answer: one at a
    time while it answers within ``SLOW_ANSWER`` on average, one more for each such span, up to
    ``DELIVERY_PARALLEL_REQUESTS`` when the tool's requests are independent. Against a quick tool
    side by side would not be faster (a process's requests share one core), and the fewer
    requests in flight, the fewer are sent twice if the worker dies; a slow tool's job waits for
    its slowest answers, not for their sum."""
    limit = settings.DELIVERY_PARALLEL_REQUESTS if adapter.independent_requests else 1
    pending, in_flight = deque(prepared), set()
    answers: list[float] = []  # seconds each took; the first waited for a new connection too
    while pending or in_flight:
        window = _window(answers[1:], limit)
        if window == 1 and not in_flight:  # in this thread: no hand-over between threads
            chain, seconds = _timed_chain(adapter, pending.popleft())
            answers.append(seconds)
            yield chain
            continue
        while pending and len(in_flight) < window:
            in_flight.add(_request_pool().submit(_timed_chain, adapter, pending.popleft()))
        done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
        for future in done:
            chain, seconds = future.result()
            answers.append(seconds)
            yield chain


def _window(answers: list[float], limit: int) -> int:
    """Requests to have in flight, given how long answers took so far."""
    if not answers:
        return 1
    return min(limit, max(1, ceil(sum(answers) / len(answers) / SLOW_ANSWER)))


def _timed_chain(adapter, first: PreparedRequest):
    started = time.monotonic()
    chain = _chain(adapter, first)
    return chain, time.monotonic() - started


def _chain(adapter, first: PreparedRequest) -> list[tuple[PreparedRequest, Response, Result]]:
    done, queue, budget = [], [first], MAX_FOLLOW_UPS
    while queue:
        request = queue.pop(0)
        response = send(request)
        result = _result(adapter, request, response)
        done.append((request, response, result))
        more = result.follow_up[:budget]
        budget -= len(more)
        queue[0:0] = more
    return done


_pool: ThreadPoolExecutor | None = None


def _request_pool() -> ThreadPoolExecutor:
    """One pool per worker process, made after the fork (threads do not survive one)."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(settings.DELIVERY_PARALLEL_REQUESTS, "delivery-send")
    return _pool


def _result(adapter, request: PreparedRequest, response: Response) -> Result:
    if response.status == 0:
        # No answer at all: a timeout or a refused connection may pass; a policy refusal won't.
        return Result(Verdict.DISCARD if response.permanent else Verdict.RETRY, response.error)
    try:
        return adapter.interpret(request, response.status, response.body)
    except Exception as exc:  # an answer of a shape the tool does not document
        logger.warning("answer could not be read", extra={"error": type(exc).__name__})
        reason = f"HTTP {response.status}, an answer that could not be read: {type(exc).__name__}"
        return Result(Verdict.RETRY, reason)


def _finish(job, tally: Tally, progress: Progress, remaining, next_at, state, error: str):
    """Ends the attempt: the events still owed, the next step, and the counters, together."""
    with transaction.atomic():
        progress.settle(tally, timezone.now())
        DeliveryJob.objects.filter(pk=job.pk).update(
            event_ids=remaining,
            state=state,
            next_attempt_at=next_at or timezone.now(),
            lease_until=None,
            last_error=error[:500],
            updated_at=timezone.now(),
        )
        tally.flush()


def _latency_ms(received_at: datetime, now: datetime) -> float:
    return max(0.0, (now - received_at).total_seconds() * 1000)


def _breaker_wait(instance_id: str, now: datetime) -> datetime | None:
    """None if a job for this instance may send now, else when to try again.

    Open: every job waits. Once the pause is over, the one job that wins the conditional update
    probes the tool; the others wait for its outcome (which closes or reopens the breaker).
    """
    health = InstanceHealth.objects.filter(pk=instance_id).first()
    if health is None or health.open_until is None:
        return None
    if health.open_until > now:
        return health.open_until
    probing = now + BREAKER_BASE
    won = InstanceHealth.objects.filter(pk=instance_id, open_until=health.open_until).update(
        open_until=probing
    )
    return None if won else probing


def _update_breaker(instance_id: str, failed: bool, succeeded: bool, now: datetime) -> None:
    if succeeded and not failed:
        # Only an unhealthy row is written: every successful job would otherwise queue on it.
        InstanceHealth.objects.filter(pk=instance_id).filter(
            Q(consecutive_failures__gt=0) | Q(open_until__isnull=False)
        ).update(consecutive_failures=0, open_until=None)
        return
    if not failed:
        return
    # Counted in SQL: workers failing at the same moment each add their failure.
    InstanceHealth.objects.get_or_create(pk=instance_id)
    InstanceHealth.objects.filter(pk=instance_id).update(
        consecutive_failures=F("consecutive_failures") + 1
    )
    failures = InstanceHealth.objects.get(pk=instance_id).consecutive_failures
    if failures >= BREAKER_THRESHOLD:
        pause = BREAKER_BASE * 2 ** (failures - BREAKER_THRESHOLD)
        InstanceHealth.objects.filter(pk=instance_id).update(
            open_until=now + min(pause, BREAKER_MAX)
        )


def _record_error(
    instance, job, request: PreparedRequest, response: Response, result: Result
) -> None:
    secrets = instance.secrets
    outcome = Outcome.RETRYING if result.verdict == Verdict.RETRY else Outcome.DISCARDED
    DeliveryError.objects.create(
        instance_id=instance.pk,
        job_id=job.pk,
        outcome=outcome,
        reason=masked(result.reason, secrets)[:500],
        message_ids=request.message_ids[:50],
        request=masked_request(request, secrets, body_limit=4000),
        response=masked_response(response, secrets, body_limit=2000),
    )
    stale = DeliveryError.objects.filter(instance_id=instance.pk).order_by("-id")[
        KEPT_ERRORS_PER_INSTANCE:
    ][:1]
    if stale:
        DeliveryError.objects.filter(instance_id=instance.pk, id__lte=stale[0].id).delete()


def jobs_to_dispatch(grace: timedelta, limit: int = 500) -> list[int]:
    """Due jobs whose task was not sent within ``grace`` (lost, or a retry or a wait for a slot
    whose time has come). Jobs of an instance whose breaker is open, or whose slots are all
    taken, stay where they are: sending them would only have them wait again."""
    now = timezone.now()
    breaker_open = InstanceHealth.objects.filter(open_until__gt=now).values("instance_id")
    due = (
        _due(now)
        .filter(Q(queued_at__lt=now - grace) | Q(queued_at__lt=F("next_attempt_at")))
        .exclude(instance_id__in=_without_a_free_slot(now))
        .exclude(instance_id__in=breaker_open)
    )
    ids = list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
    if ids:
        DeliveryJob.objects.filter(pk__in=ids).update(queued_at=now)
    return ids


def _requeue(jobs) -> int:
    """Dead-lettered jobs back in line with a fresh retry window; ``queued_at`` in the past lets
    the dispatcher send them on its next tick."""
    now = timezone.now()
    return jobs.update(
        state=JobState.PENDING,
        attempts=0,
        first_attempt_at=None,
        next_attempt_at=now,
        lease_until=None,
        queued_at=now - timedelta(days=1),
        updated_at=now,
    )


def redeliver(job_id: int, instance_id: str | None = None) -> bool:
    """Puts one dead-lettered job (of ``instance_id``, if given) back in line."""
    jobs = DeliveryJob.objects.filter(pk=job_id, state=JobState.DEAD_LETTERED)
    if instance_id is not None:
        jobs = jobs.filter(instance_id=instance_id)
    return _requeue(jobs) == 1


REDELIVERY_CHUNK = 200


def start_redelivery(instance: DestinationInstance, actor) -> RedeliveryRun:
    """Records (and audits) a re-deliver-all request; ``run_redelivery`` (a Celery task) carries
    it out, and ``redeliveries_to_resend`` sends its task again should it be lost."""
    dead = DeliveryJob.objects.filter(instance_id=instance.pk, state=JobState.DEAD_LETTERED)
    run = RedeliveryRun.objects.create(
        instance_id=instance.pk, requested_by=audit.actor_label(actor), total_jobs=dead.count()
    )
    audit.record(instance.workspace, actor, "instance.redelivery_requested", instance,
                 after={"dead_lettered_batches": run.total_jobs})  # fmt: skip
    return run


# Longer than the task's time limit, so a live run is not sent a second task.
REDELIVERY_RESEND_AFTER = timedelta(minutes=6)


def redeliveries_to_resend(now: datetime | None = None) -> list[int]:
    """Unfinished runs whose task was lost (broker down, worker killed); running one twice is
    harmless, it only moves jobs that are still dead-lettered."""
    now = now or timezone.now()
    stale = RedeliveryRun.objects.exclude(state=RedeliveryRun.State.DONE).filter(
        queued_at__lt=now - REDELIVERY_RESEND_AFTER
    )
    ids = list(stale.values_list("pk", flat=True)[:100])
    RedeliveryRun.objects.filter(pk__in=ids).update(queued_at=now)
    return ids


def run_redelivery(run_id: int) -> None:
    """Puts the instance's dead-lettered jobs (those dead when the run was asked for) back in
    line, a chunk at a time, recording progress; the dispatcher sends them on its next tick."""
    run = RedeliveryRun.objects.get(pk=run_id)
    if run.state == RedeliveryRun.State.DONE:
        return
    RedeliveryRun.objects.filter(pk=run_id).update(state=RedeliveryRun.State.RUNNING)
    dead = DeliveryJob.objects.filter(
        instance_id=run.instance_id, state=JobState.DEAD_LETTERED, updated_at__lte=run.created_at
    )
    while ids := list(dead.order_by("id").values_list("pk", flat=True)[:REDELIVERY_CHUNK]):
        events = sum(
            len(e)
            for e in DeliveryJob.objects.filter(pk__in=ids).values_list("event_ids", flat=True)
        )
        _requeue(DeliveryJob.objects.filter(pk__in=ids, state=JobState.DEAD_LETTERED))
        RedeliveryRun.objects.filter(pk=run_id).update(
            done_jobs=F("done_jobs") + len(ids), events=F("events") + events
        )
    RedeliveryRun.objects.filter(pk=run_id).update(
        state=RedeliveryRun.State.DONE, finished_at=timezone.now()
    )
