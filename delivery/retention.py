"""How long the event archive keeps a workspace's events, and removing what it no longer keeps.

On PostgreSQL whole days of the archive go at once: ``delivery.partitions`` drops each partition
whose newest row is older than the longest retention any workspace has. A workspace that keeps
less than that, and every workspace on SQLite, has its older rows deleted a few hundred batches
at a time, so no statement holds locks for long. A deleted source's rows all go in the next run.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete

from connections.models import DestinationInstance, Source
from delivery import partitions
from delivery.models import (
    DeletedSource,
    DeliveryCounter,
    DeliveryError,
    DeliveryJob,
    Event,
    IngestBatch,
    IngestCounter,
    InstanceHealth,
    RedeliveryRun,
    RejectedMessage,
    ReplayedEvent,
    SeenMessage,
)
from segapp.models import Workspace

BATCHES_PER_DELETE = 200


def retention_days(workspace: Workspace) -> int:
    """The workspace's choice, within the server's maximum; the server's default if it has none."""
    days = workspace.retention_days or settings.ARCHIVE_RETENTION_DAYS
    return min(days, settings.ARCHIVE_MAX_RETENTION_DAYS)


def kept_from(workspace: Workspace, now: datetime) -> datetime:
    """The oldest ``received_at`` the archive still holds for the workspace."""
    return now - timedelta(days=retention_days(workspace))


def longest_retention() -> int:
    """Days the longest-keeping workspace keeps: older partitions hold nothing anyone keeps."""
    chosen = Workspace.objects.exclude(retention_days=None).values_list("retention_days", flat=True)
    return min(max([settings.ARCHIVE_RETENTION_DAYS, *chosen]), settings.ARCHIVE_MAX_RETENTION_DAYS)


def run(now: datetime) -> dict:
    """One retention run: partitions created ahead and dropped behind, then the rows of shorter
    retentions and of deleted sources. Returns what it removed, for the log."""
    partitions.prepare(now)
    longest = longest_retention()
    dropped = partitions.drop_older_than(now - timedelta(days=longest))
    deleted, partitioned = 0, partitions.is_partitioned()
    for workspace in Workspace.objects.all():
        # With partitions, only a workspace that keeps less than the longest has rows to delete.
        if partitioned and retention_days(workspace) >= longest:
            continue
        horizon = kept_from(workspace, now)
        for source_id in Source.objects.filter(workspace=workspace).values_list("pk", flat=True):
            deleted += delete_before(source_id, horizon)
    for gone in DeletedSource.objects.all():
        deleted += delete_before(gone.source_id, None)
        IngestCounter.objects.filter(source_id=gone.source_id).delete()
        SeenMessage.objects.filter(source_id=gone.source_id).delete()
        gone.delete()
    first_kept = Event.objects.order_by("pk").values_list("pk", flat=True).first()
    ReplayedEvent.objects.filter(event_id__lt=first_kept or 0).delete()
    return {"partitions_dropped": dropped, "batches_deleted": deleted}


def _forget_instance(sender, instance: DestinationInstance, **kwargs) -> None:
    """The engine's small per-instance rows go with the instance, in its deletion's transaction."""
    for model in (DeliveryCounter, DeliveryError, InstanceHealth, RedeliveryRun, ReplayedEvent):
        model.objects.filter(instance_id=instance.pk).delete()


def delete_before(source_id: str, horizon: datetime | None) -> int:
    """Deletes the source's batches received before ``horizon`` (all of them if None) with their
    events, rejections and jobs, a few hundred batches per transaction; the batches deleted."""
    batches = IngestBatch.objects.filter(source_id=source_id)
    if horizon is not None:
        batches = batches.filter(received_at__lt=horizon)
    deleted = 0
    while ids := list(
        batches.order_by("received_at").values_list("pk", flat=True)[:BATCHES_PER_DELETE]
    ):
        with transaction.atomic():
            Event.objects.filter(batch_id__in=ids).delete()
            RejectedMessage.objects.filter(batch_id__in=ids).delete()
            DeliveryJob.objects.filter(batch_id__in=ids).delete()
            IngestBatch.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
    return deleted


def _remember_deleted(sender, instance: Source, **kwargs) -> None:
    DeletedSource.objects.get_or_create(source_id=instance.pk)


def watch_deletions() -> None:
    post_delete.connect(_remember_deleted, sender=Source, dispatch_uid="retention-source")
    post_delete.connect(
        _forget_instance, sender=DestinationInstance, dispatch_uid="retention-instance"
    )
