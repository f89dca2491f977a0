"""The event archive and its outbox: what the tracking API stored, and what routing still owes.

Foreign keys here carry no database constraint and ``on_delete=DO_NOTHING``. These tables are
append-only and large: PostgreSQL would check a constraint with one trigger per inserted row, and
deleting a source would make Django's cascade walk millions of rows in Python. A deleted source's
rows become orphans that retention removes; nothing reads them (every page looks them up through
their source).
"""

from datetime import timedelta

import orjson
from django.db import models
from django.db.models import Q
from django.utils import timezone

from connections.models import DestinationInstance, Source
from segapp.ids import new_id
from segapp.models import Workspace


def _archive_fk(model, **kwargs):
    return models.ForeignKey(
        model, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", **kwargs
    )


class IngestBatch(models.Model):
    """One accepted tracking request: the outbox row routing works from.

    ``routed_at`` null means routing still owes this batch. The broker only rings the doorbell; a
    lost or duplicated task is repaired by the sweeper (``routing.batches_to_requeue``) and by the
    claim below.
    """

    id = models.BigAutoField(primary_key=True)
    source = _archive_fk(Source)
    received_at = models.DateTimeField()
    event_count = models.PositiveIntegerField(help_text="Events stored (duplicates excluded)")
    duplicate_count = models.PositiveIntegerField(
        default=0, help_text="Messages whose messageId this source sent in the last 24 hours"
    )
    rejected_count = models.PositiveIntegerField(default=0)
    queued_at = models.DateTimeField(help_text="When a routing task was last sent for it")
    lease_until = models.DateTimeField(
        null=True, blank=True, help_text="A worker is routing it until then"
    )
    routed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "ingest batches"
        ordering = ["-id"]
        indexes = [
            # The sweeper's query; a partial index stays as small as the backlog.
            models.Index(
                fields=["queued_at"], condition=Q(routed_at__isnull=True), name="batch_unrouted"
            ),
            # Events volume by name or type reads a window's events through their batches
            # (``delivery.volume``): this finds a source's batches in a window, and the events'
            # index on ``batch`` finds their events, never scanning the archive.
            models.Index(fields=["source", "received_at"], name="batch_source_received"),
        ]

    def __str__(self):
        return f"batch {self.pk} ({self.event_count} events)"

    @classmethod
    def claim(cls, batch_id: int, lease: timedelta) -> bool:
        """Takes the batch for routing unless it is routed or another worker holds a live lease.

        A conditional UPDATE, so two copies of the same task never route at once; a lease that
        expires (worker killed) lets the sweeper's next task take it.
        """
        now = timezone.now()
        claimed = (
            cls.objects.filter(pk=batch_id, routed_at__isnull=True)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .update(lease_until=now + lease)
        )
        return claimed == 1


class Event(models.Model):
    """One stored message, as enriched by the tracking API (``payload`` is its JSON text).

    The payload is kept as text, not jsonb: it is written once and read whole, and text skips
    PostgreSQL's JSON parse on the hot insert. The columns beside it exist for the debugger's
    search and the routing engine's reads.
    """

    id = models.BigAutoField(primary_key=True)
    source = _archive_fk(Source, db_index=False)  # (source, id) below serves it
    batch = _archive_fk(IngestBatch)
    message_id = models.CharField(max_length=255)
    type = models.CharField(max_length=16)
    event_name = models.CharField(max_length=200, blank=True, help_text="track event, page name")
    user_id = models.CharField(max_length=255, blank=True)
    anonymous_id = models.CharField(max_length=255, blank=True)
    timestamp = models.DateTimeField(help_text="Corrected for the client's clock")
    received_at = models.DateTimeField()
    payload = models.TextField()

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["source", "id"], name="event_source_latest")]

    def __str__(self):
        return f"{self.type} {self.event_name or self.message_id}"

    @property
    def message(self) -> dict:
        return orjson.loads(self.payload)

    @property
    def label(self) -> str:
        """What the debugger's list shows for it."""
        return self.event_name or self.type.capitalize()


class SeenMessage(models.Model):
    """A (source, messageId) received in the last 24 hours: the dedupe key.

    Why a table of its own rather than a unique key on the archive: Segment dedupes within 24 hours,
    not forever, and the archive will be partitioned by time (DESIGN §8), where a unique key must
    include the partition column. This table holds one day of ids, so its unique index stays
    small and hot; ``ON CONFLICT`` on it makes concurrent requests agree at the database
    (``archive.claim_message_ids``), and the hourly prune keeps it at one day.
    """

    id = models.BigAutoField(primary_key=True)
    source = _archive_fk(Source, db_index=False)  # the unique key below serves it
    message_id = models.CharField(max_length=255)
    received_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "message_id"], name="seen_message_unique")
        ]

    def __str__(self):
        return self.message_id


class RejectedMessage(models.Model):
    """A message the tracking API refused while accepting the rest of its request, and why."""

    id = models.BigAutoField(primary_key=True)
    source = _archive_fk(Source, db_index=False)  # (source, id) below serves it
    batch = _archive_fk(IngestBatch)
    received_at = models.DateTimeField()
    code = models.CharField(max_length=32)
    reason = models.CharField(max_length=300)
    message_id = models.CharField(max_length=255, blank=True)
    type = models.CharField(max_length=32, blank=True)
    payload = models.TextField()

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["source", "id"], name="rejected_source_latest")]

    def __str__(self):
        return f"{self.code}: {self.reason}"


class JobState(models.TextChoices):
    PENDING = "pending", "Pending"
    RETRYING = "retrying", "Retrying"
    DONE = "done", "Done"
    DEAD_LETTERED = "dead_lettered", "Dead-lettered"


# A job in these states still has sending ahead of it (the engine's due jobs, a replay's waiting).
OPEN_JOB_STATES = [JobState.PENDING, JobState.RETRYING]


class DeliveryJob(models.Model):
    """Events of one ingested batch owed to one destination instance: the unit of sending.

    One row per (batch, instance), not per event: rows are the cost model (DESIGN §4.1). The
    unique key makes routing idempotent; ``next_attempt_at`` and ``lease_until`` keep retries and
    claims in the database, so a lost Celery message or a killed worker only delays the job.
    When some of its events succeed and others must wait, the job keeps the waiting ones.
    """

    id = models.BigAutoField(primary_key=True)
    instance_id = models.CharField(max_length=32)
    source_id = models.CharField(max_length=32)
    batch = _archive_fk(IngestBatch)
    event_ids = models.JSONField(help_text="Archive ids of the events still owed")
    # Set on a replay's jobs: counted in the replay, not in the live counters.
    replay_id = models.CharField(max_length=32, blank=True, default="")
    state = models.CharField(max_length=16, choices=JobState.choices, default=JobState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(
        default=timezone.now, help_text="When a task was last sent for it"
    )
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # Live routing's idempotence; a replay's own memory is ``ReplayedEvent``.
            models.UniqueConstraint(
                fields=["batch", "instance_id"],
                condition=Q(replay_id=""),
                name="one_live_job_per_batch_instance",
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state__in=["pending", "retrying"]),
                name="job_due",
            ),
            models.Index(fields=["instance_id", "state"], name="job_instance_state"),
            # The jobs being sent, per instance (``deliveries.claim`` counts its slots).
            models.Index(
                fields=["instance_id", "lease_until"],
                condition=Q(lease_until__isnull=False),
                name="job_instance_leased",
            ),
            models.Index(
                fields=["replay_id", "state"],
                condition=~Q(replay_id=""),
                name="job_replay_state",
            ),
        ]

    def __str__(self):
        return f"job {self.pk}: {len(self.event_ids)} events to {self.instance_id} ({self.state})"


class DeliveryAck(models.Model):
    """An event of a job its tool acknowledged during an attempt that has not finished yet
    (``delivery.progress.Progress``): what a worker that takes the job over need not send again.

    Written once per answer and deleted when the attempt finishes, so on PostgreSQL the table is
    unlogged: its writes skip the log, and a crash of PostgreSQL, which empties it, only means
    that those events may be sent twice."""

    id = models.BigAutoField(primary_key=True)
    job_id = models.BigIntegerField(db_index=True)
    event_id = models.BigIntegerField()

    def __str__(self):
        return f"event {self.event_id} of job {self.job_id}"


class DeliveryError(models.Model):
    """A failed attempt, with what we sent and what came back (secrets masked): the last ones per
    instance are kept for the console."""

    id = models.BigAutoField(primary_key=True)
    instance_id = models.CharField(max_length=32, db_index=True)
    job_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=16)
    reason = models.CharField(max_length=500)
    message_ids = models.JSONField(default=list)
    request = models.JSONField(default=dict, help_text="method, url, headers, body (masked)")
    response = models.JSONField(default=dict, help_text="status, body excerpt")

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"{self.outcome}: {self.reason[:80]}"


class Outcome(models.TextChoices):
    DELIVERED = "delivered", "Delivered"
    DISCARDED = "discarded", "Not delivered (discarded)"
    RETRYING = "retrying", "Retrying"
    FILTERED = "filtered", "Filtered"
    DEAD_LETTERED = "dead_lettered", "Dead-lettered"


# Upper bounds (ms) of the latency histogram kept with each counter; the last bucket is open.
LATENCY_BOUNDS_MS = [100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000]


class DeliveryCounter(models.Model):
    """Outcomes per instance per minute (and reason), with latency from ``receivedAt``:
    pages and metrics read these rows, never the raw events.

    The latency histogram is one column per bucket (``latency_0`` … counts latencies up to
    ``LATENCY_BOUNDS_MS[0]``, the last counts the rest), so a window's histogram is one SUM.
    """

    id = models.BigAutoField(primary_key=True)
    instance_id = models.CharField(max_length=32)
    minute = models.DateTimeField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    reason = models.CharField(max_length=200, blank=True, default="")
    count = models.PositiveBigIntegerField(default=0)
    latency_ms_sum = models.FloatField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["instance_id", "minute", "outcome", "reason"], name="counter_key"
            )
        ]

    def __str__(self):
        return f"{self.instance_id} {self.minute:%H:%M} {self.outcome} {self.count}"

    @property
    def latency_histogram(self) -> list[int]:
        return [getattr(self, name) for name in LATENCY_FIELDS]


LATENCY_FIELDS = [f"latency_{index}" for index in range(len(LATENCY_BOUNDS_MS) + 1)]
for _name in LATENCY_FIELDS:
    DeliveryCounter.add_to_class(_name, models.PositiveBigIntegerField(default=0))


class IngestCounter(models.Model):
    """What a source sent per minute: messages stored, refused at ingest, and duplicates of a
    messageId seen in the last 24 hours. Delivery Overview's first stages read these rows."""

    id = models.BigAutoField(primary_key=True)
    source_id = models.CharField(max_length=32)
    minute = models.DateTimeField()
    accepted = models.PositiveBigIntegerField(default=0)
    rejected = models.PositiveBigIntegerField(default=0)
    duplicates = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source_id", "minute"], name="ingest_counter_key")
        ]

    def __str__(self):
        return f"{self.source_id} {self.minute:%H:%M} +{self.accepted} -{self.rejected}"


class RedeliveryRun(models.Model):
    """Re-deliver all: puts an instance's dead-lettered jobs back in line, in chunks, in a Celery
    task whose progress the Event Delivery page follows."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"

    id = models.BigAutoField(primary_key=True)
    instance_id = models.CharField(max_length=32, db_index=True)
    requested_by = models.CharField(max_length=200)
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    total_jobs = models.PositiveIntegerField(default=0)
    done_jobs = models.PositiveIntegerField(default=0)
    events = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(default=timezone.now, help_text="When a task was last sent")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"re-deliver {self.done_jobs}/{self.total_jobs} to {self.instance_id}"

    @property
    def percent(self) -> int:
        return 100 if not self.total_jobs else round(100 * self.done_jobs / self.total_jobs)


class InstanceHealth(models.Model):
    """The circuit breaker of one instance: after repeated failures it stops sending until
    ``open_until``, when one job probes the destination again."""

    instance_id = models.CharField(max_length=32, primary_key=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    open_until = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.instance_id}: {self.consecutive_failures} failures"


class ReplayStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    RUNNING = "RUNNING", "Running"
    FINISHED = "FINISHED", "Finished"
    CANCELLED = "CANCELLED", "Cancelled"
    FAILED = "FAILED", "Failed"


UNFINISHED_REPLAY = [ReplayStatus.PENDING, ReplayStatus.RUNNING]


class Replay(models.Model):
    """Archived events of one time range sent again to one destination instance
    (``delivery.replays``): routed a slice at a time behind ``routed_through``, at ``rate``
    events per second at most, into jobs that carry its id."""

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    instance = models.ForeignKey(
        DestinationInstance, on_delete=models.CASCADE, related_name="replays"
    )
    start_time = models.DateTimeField()
    end_time = models.DateTimeField()
    event_names = models.JSONField(default=list, blank=True)
    types = models.JSONField(default=list, blank=True)
    mark_context = models.BooleanField(
        default=True, help_text="Replayed events carry context.replay = true"
    )
    rate = models.PositiveIntegerField(help_text="Events per second at most")
    status = models.CharField(
        max_length=16, choices=ReplayStatus.choices, default=ReplayStatus.PENDING
    )
    total = models.PositiveIntegerField(default=0, help_text="Archived events in the range")
    sent = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0, help_text="Discarded or dead-lettered")
    filtered = models.PositiveIntegerField(
        default=0, help_text="Kept back by the instance's filters or the integrations object"
    )
    skipped = models.PositiveIntegerField(default=0, help_text="The instance already had them")
    routed = models.PositiveIntegerField(default=0, help_text="Events routed so far")
    routed_through = models.BigIntegerField(default=0, help_text="The last ingest batch routed")
    routed_all = models.BooleanField(default=False)
    requested_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    slice_at = models.DateTimeField(
        null=True, blank=True, help_text="Up to when its rate has paid for what it routed"
    )
    lease_until = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["instance"],
                condition=Q(status__in=UNFINISHED_REPLAY),
                name="one_unfinished_replay_per_instance",
            )
        ]
        indexes = [models.Index(fields=["status"], name="replay_status")]

    def __str__(self):
        return f"replay {self.start_time:%Y-%m-%d %H:%M} to {self.end_time:%Y-%m-%d %H:%M}"

    @property
    def is_finished(self) -> bool:
        return self.status not in UNFINISHED_REPLAY

    @property
    def settled(self) -> int:
        """Events the replay is done with, whatever became of them."""
        return self.sent + self.failed + self.filtered + self.skipped

    @property
    def percent(self) -> int:
        if self.status == ReplayStatus.FINISHED or not self.total:
            return 100 if self.status == ReplayStatus.FINISHED else 0
        return min(100, 100 * self.settled // self.total)


class ReplayedEvent(models.Model):
    """An archived event some replay has owed an instance: a later or resumed replay leaves it
    out, so replays are idempotent per (instance, messageId)."""

    id = models.BigAutoField(primary_key=True)
    instance_id = models.CharField(max_length=32)
    event_id = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["instance_id", "event_id"], name="replayed_once")
        ]

    def __str__(self):
        return f"event {self.event_id} to {self.instance_id}"


class DeletedSource(models.Model):
    """A source deleted from the console, the API or admin (with its workspace, perhaps): the next
    retention run removes its archived rows, then this row (``delivery.retention``)."""

    source_id = models.CharField(primary_key=True, max_length=32)
    deleted_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"deleted source {self.source_id}"
