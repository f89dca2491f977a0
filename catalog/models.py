"""Destination and source metadata, shaped like Segment's DestinationMetadataV1/SourceMetadataV1.

Rows come from the reference data in ``catalog/data/`` (see ``catalog/loader.py``); the console and
the API only read them. Facts here describe what an entry supports; ``connections/rules.py`` decides
what a given source may have.
"""

from django.db import models

# Segment's documented ceiling for cloud-mode instances of one destination on one source.
MAX_CLOUD_INSTANCES_PER_SOURCE = 25


class SourceKind(models.TextChoices):
    WEB = "web", "Website"
    MOBILE = "mobile", "Mobile"
    SERVER = "server", "Server"
    PROJECT = "project", "Project (legacy)"
    CLOUD = "cloud", "Cloud app"


class ConnectionMode(models.TextChoices):
    CLOUD = "cloud", "Cloud mode"
    DEVICE = "device", "Device mode"


class CatalogEntry(models.Model):
    """What destination and source metadata share."""

    id = models.CharField(primary_key=True, max_length=32)
    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    categories = models.JSONField(default=list)
    website = models.URLField(max_length=300, blank=True)
    options = models.JSONField(default=list, help_text="The settings schema")
    # Lower-cased name, slug, previous names and categories: one indexed column serves search on
    # SQLite and PostgreSQL alike (JSON containment lookups do not exist on SQLite).
    search_text = models.TextField(editable=False, default="")
    # "|Analytics|Raw Data|": category filtering with a plain substring match, for the same reason.
    category_index = models.TextField(editable=False, default="")

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def primary_category(self) -> str:
        return self.categories[0] if self.categories else ""

    @property
    def secret_option_names(self) -> set[str]:
        return {option["name"] for option in self.options if option.get("secret")}

    def index(self, previous_names=()) -> None:
        words = [self.name, self.slug, *previous_names, *self.categories]
        self.search_text = " | ".join(words).lower()
        self.category_index = "|" + "|".join(self.categories) + "|"


class DestinationKind(models.TextChoices):
    DESTINATION = "destination", "Destination"
    WAREHOUSE = "warehouse", "Warehouse"
    DATA_LAKE = "data_lake", "Data lake"


class DestinationMetadata(CatalogEntry):
    status = models.CharField(max_length=32, default="PUBLIC")
    previous_names = models.JSONField(default=list)
    kind = models.CharField(
        max_length=16, choices=DestinationKind.choices, default=DestinationKind.DESTINATION
    )
    connection_modes = models.JSONField(
        default=list, help_text='Offered modes: ["cloud"], ["device"] or both'
    )
    components = models.JSONField(default=list)
    supported_methods = models.JSONField(default=dict)
    supported_platforms = models.JSONField(default=dict)
    supported_features = models.JSONField(default=dict)
    multi_instance_source_kinds = models.JSONField(
        default=list, help_text="Source kinds on which a source may hold several instances"
    )
    cloud_delivery = models.BooleanField(
        default=False, help_text="Segapp's servers can send to it (an adapter exists)"
    )

    class Meta(CatalogEntry.Meta):
        verbose_name = "destination metadata"
        verbose_name_plural = "destination metadata"

    def index(self, previous_names=()) -> None:
        super().index(previous_names or self.previous_names)

    @property
    def offers_cloud(self) -> bool:
        return ConnectionMode.CLOUD in self.connection_modes

    @property
    def offers_device(self) -> bool:
        return ConnectionMode.DEVICE in self.connection_modes

    @property
    def cannot_send_cloud(self) -> bool:
        """Segment offers cloud mode for it, but Segapp has no adapter to send with yet."""
        return self.offers_cloud and not self.cloud_delivery

    def cannot_send_message(self) -> str:
        message = f"Segapp cannot send to {self.name} in cloud mode yet."
        if self.offers_device:
            message += " Device mode works: the browser or app sends to it directly."
        return message

    @property
    def is_hybrid(self) -> bool:
        return self.offers_cloud and self.offers_device

    @property
    def is_device_only(self) -> bool:
        return self.offers_device and not self.offers_cloud

    @property
    def supports_multiple_cloud_instances(self) -> bool:
        return self.supported_features.get("cloudModeInstances") == "MULTIPLE"

    def allows_multiple_on(self, source_kind: str) -> bool:
        """Whether a source of this kind may hold more than one instance of this destination."""
        return (
            self.supports_multiple_cloud_instances
            and source_kind in self.multi_instance_source_kinds
        )

    def instance_summary(self) -> list[str]:
        """Plain sentences for the entry page: how many instances a source may hold."""
        if self.kind == DestinationKind.DATA_LAKE:
            return ["One instance per source: a source cannot send to several data lakes."]
        if self.kind == DestinationKind.WAREHOUSE:
            return [
                "Free and Team workspaces connect one warehouse; Business workspaces any number."
            ]
        if self.is_device_only:
            return ["Device mode only: one instance per source."]
        kinds = [
            SourceKind(k).label.lower() for k in SourceKind.values if self.allows_multiple_on(k)
        ]
        if not kinds:
            return ["One instance per source."]
        lines = [
            f"Up to {MAX_CLOUD_INSTANCES_PER_SOURCE} cloud-mode instances per source on {', '.join(kinds)} sources."
        ]
        if self.offers_device:
            lines.append(
                "At most one device-mode instance per source, besides the cloud-mode ones."
            )
        others = [
            SourceKind(k).label.lower()
            for k in SourceKind.values
            if k != SourceKind.CLOUD and k not in self.multi_instance_source_kinds
        ]
        if others:
            lines.append(f"One instance per source on {', '.join(others)} sources.")
        return lines


class SourceMetadata(CatalogEntry):
    kind = models.CharField(max_length=16, choices=SourceKind.choices)
    is_cloud_event_source = models.BooleanField(default=False)

    class Meta(CatalogEntry.Meta):
        verbose_name = "source metadata"
        verbose_name_plural = "source metadata"
