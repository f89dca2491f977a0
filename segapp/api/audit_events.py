"""``GET /api/audit-events``: Segment's List Audit Events, from the workspace's audit trail
(``AuditEntry`` rows), newest first, filtered by time, resource and resource type."""

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from segapp import audit
from segapp.api.base import WorkspaceScopedViewSet
from segapp.api.schema import list_schema
from segapp.models import AuditEntry


@extend_schema_serializer(component_name="AuditEventV1")
class AuditEventSerializer(serializers.Serializer):
    """AuditEventV1: ``type`` is the console's phrase for the action ("Created destination"),
    ``resourceType`` the console's name for the object type ("Destination")."""

    id = serializers.CharField(source="pk")
    timestamp = serializers.DateTimeField(source="created_at")
    type = serializers.SerializerMethodField()
    actor = serializers.CharField(source="actor_label")
    actorEmail = serializers.SerializerMethodField(
        required=False, help_text="Present when a person (not a token) made the change"
    )
    resourceId = serializers.CharField(source="object_id")
    resourceType = serializers.SerializerMethodField()
    resourceName = serializers.CharField(source="object_label")

    def get_type(self, entry) -> str:
        label = audit.action_label(entry.action)
        return label[:1].upper() + label[1:]

    @extend_schema_field(serializers.CharField())
    def get_actorEmail(self, entry):
        # A person's entries carry their email as the actor label (``audit.actor_label``).
        return entry.actor_label if entry.actor_user_id else None

    def get_resourceType(self, entry) -> str:
        return audit.type_label(entry.object_type)

    def to_representation(self, entry):
        data = super().to_representation(entry)
        if data["actorEmail"] is None:
            del data["actorEmail"]  # optional in AuditEventV1, and not nullable
        return data


class AuditEventsQuerySerializer(serializers.Serializer):
    startTime = serializers.DateTimeField(required=False, help_text="Events at or after this time")
    endTime = serializers.DateTimeField(required=False, help_text="Events before this time")
    resourceId = serializers.CharField(required=False, max_length=64)
    resourceType = serializers.CharField(
        required=False,
        max_length=64,
        help_text='The console\'s name for an object type, such as "Source" or "Destination"',
    )

    def validate_resourceType(self, value):
        object_types = audit.object_types_named(value)
        if not object_types:
            known = ", ".join(sorted({t.label for t in audit.OBJECT_TYPES.values()}))
            raise serializers.ValidationError(f"Unknown resource type; use one of: {known}.")
        return object_types

    def validate(self, data):
        start, end = data.get("startTime"), data.get("endTime")
        if start and end and start >= end:
            raise serializers.ValidationError({"startTime": "startTime must be before endTime."})
        return data

    def filtered(self, entries):
        data = self.validated_data
        if "startTime" in data:
            entries = entries.filter(created_at__gte=data["startTime"])
        if "endTime" in data:
            entries = entries.filter(created_at__lt=data["endTime"])
        if "resourceType" in data:
            entries = entries.filter(object_type__in=data["resourceType"])
        if "resourceId" in data:
            entries = entries.filter(object_id=data["resourceId"])
        return entries


class AuditEventViewSet(WorkspaceScopedViewSet):
    # Newest first, down the (workspace, created_at, id) indexes of ``AuditEntry``.
    queryset = AuditEntry.objects.order_by("-created_at", "-id")
    serializer_class = AuditEventSerializer

    @list_schema(
        "listAuditEvents",
        "ListAuditEventsV1Output",
        "events",
        AuditEventSerializer,
        parameters=[AuditEventsQuerySerializer],
    )
    def list(self, request):
        """The workspace's configuration changes, newest first."""
        query = AuditEventsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return self.list_response("events", query.filtered(self.get_queryset()))
