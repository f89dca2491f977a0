"""Warehouses, syncs and selective sync in the Public API's shapes (WarehouseV1, SyncV1,
WarehouseSelectiveSyncItemV1 of ``@segment/public-api-sdk-typescript``), and the inputs that call
``warehouses.operations``.

Segment has no top-level ``name`` in WarehouseV1: the name travels inside ``settings``, as
Segment's own responses show it. A client that sends back the settings it read therefore sends the
name too; the inputs take it out of ``settings`` before the connection settings are checked.
"""

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from catalog.api.serializers import WarehouseMetadataSerializer
from catalog.models import DestinationMetadata
from connections.api.destinations import settings_errors
from segapp.api.base import OperationSerializer
from segapp.api.fields import StorableDictField
from warehouses import operations, postgres
from warehouses.models import Collection, Sync, SyncStatus, Warehouse


@extend_schema_field({"type": "object", "additionalProperties": {}})
class WarehouseSettingsField(serializers.Field):
    """The connection settings, secrets masked, and the warehouse's name."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, warehouse: Warehouse):
        return {"name": warehouse.display_name, **warehouse.masked_settings()}


@extend_schema_serializer(component_name="WarehouseV1")
class WarehouseSerializer(serializers.Serializer):
    """WarehouseV1."""

    id = serializers.CharField()
    metadata = WarehouseMetadataSerializer()
    workspaceId = serializers.CharField(source="workspace_id")
    enabled = serializers.BooleanField()
    settings = WarehouseSettingsField()


def name_and_settings(validated: dict) -> tuple[str | None, dict | None]:
    """The name (top level first, else the one inside ``settings``) and the connection settings."""
    settings = validated.get("settings")
    name = validated.get("name")
    if settings is not None and "name" in settings:
        settings = {k: v for k, v in settings.items() if k != "name"}
        inner = validated["settings"]["name"]
        if name is None and isinstance(inner, str):
            name = inner
    return name, settings


@extend_schema_serializer(component_name="CreateWarehouseV1Input")
class CreateWarehouseSerializer(OperationSerializer):
    """CreateWarehouseV1Input. The plan rule and the catalog entry are checked by the operation."""

    metadataId = serializers.PrimaryKeyRelatedField(
        queryset=DestinationMetadata.objects.all(),
        error_messages={"does_not_exist": "No warehouse in the catalog has id “{pk_value}”."},
    )
    name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    enabled = serializers.BooleanField(required=False, default=True)
    settings = StorableDictField()

    def create(self, validated):
        name, settings = name_and_settings(validated)
        with settings_errors():
            return operations.create_warehouse(
                self.workspace,
                validated["metadataId"],
                self.actor,
                settings=settings,
                name=name or "",
                enabled=validated["enabled"],
            )


@extend_schema_serializer(component_name="UpdateWarehouseV1Input")
class UpdateWarehouseSerializer(OperationSerializer):
    """UpdateWarehouseV1Input: the fields sent change; ``settings`` merge into the stored ones and
    a secret sent back as the mask keeps its value."""

    name = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=100)
    enabled = serializers.BooleanField(required=False)
    settings = StorableDictField(required=False, allow_null=True)

    def update(self, warehouse, validated):
        name, settings = name_and_settings(validated)
        with settings_errors():
            return operations.update_warehouse(
                warehouse,
                self.actor,
                name=name,
                enabled=validated.get("enabled"),
                settings=settings,
            )


def tested_state(metadata, settings: dict, stored_secrets: dict) -> str:
    """CONNECTED when Segapp can connect with the settings and create schemas, else FAILED."""
    try:
        operations.test_connection(metadata, settings, stored_secrets)
    except postgres.WarehouseError:
        return "FAILED"
    return "CONNECTED"


@extend_schema_serializer(component_name="CreateValidationInWarehouseV1Input")
class ValidationSerializer(OperationSerializer):
    """CreateValidationInWarehouseV1Input: settings to test before a warehouse is saved. Saving it
    tests them, and stores nothing."""

    metadataId = serializers.PrimaryKeyRelatedField(
        queryset=DestinationMetadata.objects.all(),
        error_messages={"does_not_exist": "No warehouse in the catalog has id “{pk_value}”."},
    )
    settings = StorableDictField()

    def create(self, validated):
        _, settings = name_and_settings(validated)
        with settings_errors():
            return tested_state(validated["metadataId"], settings, {})


@extend_schema_serializer(component_name="SyncNoticeV1")
class SyncNoticeSerializer(serializers.Serializer):
    level = serializers.CharField()
    message = serializers.CharField()
    createdAt = serializers.CharField()


def human_duration(seconds: float) -> str:
    """``42s``, ``3m 5s``, ``2h 10m``."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


def notices(sync: Sync) -> list[dict]:
    """What a sync has to say: the database's error and a hint when it failed, and the values
    that went to the discards table."""
    when = (sync.finished_at or sync.created_at).isoformat()
    said = []
    if sync.status == SyncStatus.FAILED:
        said.append({"level": "error", "message": sync.error, "createdAt": when})
        if sync.hint:
            said.append({"level": "info", "message": sync.hint, "createdAt": when})
    if sync.discarded:
        said.append(
            {
                "level": "warning",
                "message": f"{sync.discarded} values did not fit their column's type; each is "
                "in the source's discards table with the reason.",
                "createdAt": when,
            }
        )
    return said


@extend_schema_serializer(component_name="SyncV1")
class SyncSerializer(serializers.Serializer):
    """SyncV1: one load of one source. ``count`` is the rows loaded, ``duration`` in seconds."""

    sourceId = serializers.CharField(source="source_id")
    start = serializers.SerializerMethodField()
    end = serializers.DateTimeField(source="finished_at", allow_null=True)
    status = serializers.CharField(help_text="PENDING, RUNNING, SUCCESS or FAILED")
    duration = serializers.FloatField()
    humanDuration = serializers.SerializerMethodField()
    count = serializers.IntegerField(source="rows")
    notices = serializers.SerializerMethodField()

    def get_start(self, sync: Sync) -> str:
        return (sync.started_at or sync.created_at).isoformat()

    def get_humanDuration(self, sync: Sync) -> str:
        return human_duration(sync.duration)

    @extend_schema_field(SyncNoticeSerializer(many=True))
    def get_notices(self, sync: Sync) -> list[dict]:
        return notices(sync)


@extend_schema_field({"type": "object", "additionalProperties": {"type": "boolean"}})
class PropertiesField(serializers.Field):
    """Each column of the table: loaded (true) or turned off (false). A column turned off before
    it was first loaded is listed too."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, collection: Collection):
        disabled = set(collection.disabled_columns)
        names = sorted(set(collection.columns) | disabled)
        return {name: name not in disabled for name in names}


@extend_schema_serializer(component_name="WarehouseSelectiveSyncItemV1")
class SelectiveSyncItemSerializer(serializers.Serializer):
    """WarehouseSelectiveSyncItemV1: one table of a source, and its columns."""

    sourceId = serializers.CharField(source="source_id")
    collection = serializers.CharField(source="name")
    warehouseId = serializers.CharField(source="warehouse_id")
    enabled = serializers.BooleanField()
    properties = PropertiesField()
