"""Celery tasks of the delivery app: each takes ids and calls one domain function."""

import logging
from datetime import timedelta
from functools import partial

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from delivery import (
    archive,
    counters,
    deliveries,
    erasure,
    field_discovery,
    leases,
    replays,
    retention,
    routing,
)
from delivery.models import IngestBatch
from delivery.redoable import redoable_writes
from segapp import sweeps

log = logging.getLogger("segapp.delivery")

# Publishing runs after the batch is committed; if the broker is unreachable the sweeper will
# queue the batch later, so one quick retry (a stale pooled connection) is all a request waits for.
# settings.CELERY_BROKER_TRANSPORT_OPTIONS bounds the connection attempts themselves.
PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.1,
    "interval_max": 0.1,
}


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=100, time_limit=120)
def route_batch(batch_id: int) -> None:
    if IngestBatch.claim(batch_id, routing.ROUTING_LEASE):
        lease = routing.ROUTING_LEASE.total_seconds()
        with leases.held(IngestBatch, batch_id, lease), redoable_writes():
            job_ids = routing.route_batch(batch_id)
        for job_id in job_ids:
            publish(deliver_job, job_id)


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=90, time_limit=100)
def deliver_job(job_id: int) -> None:
    with redoable_writes():
        handed_on = deliveries.deliver_job(job_id)
    if handed_on is not None:
        publish(deliver_job, handed_on)


@shared_task(acks_late=True, soft_time_limit=25, time_limit=30)
@sweeps.exclusive(lease_seconds=30)
def dispatch_due_jobs() -> None:
    """Sends the jobs whose retry time has come, and any whose task was lost."""
    grace = timedelta(seconds=settings.ROUTING_SWEEP_GRACE)
    for job_id in deliveries.jobs_to_dispatch(grace):
        publish(deliver_job, job_id)
    for run_id in deliveries.redeliveries_to_resend():
        publish(redeliver_dead_letters, run_id)


@shared_task(acks_late=True, soft_time_limit=250, time_limit=300)
def redeliver_dead_letters(run_id: int) -> None:
    deliveries.run_redelivery(run_id)


def publish(task, *args) -> bool:
    """Sends a task; False (and an error in the log) if the broker refused it: the row it points
    at is committed, and a sweeper sends it later."""
    try:
        task.apply_async(args, retry=True, retry_policy=PUBLISH_RETRY_POLICY)
    except Exception as error:  # kombu and the transports raise many classes: all mean "not sent"
        log.error(
            "task not sent; a sweeper will send it",
            extra={
                "task": task.name,
                "task_args": list(args),
                "error": f"{type(error).__name__}: {error}",
            },
        )
        return False
    return True


def queue_redelivery(run_id: int) -> None:
    """Sends the re-deliver-all task once the run's row is committed."""
    transaction.on_commit(partial(publish, redeliver_dead_letters, run_id))


def queue_routing(batch_id: int) -> bool:
    """Sends the routing task for a committed batch; False (and an error in the log) if the broker
    refused it. The events are already safe, so the request that stored them still succeeds."""
    return publish(route_batch, batch_id)


@shared_task(acks_late=True, soft_time_limit=50, time_limit=60)
@sweeps.exclusive(lease_seconds=60)
def requeue_unrouted_batches() -> None:
    grace = timedelta(seconds=settings.ROUTING_SWEEP_GRACE)
    batch_ids = routing.batches_to_requeue(grace)
    if batch_ids:
        log.warning("re-sending routing tasks", extra={"batches": len(batch_ids)})
    for batch_id in batch_ids:
        queue_routing(batch_id)


@shared_task(acks_late=True, soft_time_limit=250, time_limit=300)
@sweeps.exclusive(lease_seconds=300)
def compact_counters() -> None:
    counters.compact()


@shared_task(acks_late=True, soft_time_limit=250, time_limit=300)
@sweeps.exclusive(lease_seconds=300)
def prune_seen_messages() -> None:
    archive.prune_seen_messages(timezone.now())


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=50, time_limit=60)
def advance_replay(replay_id: str) -> None:
    for job_id in replays.advance(replay_id):
        publish(deliver_job, job_id)


@shared_task(acks_late=True, soft_time_limit=25, time_limit=30)
@sweeps.exclusive(lease_seconds=30)
def advance_replays() -> None:
    """Sends each unfinished replay's next slice (its rate is per second of this tick)."""
    for replay_id in replays.unfinished():
        publish(advance_replay, replay_id)


def queue_replay(replay_id: str) -> None:
    """Sends a new replay's first slice once its row is committed."""
    transaction.on_commit(partial(publish, advance_replay, replay_id))


@shared_task(acks_late=True, soft_time_limit=1700, time_limit=1800)
@sweeps.exclusive(lease_seconds=1800)
def keep_archive() -> None:
    """Partitions ahead and retention behind (``delivery.retention``)."""
    log.info("archive kept", extra=retention.run(timezone.now()))


@shared_task(acks_late=True, soft_time_limit=100, time_limit=120)
@sweeps.exclusive(lease_seconds=120)
def erase_archive() -> None:
    """Deletes regulated users' events from the archive (``delivery.erasure``)."""
    if (done := erasure.run())["archive_steps"]:
        log.info("archive erasure", extra=done)


@shared_task(acks_late=True, soft_time_limit=50, time_limit=60)
@sweeps.exclusive(lease_seconds=60)
def discover_fields() -> None:
    """Samples newly archived events for the Privacy Inbox (``delivery.field_discovery``)."""
    log.info("fields discovered", extra=field_discovery.run())
