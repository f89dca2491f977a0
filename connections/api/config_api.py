"""The legacy Config API's Create Destination, for scripts written before Segment's Public API:
``POST /api/workspaces/{workspaceSlug}/sources/{sourceSlug}/destinations`` with
``{"destination": {"name": "workspaces/{ws}/sources/{src}/destinations/{catalogSlug}",
"config": [{"name": "…/config/{setting}", "type", "value"}], "enabled", "connection_mode"}}``,
answered in the Config API's own shape (no ``data`` envelope). Same operations, same rules as
``/api/destinations``; errors take the Public API's shape.

Shapes: https://segment.com/docs/config-api/ (the Google Analytics tutorial shows both request and
response). The response adds ``id``, the instance's Public API id: a source may hold several
instances of one destination, which the Config API's ``name`` cannot tell apart.
"""

import re

from django.db import transaction
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.response import Response

from catalog.models import ConnectionMode, DestinationMetadata
from connections import instances, rules
from connections.api.destinations import DESTINATION_KINDS, settings_errors
from connections.models import DestinationInstance, Source
from segapp.api.base import OperationSerializer, WorkspaceScopedViewSet
from segapp.api.fields import StorableJSONField
from segapp.api.schema import errors
from segapp.refusal import Refusal


def source_path(source: Source) -> str:
    return f"workspaces/{source.workspace.slug}/sources/{source.slug}"


def destination_path(source: Source, metadata: DestinationMetadata) -> str:
    return f"{source_path(source)}/destinations/{metadata.slug}"


@extend_schema_serializer(component_name="ConfigApiConfigEntry")
class ConfigEntrySerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField(required=False)
    value = StorableJSONField()


@extend_schema_serializer(component_name="ConfigApiDestinationInput")
class ConfigDestinationInput(serializers.Serializer):
    name = serializers.CharField()
    display_name = serializers.CharField(required=False, allow_blank=True, default="")
    enabled = serializers.BooleanField(required=False, default=False)
    connection_mode = serializers.CharField(required=False)
    config = ConfigEntrySerializer(many=True, required=False, default=list)

    def validate_name(self, name):
        source = self.context["source"]
        match = re.fullmatch(re.escape(source_path(source)) + r"/destinations/([a-z0-9-]+)", name)
        if not match:
            raise serializers.ValidationError(
                f"Name the destination “{source_path(source)}/destinations/<catalog slug>”."
            )
        metadata = DestinationMetadata.objects.filter(
            slug=match[1], kind__in=DESTINATION_KINDS
        ).first()
        if metadata is None:
            raise serializers.ValidationError(f"No destination in the catalog is “{match[1]}”.")
        return metadata

    def validate_connection_mode(self, mode):
        if mode.lower() not in ConnectionMode.values:
            raise serializers.ValidationError("Give CLOUD or DEVICE.")
        return mode.lower()

    def validate(self, data):
        prefix = f"{destination_path(self.context['source'], data['name'])}/config/"
        settings = {}
        for entry in data["config"]:
            if not entry["name"].startswith(prefix):
                raise serializers.ValidationError(
                    {"config": f"Name each setting “{prefix}<name>”."}
                )
            settings[entry["name"].removeprefix(prefix)] = entry["value"]
        return {**data, "metadata": data["name"], "settings": settings}


@extend_schema_serializer(component_name="ConfigApiCreateDestinationInput")
class CreateConfigDestinationSerializer(OperationSerializer):
    destination = ConfigDestinationInput()

    @transaction.atomic  # one change: a refused connection mode also undoes the creation
    def create(self, validated):
        data = validated["destination"]
        mode = data.get("connection_mode")
        # Enabled once its mode is set: whether it may send depends on the mode it ends up in.
        switching = bool(mode) and mode != rules.initial_mode(data["metadata"])
        with settings_errors(prefix="destination.config"):
            instance = instances.create_instance(
                self.context["source"],
                data["metadata"],
                self.actor,
                name=data["display_name"],
                settings=data["settings"],
                enabled=data["enabled"] and not switching,
            )
        if switching:
            try:
                instance = instances.set_mode(instance, mode, self.actor)
            except Refusal as refusal:
                refusal.field = "destination.connection_mode"
                raise
            if data["enabled"]:
                instance = instances.set_enabled(instance, True, self.actor)
        return instance


def _timestamp(moment) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@extend_schema_serializer(component_name="ConfigApiDestination")
class ConfigDestinationSerializer(serializers.Serializer):
    """A destination as the Config API returned it; secret settings show the mask."""

    id = serializers.CharField()
    slug = serializers.CharField(source="metadata.slug")
    name = serializers.SerializerMethodField()
    parent = serializers.SerializerMethodField()
    display_name = serializers.CharField(source="name")
    enabled = serializers.BooleanField()
    connection_mode = serializers.SerializerMethodField()
    config = serializers.SerializerMethodField()
    create_time = serializers.SerializerMethodField()
    update_time = serializers.SerializerMethodField()

    def get_name(self, instance) -> str:
        return destination_path(instance.source, instance.metadata)

    def get_parent(self, instance) -> str:
        return source_path(instance.source)

    def get_connection_mode(self, instance) -> str:
        return instance.mode.upper()

    def get_config(self, instance) -> list[dict]:
        settings, name = instance.masked_settings(), self.get_name(instance)
        return [
            {
                "name": f"{name}/config/{option['name']}",
                "display_name": option.get("label", option["name"]),
                "value": settings[option["name"]],
                "type": option["type"],
            }
            for option in instance.metadata.options
            if option["name"] in settings
        ]

    def get_create_time(self, instance) -> str:
        return _timestamp(instance.created_at)

    def get_update_time(self, instance) -> str:
        return _timestamp(instance.updated_at)


class ConfigApiDestinationViewSet(WorkspaceScopedViewSet):
    queryset = Source.objects.select_related("metadata", "workspace")
    serializer_class = ConfigDestinationSerializer
    lookup_field = "slug"
    lookup_url_kwarg = "sourceSlug"

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "source": getattr(self, "source", None)}

    @extend_schema(
        operation_id="createConfigApiDestination",
        tags=["config-api"],
        summary="Create Destination (legacy Config API)",
        parameters=[
            OpenApiParameter("workspaceSlug", str, OpenApiParameter.PATH),
            OpenApiParameter("sourceSlug", str, OpenApiParameter.PATH),
        ],
        request=CreateConfigDestinationSerializer,
        responses={200: ConfigDestinationSerializer, **errors(403, 404, 409, 422)},
    )
    def create(self, request, workspaceSlug, sourceSlug):
        """Creates a destination from a legacy Config API request, answered in the Config API's
        shape."""
        if workspaceSlug != self.workspace.slug:
            raise Http404("This token belongs to another workspace.")
        self.source = self.get_object()
        instance: DestinationInstance = self.save_input(CreateConfigDestinationSerializer)
        return Response(self.get_serializer(instance).data)
