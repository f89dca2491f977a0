"""``/api/destinations``: Segment's Create, List, Get, Update and Delete Destination, over the
instance operations of ``connections.instances`` (and so over every rule of ``connections.rules``).

A "destination" of the Public API is what Segapp calls a destination instance. Secret settings are
write-only: responses show ``connections.models.MASK`` in their place. The SDK types ``settings`` as
``{[key: string]: any}``, so the mask fits, and it beats omitting the key: a client sees that the
secret is set, and a client that sends back the settings it read keeps the stored secret, because
the operations treat the mask as "unchanged".
"""

from contextlib import contextmanager

from django.db import transaction
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers

from catalog.api.serializers import DestinationMetadataSerializer
from catalog.models import DestinationKind, DestinationMetadata
from connections import instances
from connections.models import DestinationInstance, Source
from connections.settings_schema import SettingsInvalid
from segapp.api.base import InWorkspaceField, OperationSerializer, WorkspaceScopedViewSet
from segapp.api.errors import FieldErrors
from segapp.api.fields import StorableDictField
from segapp.api.schema import (
    envelope,
    errors,
    list_schema,
    status_output,
)

# Warehouses have their own catalog list, and Segment serves them under /warehouses, not here.
DESTINATION_KINDS = [DestinationKind.DESTINATION, DestinationKind.DATA_LAKE]


@contextmanager
def settings_errors(prefix: str = "settings"):
    """Reports every invalid setting at once, each as ``<prefix>.<name>``, not only the first."""
    try:
        yield
    except SettingsInvalid as exc:
        fields = {f"{prefix}.{name}": f"{name}: {msg}" for name, msg in exc.errors.items()}
        types = {f"{prefix}.{name}": rule for name, rule in exc.rules.items()}
        raise FieldErrors(exc.rule, fields, exc.status, types) from exc


@extend_schema_field({"type": "object", "additionalProperties": {}})
class MaskedSettingsField(serializers.Field):
    """An instance's settings with each stored secret replaced by the mask."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, instance: DestinationInstance):
        return instance.masked_settings()


@extend_schema_serializer(component_name="DestinationV1")
class DestinationSerializer(serializers.Serializer):
    """DestinationV1."""

    id = serializers.CharField()
    name = serializers.CharField()
    enabled = serializers.BooleanField()
    metadata = DestinationMetadataSerializer()
    sourceId = serializers.CharField(source="source_id")
    settings = MaskedSettingsField()


@extend_schema_serializer(component_name="CreateDestinationV1Input")
class CreateDestinationSerializer(OperationSerializer):
    """CreateDestinationV1Input."""

    sourceId = InWorkspaceField(queryset=Source.objects.select_related("metadata", "workspace"))
    metadataId = serializers.PrimaryKeyRelatedField(
        queryset=DestinationMetadata.objects.filter(kind__in=DESTINATION_KINDS),
        error_messages={"does_not_exist": "No destination in the catalog has id “{pk_value}”."},
    )
    enabled = serializers.BooleanField(required=False, default=False)
    name = serializers.CharField(required=False, allow_blank=True, default="")
    settings = StorableDictField()

    def create(self, validated):
        with settings_errors():
            return instances.create_instance(
                validated["sourceId"],
                validated["metadataId"],
                self.actor,
                name=validated["name"],
                settings=validated["settings"],
                enabled=validated["enabled"],
            )


@extend_schema_serializer(component_name="UpdateDestinationV1Input")
class UpdateDestinationSerializer(OperationSerializer):
    """UpdateDestinationV1Input: the fields sent change; ``settings`` merge into the stored ones."""

    name = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    enabled = serializers.BooleanField(required=False)
    settings = StorableDictField(required=False)

    @transaction.atomic  # one change: a refused part leaves the instance as it was
    def update(self, instance, validated):
        name = validated.get("name")
        if name is not None and name != instance.name:
            instance = instances.rename_instance(instance, name, self.actor)
        if validated.get("enabled") is not None:
            instance = instances.set_enabled(instance, validated["enabled"], self.actor)
        if validated.get("settings") is not None:
            with settings_errors():
                instance = instances.update_settings(
                    instance, validated["settings"], self.actor, merge=True
                )
        return instance


DESTINATION_ID = OpenApiParameter("destinationId", str, OpenApiParameter.PATH)
DESTINATION = DestinationSerializer()


class DestinationViewSet(WorkspaceScopedViewSet):
    queryset = (
        DestinationInstance.objects.filter(metadata__kind__in=DESTINATION_KINDS)
        .select_related("metadata")
        .order_by("created_at", "id")
    )
    serializer_class = DestinationSerializer
    lookup_url_kwarg = "destinationId"

    @list_schema(
        "listDestinations", "ListDestinationsV1Output", "destinations", DestinationSerializer
    )
    def list(self, request):
        """Destinations of every source of the workspace, oldest first."""
        return self.list_response("destinations", self.get_queryset())

    @extend_schema(
        operation_id="createDestination",
        request=CreateDestinationSerializer,
        responses={
            200: envelope("CreateDestinationV1Output", destination=DESTINATION),
            **errors(403, 409, 422),
        },
    )
    def create(self, request):
        """Connects a catalog destination to a source, under the multi-instance rules (409 or 422
        naming the rule)."""
        return self.item_response("destination", self.save_input(CreateDestinationSerializer))

    @extend_schema(
        operation_id="getDestination",
        parameters=[DESTINATION_ID],
        responses={
            200: envelope("GetDestinationV1Output", destination=DESTINATION),
            **errors(404),
        },
    )
    def retrieve(self, request, destinationId):
        """One destination; secret settings show a mask."""
        return self.item_response("destination", self.get_object())

    @extend_schema(
        operation_id="updateDestination",
        parameters=[DESTINATION_ID],
        request=UpdateDestinationSerializer,
        responses={
            200: envelope("UpdateDestinationV1Output", destination=DESTINATION),
            **errors(403, 404, 409, 422),
        },
    )
    def partial_update(self, request, destinationId):
        """Renames, enables or disables, and merges settings into the stored ones (a masked secret
        keeps its value)."""
        updated = self.save_input(UpdateDestinationSerializer, self.get_object())
        return self.item_response("destination", updated)

    @extend_schema(
        operation_id="deleteDestination",
        parameters=[DESTINATION_ID],
        responses={200: status_output("DeleteDestinationV1Output"), **errors(403, 404)},
    )
    def destroy(self, request, destinationId):
        """Deletes the destination."""
        instances.delete_instance(self.get_object(), request.user.token)
        return self.status_response()
