"""The privacy layer's configuration: the fields seen in each workspace's events and their
classification, the matchers that suggest one, the data controls that act on classified fields in
routing, the HIPAA encryption key, and the regulations (deletion and suppression) of end users.

``delivery`` and ``warehouses`` read these rows and act on them; nothing here imports them."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from connections.models import DestinationInstance, Source
from segapp.ids import new_id
from segapp.models import Workspace


class Classification(models.TextChoices):
    RED = "red", "Red"  # restricted
    YELLOW = "yellow", "Yellow"  # sensitive
    GREEN = "green", "Green"  # ok


# Fields.


class Field(models.Model):
    """A field seen in a workspace's events: ``properties.email``, ``traits.address.city``,
    ``context.ip``. Unclassified fields are the Inbox, with the matchers' suggestion; classified
    ones are the Inventory, and only those are acted on by data controls and encryption."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    path = models.CharField(max_length=255)
    classification = models.CharField(
        max_length=8, choices=Classification.choices, blank=True, default=""
    )
    suggested = models.CharField(max_length=8, choices=Classification.choices, blank=True)
    suggested_by = models.CharField(max_length=100, blank=True, help_text="the matcher's name")
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    classified_at = models.DateTimeField(null=True, blank=True)
    classified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "path"], name="privacy_field_once")
        ]
        indexes = [models.Index(fields=["workspace", "classification", "last_seen_at"])]

    def __str__(self):
        return self.path


class FieldSighting(models.Model):
    """Where a field was seen: which source and which event (``track Order Completed``,
    ``identify``), how often in the samples discovery read, and when last."""

    field = models.ForeignKey(Field, on_delete=models.CASCADE, related_name="sightings")
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="+")
    event = models.CharField(max_length=255)
    count = models.PositiveBigIntegerField(default=0)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-last_seen_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["field", "source", "event"], name="privacy_sighting_once"
            )
        ]

    def __str__(self):
        return f"{self.field} in {self.event}"


class MatchOn(models.TextChoices):
    KEY = "key", "Key"
    VALUE = "value", "Value"


class Matcher(models.Model):
    """A workspace's own matcher, beside the built-in ones (``privacy/matchers.py``)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    classification = models.CharField(max_length=8, choices=Classification.choices)
    match_on = models.CharField(max_length=8, choices=MatchOn.choices, default=MatchOn.KEY)
    pattern = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="privacy_matcher_name_once")
        ]

    def __str__(self):
        return self.name


class DiscoveryCursor(models.Model):
    """How far field discovery has read the archive (an event id), for the whole installation."""

    name = models.CharField(primary_key=True, max_length=32, default="archive")
    read_through = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.name} read through {self.read_through}"


# Data controls and encryption.


class ControlAction(models.TextChoices):
    SEND = "send", "Send"
    DROP = "drop", "Drop the field"
    HASH = "hash", "Hash it (SHA-256)"
    BLOCK = "block", "Block the event"


class DataControl(models.Model):
    """What happens to Red or Yellow fields for the destinations of one catalog category (an
    empty ``category``: every category without a control of its own)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    category = models.CharField(max_length=100, blank=True)
    classification = models.CharField(
        max_length=8, choices=[c for c in Classification.choices if c[0] != Classification.GREEN]
    )
    action = models.CharField(max_length=8, choices=ControlAction.choices)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["category", "classification"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "category", "classification"], name="privacy_control_once"
            )
        ]

    def __str__(self):
        return f"{self.classification} for {self.category or 'every category'}: {self.action}"


class YellowProtection(models.TextChoices):
    NONE = "none", "As the data controls say"
    ENCRYPT = "encrypt", "Encrypt (HIPAA workspaces)"
    HASH = "hash", "Hash (SHA-256)"


class InstancePrivacy(models.Model):
    """One destination instance's privacy choices: whether Red fields may reach it at all, and
    how Yellow fields that are sent to it are protected."""

    instance = models.OneToOneField(
        DestinationInstance, primary_key=True, on_delete=models.CASCADE, related_name="privacy"
    )
    red_allowed = models.BooleanField(default=False)
    yellow_protection = models.CharField(
        max_length=8, choices=YellowProtection.choices, default=YellowProtection.NONE
    )
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"privacy of {self.instance}"


class EncryptionKey(models.Model):
    """The RSA public key (PEM) a HIPAA-eligible workspace's Yellow fields are encrypted with."""

    workspace = models.OneToOneField(
        Workspace, primary_key=True, on_delete=models.CASCADE, related_name="encryption_key"
    )
    public_key_pem = models.TextField()
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the key's DER form")
    bits = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(default=timezone.now)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self):
        return f"{self.bits}-bit key {self.fingerprint[:16]}"


# Regulations: deletion and suppression of end users.


class RegulationType(models.TextChoices):
    SUPPRESS_ONLY = "SUPPRESS_ONLY"
    UNSUPPRESS = "UNSUPPRESS"
    DELETE_ONLY = "DELETE_ONLY"
    SUPPRESS_WITH_DELETE = "SUPPRESS_WITH_DELETE"
    DELETE_INTERNAL = "DELETE_INTERNAL"


class RegulationStatus(models.TextChoices):
    INITIALIZED = "INITIALIZED"
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    PARTIAL_SUCCESS = "PARTIAL_SUCCESS"
    FAILED = "FAILED"
    INVALID = "INVALID"
    NOT_SUPPORTED = "NOT_SUPPORTED"


class Regulation(models.Model):
    """A request to suppress or delete the data of end users (by ``userId``), for the whole
    workspace or one source (Segment's regulate request)."""

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    # Null for a workspace-wide regulation. A deleted source's id stays (no constraint): were it
    # nulled, the source's regulation would read as the whole workspace's.
    source = models.ForeignKey(
        Source,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    regulation_type = models.CharField(max_length=32, choices=RegulationType.choices)
    subject_type = models.CharField(max_length=16, default="USER_ID")
    subject_ids = models.JSONField(default=list)
    status = models.CharField(
        max_length=16, choices=RegulationStatus.choices, default=RegulationStatus.INITIALIZED
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by = models.CharField(max_length=200, blank=True, help_text="A user or a token")

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [models.Index(fields=["workspace", "-created_at"])]

    def __str__(self):
        return f"{self.regulation_type} {self.id}"

    @property
    def is_finished(self) -> bool:
        return self.finished_at is not None


class Suppression(models.Model):
    """A user id whose events are accepted but never routed, for the workspace or one source."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    user_id = models.CharField(max_length=255)
    regulation = models.ForeignKey(
        Regulation, null=True, on_delete=models.SET_NULL, related_name="suppressions"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["user_id"]
        indexes = [models.Index(fields=["workspace", "user_id"])]
        # A user is suppressed once per scope; the two keys are also routing's lookup, one batch's
        # userIds at a time (``privacy.suppressions``).
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "user_id"],
                condition=models.Q(source__isnull=True),
                name="privacy_suppressed_in_workspace_once",
            ),
            models.UniqueConstraint(
                fields=["source", "user_id"],
                condition=models.Q(source__isnull=False),
                name="privacy_suppressed_in_source_once",
            ),
        ]

    def __str__(self):
        return self.user_id


class DeletionStep(models.Model):
    """One system a deleting regulation must be carried out in: ``archive`` (the event archive
    and what was sampled from it) or a warehouse; the regulation's status follows its steps."""

    regulation = models.ForeignKey(Regulation, on_delete=models.CASCADE, related_name="steps")
    system = models.CharField(max_length=64, help_text="``archive``, or ``warehouse:<id>``")
    label = models.CharField(max_length=200, blank=True, help_text="What the console calls it")
    # The sources whose data the step deletes there (empty: every source the regulation covers).
    source_ids = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=16, choices=RegulationStatus.choices, default=RegulationStatus.INITIALIZED
    )
    deleted = models.PositiveBigIntegerField(default=0)
    # Where the system's sweep resumes (its own keys: an archive cursor, tables done).
    progress = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["regulation", "system"]
        constraints = [
            models.UniqueConstraint(fields=["regulation", "system"], name="privacy_step_once")
        ]
        # Each system's sweep reads its unfinished steps: a partial index as small as the work.
        indexes = [
            models.Index(
                fields=["system", "regulation"],
                condition=models.Q(status__in=["INITIALIZED", "RUNNING"]),
                name="privacy_step_open",
            )
        ]

    def __str__(self):
        return f"{self.regulation_id} in {self.system}: {self.status}"
