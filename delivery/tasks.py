"""Celery tasks of the delivery app: each takes ids and calls one domain function."""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from delivery import archive, routing
from delivery.models import IngestBatch

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
        routing.route_batch(batch_id)


def queue_routing(batch_id: int) -> bool:
    """Sends the routing task for a committed batch; False (and an error in the log) if the broker
    refused it. The events are already safe, so the request that stored them still succeeds."""
    try:
        route_batch.apply_async((batch_id,), retry=True, retry_policy=PUBLISH_RETRY_POLICY)
    except Exception as error:  # kombu and the transports raise many classes: all mean "not sent"
        log.error(
            "routing task not sent; the sweeper will send it",
            extra={"batch_id": batch_id, "error": f"{type(error).__name__}: {error}"},
        )
        return False
    return True


@shared_task(acks_late=True, soft_time_limit=50, time_limit=60)
def requeue_unrouted_batches() -> None:
    grace = timedelta(seconds=settings.ROUTING_SWEEP_GRACE)
    batch_ids = routing.batches_to_requeue(grace)
    if batch_ids:
        log.warning("re-sending routing tasks", extra={"batches": len(batch_ids)})
    for batch_id in batch_ids:
        queue_routing(batch_id)


@shared_task(acks_late=True, soft_time_limit=250, time_limit=300)
def prune_seen_messages() -> None:
    archive.prune_seen_messages(timezone.now())
