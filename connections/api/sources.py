"""``/api/sources``: Segment's Create, List, Get, Update and Delete Source, Create and Remove Write
Key, and List Connected Destinations, over the operations of ``connections.sources``."""

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers
from rest_framework.decorators import action

from catalog.api.serializers import SourceMetadataSerializer
from catalog.models import SourceMetadata
from connections import sources
from connections.api.destinations import DestinationSerializer, DestinationViewSet
from connections.models import Source, WriteKey
from segapp.api.base import OperationSerializer, WorkspaceScopedViewSet
from segapp.api.fields import StorableDictField
from segapp.api.schema import (
    envelope,
    errors,
    list_schema,
    status_output,
)


@extend_schema_serializer(component_name="LabelV1")
class LabelSerializer(serializers.Serializer):
    key = serializers.CharField()
    value = serializers.CharField()


@extend_schema_field(LabelSerializer(many=True))
class LabelsField(serializers.Field):
    """Labels are not modelled yet: every source has none."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, source):
        return []


@extend_schema_field({"type": "array", "items": {"type": "string"}})
class WriteKeysField(serializers.Field):
    def __init__(self, **kwargs):
        super().__init__(source="write_keys", read_only=True, **kwargs)

    def to_representation(self, write_keys):
        return [key.key for key in write_keys.all()]  # prefetched by the viewset


@extend_schema_serializer(component_name="SourceV1")
class SourceSerializer(serializers.Serializer):
    """SourceV1. Write keys are not secrets: browsers and apps embed them."""

    id = serializers.CharField()
    slug = serializers.CharField()
    name = serializers.CharField()
    metadata = SourceMetadataSerializer()
    workspaceId = serializers.CharField(source="workspace_id")
    enabled = serializers.BooleanField()
    writeKeys = WriteKeysField()
    settings = serializers.DictField()
    labels = LabelsField()


@extend_schema_serializer(component_name="CreateSourceV1Input")
class CreateSourceSerializer(OperationSerializer):
    """CreateSourceV1Input. The name defaults to the catalog entry's, as in the console."""

    slug = serializers.CharField(max_length=100)
    enabled = serializers.BooleanField()
    metadataId = serializers.PrimaryKeyRelatedField(
        queryset=SourceMetadata.objects.all(),
        error_messages={"does_not_exist": "No source in the catalog has id “{pk_value}”."},
    )
    settings = StorableDictField(required=False, default=dict)

    def create(self, validated):
        return sources.create_source(
            self.workspace,
            validated["metadataId"],
            self.actor,
            slug=validated["slug"],
            enabled=validated["enabled"],
            settings=validated["settings"],
        )


@extend_schema_serializer(component_name="UpdateSourceV1Input")
class UpdateSourceSerializer(OperationSerializer):
    """UpdateSourceV1Input: only the fields sent change."""

    name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    slug = serializers.CharField(required=False, allow_blank=True, max_length=100)
    enabled = serializers.BooleanField(required=False)
    settings = StorableDictField(required=False)

    def update(self, source, validated):
        return sources.update_source(source, self.actor, **validated)


SOURCE_ID = OpenApiParameter("sourceId", str, OpenApiParameter.PATH)
WRITE_KEY = OpenApiParameter("writeKey", str, OpenApiParameter.PATH)
SOURCE = SourceSerializer()


class SourceViewSet(WorkspaceScopedViewSet):
    queryset = (
        Source.objects.select_related("metadata")
        .prefetch_related(Prefetch("write_keys", WriteKey.objects.order_by("created_at", "id")))
        .order_by("created_at", "id")
    )
    serializer_class = SourceSerializer
    lookup_url_kwarg = "sourceId"

    def fresh(self, source: Source) -> Source:
        """The source re-read with its write keys, after an operation changed it."""
        return self.get_queryset().get(pk=source.pk)

    @list_schema("listSources", "ListSourcesV1Output", "sources", SourceSerializer)
    def list(self, request):
        """Sources of the workspace, oldest first."""
        return self.list_response("sources", self.get_queryset())

    @extend_schema(
        operation_id="createSource",
        request=CreateSourceSerializer,
        responses={
            201: envelope("CreateSourceV1Output", source=SOURCE),
            **errors(403, 409, 422),
        },
    )
    def create(self, request):
        """Creates a source and its first write key; the name defaults to the catalog entry's."""
        source = self.save_input(CreateSourceSerializer)
        return self.item_response("source", self.fresh(source), status=201)

    @extend_schema(
        operation_id="getSource",
        parameters=[SOURCE_ID],
        responses={
            200: envelope(
                "GetSourceV1Output",
                source=SOURCE,
                trackingPlanId=serializers.CharField(allow_null=True),
            ),
            **errors(404),
        },
    )
    def retrieve(self, request, sourceId):
        """One source, with its write keys."""
        # Tracking plans are not modelled: no source is connected to one.
        return self.item_response("source", self.get_object(), trackingPlanId=None)

    @extend_schema(
        operation_id="updateSource",
        parameters=[SOURCE_ID],
        request=UpdateSourceSerializer,
        responses={
            200: envelope("UpdateSourceV1Output", source=SOURCE),
            **errors(403, 404, 409, 422),
        },
    )
    def partial_update(self, request, sourceId):
        """Changes the name, slug, enabled flag or settings that the body sends."""
        source = self.save_input(UpdateSourceSerializer, self.get_object())
        return self.item_response("source", self.fresh(source))

    @extend_schema(
        operation_id="deleteSource",
        parameters=[SOURCE_ID],
        responses={200: status_output("DeleteSourceV1Output"), **errors(403, 404)},
    )
    def destroy(self, request, sourceId):
        """Deletes the source, its write keys and its destinations."""
        sources.delete_source(self.get_object(), request.user.token)
        return self.status_response()

    @extend_schema(
        operation_id="createWriteKeyForSource",
        parameters=[SOURCE_ID],
        request=None,
        responses={
            200: envelope("CreateWriteKeyForSourceAlphaOutput", source=SOURCE),
            **errors(403, 404),
        },
    )
    @action(detail=True, methods=["post"], url_path="writekey")
    def create_write_key(self, request, sourceId):
        """Adds a write key (rotation: add a new key, move clients, remove the old one)."""
        source = self.get_object()
        sources.add_write_key(source, request.user.token)
        return self.item_response("source", self.fresh(source))

    @extend_schema(
        operation_id="removeWriteKeyFromSource",
        parameters=[SOURCE_ID, WRITE_KEY],
        responses={
            200: status_output("RemoveWriteKeyFromSourceAlphaOutput"),
            **errors(403, 404, 409),
        },
    )
    @action(detail=True, methods=["delete"], url_path=r"writekey/(?P<writeKey>[A-Za-z0-9_-]+)")
    def remove_write_key(self, request, sourceId, writeKey):
        """Removes a write key; the last one stays (409), or the source could receive nothing."""
        key = get_object_or_404(WriteKey, source=self.get_object(), key=writeKey)
        sources.delete_write_key(key, request.user.token)
        return self.status_response()

    @list_schema(
        "listConnectedDestinationsFromSource",
        "ListConnectedDestinationsFromSourceV1Output",
        "destinations",
        DestinationSerializer,
        parameters=[SOURCE_ID],
        codes=[404],
    )
    @action(detail=True, methods=["get"], url_path="connected-destinations")
    def connected_destinations(self, request, sourceId):
        """The destinations connected to the source."""
        connected = DestinationViewSet.queryset.filter(source=self.get_object())
        return self.list_response("destinations", connected, DestinationSerializer)
