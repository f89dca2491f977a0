"""Routing: from a stored batch to the destination instances that should receive its events.

Every function here is safe to run twice and safe to never run: state lives in ``IngestBatch``
rows, the broker only says "there is work" (DESIGN §4.1).
"""

from datetime import datetime, timedelta

from django.utils import timezone

from delivery.models import IngestBatch

# Longer than the routing task's hard time limit, so a live task never loses its claim.
ROUTING_LEASE = timedelta(minutes=3)
REQUEUE_LIMIT = 1000  # per sweep; a larger backlog drains over the next sweeps


def route_batch(batch_id: int) -> None:
    """The delivery engine's entry point for one ingested batch; the caller holds its claim.

    Today it only records the batch as routed. The delivery engine fans out from here: read the
    batch's events from the archive, apply source transformations, the integrations object and
    each cloud-mode instance's filters, then write one delivery row per instance and event batch
    (DESIGN §4). Whatever it grows into must stay idempotent, because a lease that expires hands
    the same batch to another worker.
    """
    IngestBatch.objects.filter(pk=batch_id, routed_at__isnull=True).update(
        routed_at=timezone.now(), lease_until=None
    )


def batches_to_requeue(grace: timedelta, now: datetime | None = None) -> list[int]:
    """Batches still unrouted a grace period after their last routing task was sent.

    Their task was lost (broker down or restarted at publish time, a worker killed) or is stuck
    in a backlog; sending another is harmless because ``IngestBatch.claim`` lets only one run.
    Marking them queued now spaces the next attempt by another grace period.
    """
    now = now or timezone.now()
    cutoff = now - grace
    ids = list(
        IngestBatch.objects.filter(routed_at__isnull=True, queued_at__lt=cutoff)
        .order_by("queued_at")
        .values_list("pk", flat=True)[:REQUEUE_LIMIT]
    )
    if ids:
        IngestBatch.objects.filter(pk__in=ids, routed_at__isnull=True).update(queued_at=now)
    return ids
