"""Warehouses, the sources connected to them, their tables (selective sync) and sync history."""

from django.db import models
from django.utils import timezone

from catalog.models import DestinationMetadata
from connections.models import EncryptedSettings, Source
from segapp.ids import new_id
from segapp.models import Workspace


class Warehouse(EncryptedSettings):
    """A database the connected sources' events are loaded into (Segment's Warehouse). Its
    connection settings follow the catalog entry's options; the password is a secret."""

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="warehouses")
    metadata = models.ForeignKey(DestinationMetadata, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=100, blank=True)
    enabled = models.BooleanField(default=True)
    # Minutes between scheduled syncs; null follows the plan (warehouses.schedule).
    sync_every_minutes = models.PositiveIntegerField(null=True, blank=True)
    # Segment's advanced schedule: {"times": [{"hourOfDay", "enabled"}], "timezone"}.
    advanced_schedule_enabled = models.BooleanField(default=False)
    advanced_schedule = models.JSONField(default=dict, blank=True)
    next_sync_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name or self.metadata.name

    def all_settings(self) -> dict:
        return {**self.settings, **self.secrets}


class ConnectedSource(models.Model):
    """A source whose events a warehouse loads. ``loaded_through`` is the high-water mark: the
    archive's event id up to which every event of the source is in the warehouse."""

    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.CASCADE, related_name="connected_sources"
    )
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="+")
    loaded_through = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["source__name"]
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "source"], name="warehouse_source_once")
        ]

    def __str__(self):
        return f"{self.source} → {self.warehouse}"


class Collection(models.Model):
    """A table the loader created for a source (``tracks``, ``identifies``, ``order_completed``…)
    with its columns and their types: the schema selective sync turns on and off."""

    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="collections")
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=63)
    columns = models.JSONField(default=dict, help_text="column name → warehouse type")
    enabled = models.BooleanField(default=True)
    disabled_columns = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["source", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["warehouse", "source", "name"], name="collection_once_per_source"
            )
        ]

    def __str__(self):
        return self.name


class SyncStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    RUNNING = "RUNNING", "Running"
    SUCCESS = "SUCCESS", "Succeeded"
    FAILED = "FAILED", "Failed"


class SyncTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Scheduled"
    MANUAL = "manual", "Sync now"


class Sync(models.Model):
    """One load of one connected source's new events into its warehouse. A sync works in
    chunks, each committed in the warehouse before the high-water mark moves, so a crash
    at any point leaves nothing lost and nothing loaded twice."""

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="syncs")
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=8, choices=SyncStatus.choices, default=SyncStatus.PENDING)
    trigger = models.CharField(
        max_length=8, choices=SyncTrigger.choices, default=SyncTrigger.SCHEDULE
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # A worker is loading it until then; a sync whose lease ran out is picked up again.
    lease_until = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(default=timezone.now)
    rows = models.PositiveBigIntegerField(default=0)
    rows_by_table = models.JSONField(default=dict, blank=True)
    discarded = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    hint = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["warehouse", "-created_at"], name="sync_warehouse_latest"),
            models.Index(
                fields=["queued_at"],
                condition=models.Q(status__in=["PENDING", "RUNNING"]),
                name="sync_unfinished",
            ),
        ]

    def __str__(self):
        return f"{self.warehouse} / {self.source} {self.status}"

    @property
    def is_finished(self) -> bool:
        return self.status in (SyncStatus.SUCCESS, SyncStatus.FAILED)

    @property
    def duration(self) -> float:
        """Seconds, partial while it runs."""
        if self.started_at is None:
            return 0.0
        return ((self.finished_at or timezone.now()) - self.started_at).total_seconds()
