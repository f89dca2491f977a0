"""Sources, their write keys, and destination instances with their (partly encrypted) settings."""

import secrets

from django.db import models
from django.db.models import F
from django.utils import timezone

from catalog.models import ConnectionMode, DestinationMetadata, SourceMetadata
from connections.routing_rules import untranslatable
from segapp import crypto
from segapp.ids import new_id
from segapp.models import Workspace


class Source(models.Model):
    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="sources")
    metadata = models.ForeignKey(SourceMetadata, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100)
    enabled = models.BooleanField(default=True)
    settings = models.JSONField(default=dict, blank=True)
    # Bumped by every change to the source, its instances or their filters: the device-mode
    # settings document's ETag, so browsers see a change on their next request.
    config_version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "slug"], name="source_slug_unique_in_workspace"
            )
        ]

    def __str__(self):
        return self.name

    @property
    def kind(self) -> str:
        return self.metadata.kind

    @property
    def sends_events(self) -> bool:
        """Object cloud sources (Stripe, Salesforce…) send objects that only warehouses take."""
        return self.metadata.kind != "cloud" or self.metadata.is_cloud_event_source

    def bump_config_version(self) -> None:
        Source.objects.filter(pk=self.pk).update(config_version=F("config_version") + 1)


def new_write_key() -> str:
    return secrets.token_urlsafe(24)


class WriteKey(models.Model):
    """Identifies a source to the tracking API. Not a secret: browsers and apps embed it."""

    key = models.CharField(max_length=64, unique=True, default=new_write_key, editable=False)
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="write_keys")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"…{self.key[-6:]}"


# Shown instead of a stored secret; submitting it back means "keep the stored value".
MASK = "••••••••"


class EncryptedSettings(models.Model):
    """Connection Settings: plain ones beside the secret ones, which are encrypted at rest."""

    settings = models.JSONField(default=dict, blank=True, help_text="Settings that are not secret")
    # Secret settings, encrypted as one JSON document (segapp.crypto); never returned in clear.
    encrypted_secrets = models.TextField(blank=True, default="", editable=False)

    class Meta:
        abstract = True

    @property
    def secrets(self) -> dict:
        return crypto.decrypt_json(self.encrypted_secrets)

    def masked_settings(self) -> dict:
        """What any page or API response may show: secrets replaced by a mask. A secret map
        (custom headers) shows its names, each value masked."""
        return {
            **self.settings,
            **{
                name: {key: MASK for key in value} if isinstance(value, dict) else MASK
                for name, value in self.secrets.items()
            },
        }

    def seal(self, secret_names: set[str]) -> bool:
        """Moves plain settings that are now secret (a catalog update marked them so) into the
        encrypted ones; True if anything moved. Saving is the caller's."""
        moved = {name: value for name, value in self.settings.items() if name in secret_names}
        if moved:
            self.settings = {k: v for k, v in self.settings.items() if k not in moved}
            self.encrypted_secrets = crypto.encrypt_json({**self.secrets, **moved})
        return bool(moved)


class DestinationInstance(EncryptedSettings):
    """One destination connected to one source, under a name unique within that source."""

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="destination_instances"
    )
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="instances")
    metadata = models.ForeignKey(DestinationMetadata, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=100)
    enabled = models.BooleanField(default=False)
    mode = models.CharField(
        max_length=8, choices=ConnectionMode.choices, default=ConnectionMode.CLOUD
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["source__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "name"], name="instance_name_unique_in_source"
            )
        ]
        indexes = [models.Index(fields=["source", "metadata"])]

    def __str__(self):
        return self.name

    @property
    def is_cloud_mode(self) -> bool:
        return self.mode == ConnectionMode.CLOUD

    def all_settings(self) -> dict:
        """Plain and secret settings together, for the worker that calls the tool."""
        return {**self.settings, **self.secrets}


class SettingsVersion(EncryptedSettings):
    """One version of an instance's Connection Settings, written by every operation that changes
    them (``connections.instances``). Audit entries hold secrets only as masks; a version keeps
    them, encrypted like the instance's, so restoring it brings the secrets back too."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    instance = models.ForeignKey(
        DestinationInstance, on_delete=models.CASCADE, related_name="settings_versions"
    )
    number = models.PositiveIntegerField(help_text="1 for the instance's first settings, then +1")
    action = models.CharField(max_length=64, blank=True, help_text="The audit action that wrote it")
    note = models.CharField(max_length=200, blank=True, help_text="Copied from…, restored from…")
    actor_label = models.CharField(max_length=200)
    audit_entry = models.ForeignKey(
        "segapp.AuditEntry", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["instance_id", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["instance", "number"], name="settings_version_number_unique"
            )
        ]

    def __str__(self):
        return f"{self.instance} settings v{self.number}"


class DestinationFilter(models.Model):
    """A destination filter (Segment's model): when ``condition`` (FQL) matches a message, its
    ``actions`` sample it, drop it, or drop or allow properties, for this instance only."""

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    instance = models.ForeignKey(
        DestinationInstance, on_delete=models.CASCADE, related_name="filters"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    # The FQL text as the user wrote it, and its syntax tree, parsed once when it is saved.
    condition = models.TextField()
    condition_ast = models.JSONField(editable=False)
    actions = models.JSONField(default=list)
    enabled = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["instance", "position", "created_at"]

    def __str__(self):
        return self.title

    @property
    def action_summaries(self) -> list[str]:
        """The actions in a few words each, for lists: "sample 25% by userId", "drop context.ip"."""
        summaries = []
        for action in self.actions:
            fields = ", ".join(
                f"{key}.{name}" if key else name
                for key, names in (action.get("fields") or {}).items()
                for name in names
            )
            kind = action.get("type")
            if kind == "SAMPLE":
                by = f" by {action['path']}" if action.get("path") else ""
                summaries.append(f"sample {action.get('percent', 0) * 100:g}%{by}")
            elif kind == "DROP":
                summaries.append("drop the event")
            elif kind == "DROP_PROPERTIES":
                summaries.append(f"drop {fields}")
            else:
                summaries.append(f"keep only {fields}")
        return summaries

    @property
    def browser_problem(self) -> str | None:
        """Why analytics.js cannot apply this filter in device mode, or None."""
        return untranslatable(self.condition_ast)


class TransformationTarget(models.TextChoices):
    TRACK = "track", "Track events"
    IDENTIFY = "identify", "Identify traits"
    GROUP = "group", "Group traits"
    PAGE = "page", "Page properties"
    SCREEN = "screen", "Screen properties"


class Transformation(models.Model):
    """A source transformation (Protocols style): applied to the source's messages before they fan
    out, so every instance of the source receives the same result."""

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="transformations")
    name = models.CharField(max_length=200)
    enabled = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)
    target = models.CharField(max_length=10, choices=TransformationTarget.choices)
    # For track, page and screen: the event or page name it applies to; empty means every one.
    event_name = models.CharField(max_length=200, blank=True, default="")
    new_event_name = models.CharField(max_length=200, blank=True, default="")
    # On ``properties`` (track, page, screen) or ``traits`` (identify, group):
    renames = models.JSONField(default=dict, blank=True, help_text="old name → new name")
    drops = models.JSONField(default=list, blank=True, help_text="names to remove")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["source", "position", "created_at"]

    def __str__(self):
        return self.name
