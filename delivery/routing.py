"""Routing: from a stored batch to the destination instances that should receive its events.

Every function here is safe to run twice and safe to never run: state lives in ``IngestBatch``
and ``DeliveryJob`` rows, the broker only says "there is work" (DESIGN §4.1).
"""

from collections import defaultdict
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from connections.models import DestinationInstance
from delivery import integrations, pipeline
from delivery.adapters import adapter_for
from delivery.counters import Tally, count_ingest
from delivery.models import DeliveryJob, Event, IngestBatch, Outcome
from privacy import suppressions

# Renewed while the task runs (``delivery/leases.py``): a batch whose worker died is routed by
# another this long afterwards.
ROUTING_LEASE = timedelta(seconds=30)
REQUEUE_LIMIT = 1000  # per sweep; a larger backlog drains over the next sweeps


DISABLED = "instance disabled"
DEVICE_MODE = "device mode: analytics.js or the mobile library sends it from the browser or device"


def idle_reason(instance: DestinationInstance) -> str | None:
    """Why Segapp's servers send ``instance`` no event at all, or None if they send it events.
    Device mode comes first: enabling the instance would not make the servers send to it."""
    if not instance.is_cloud_mode:
        return DEVICE_MODE
    if not instance.enabled:
        return DISABLED
    return None


def source_instances(source_id: str) -> list[DestinationInstance]:
    """Every instance of the source, whatever its state or mode."""
    return list(DestinationInstance.objects.filter(source_id=source_id).select_related("metadata"))


def receiving_instances(source_id: str) -> list[DestinationInstance]:
    """The instances Segapp's servers send to: those ``idle_reason`` finds nothing against."""
    return [instance for instance in source_instances(source_id) if idle_reason(instance) is None]


def route_batch(batch_id: int) -> list[int]:
    """Decides, for each event of the batch and each receiving instance, send or filter (and why),
    and writes one ``DeliveryJob`` per instance. Returns the jobs to send now.

    The caller holds the batch's claim; the conditional update below also makes a second run
    (lease expired under a slow worker) a no-op, so nothing is counted or sent twice.
    """
    batch = IngestBatch.objects.get(pk=batch_id)
    instances = receiving_instances(batch.source_id)
    owed: dict[str, list[int]] = defaultdict(list)
    tally = Tally()
    now = timezone.now()
    if instances:
        plan = pipeline.plan_for(batch.source_id)
        events = Event.objects.filter(batch_id=batch_id).only("id", "user_id", "payload")
        events = list(events.order_by("id"))
        # Suppression goes by the userId as the source sent it (the archive's copy), before any
        # transformation: a regulation names the user the source knows, and no transformation
        # may let a suppressed user through. One query for the batch's users.
        suppressed = suppressions.suppressed(batch.source_id, {e.user_id for e in events})
        for event in events:
            if event.user_id in suppressed:
                why = suppressions.reason(suppressed[event.user_id])
                for instance in instances:
                    tally.add(instance.pk, now, Outcome.FILTERED, why, count=1)
                continue
            message = plan.transform(event.message)
            for instance in instances:
                if reason := refusal(instance, message, plan):
                    tally.add(instance.pk, now, Outcome.FILTERED, reason, count=1)
                else:
                    owed[instance.pk].append(event.pk)
    with transaction.atomic():
        routed = IngestBatch.objects.filter(pk=batch_id, routed_at__isnull=True).update(
            routed_at=now, lease_until=None
        )
        if not routed:
            return []
        count_ingest(
            batch.source_id,
            batch.received_at,
            batch.event_count,
            batch.rejected_count,
            batch.duplicate_count,
        )
        DeliveryJob.objects.bulk_create(
            [
                DeliveryJob(
                    instance_id=instance_id,
                    source_id=batch.source_id,
                    batch_id=batch_id,
                    event_ids=ids,
                )
                for instance_id, ids in owed.items()
            ],
            ignore_conflicts=True,
        )
        tally.flush()
        return list(DeliveryJob.objects.filter(batch_id=batch_id).values_list("pk", flat=True))


def refusal(instance: DestinationInstance, message: dict, plan: pipeline.Plan) -> str | None:
    """Why ``instance`` does not get ``message`` (already transformed), or None if it does."""
    metadata = instance.metadata
    if adapter_for(metadata.slug) is None:
        return f"Segapp cannot send to {metadata.name} in cloud mode yet"
    decision = integrations.decide(
        message.get("integrations"), instance.pk, [metadata.name, *metadata.previous_names]
    )
    if not decision.send:
        return decision.reason
    return plan.admit(instance.pk, message)


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
