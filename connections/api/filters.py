"""``/api/destination/{destinationId}/filters``: Segment's List, Create, Get, Update and Remove
Filter, over ``connections.filters`` (the limit per instance, FQL parsed at save, valid actions).

The preview (``/api/destination/filters/preview``) runs filters, so it lives with the evaluator in
``delivery.api``.
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers

from connections import filters
from connections.filter_actions import ACTION_TYPES
from connections.models import DestinationFilter, DestinationInstance
from segapp.access import get_in_workspace
from segapp.api.base import OperationSerializer, WorkspaceScopedViewSet
from segapp.api.fields import check_storable
from segapp.api.schema import (
    envelope,
    errors,
    list_schema,
    status_output,
)
from segapp.refusal import Refusal


@extend_schema_serializer(component_name="DestinationFilterActionV1")
class FilterActionSerializer(serializers.Serializer):
    """DestinationFilterActionV1. Checked in depth by ``connections.filter_actions``."""

    # Declared for the schema; the values are checked by ``validate_actions`` alone, as the
    # console's and the admin's are, so the API accepts and refuses exactly what they do.
    type = serializers.ChoiceField(ACTION_TYPES)
    fields = serializers.DictField(required=False)
    percent = serializers.FloatField(required=False)
    path = serializers.CharField(required=False)

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError("An action is an object.")
        return check_storable(data)

    def to_representation(self, action):
        return action  # stored in the API's own shape


def plain_actions(actions: list) -> list[dict]:
    return [dict(action) for action in actions]


@extend_schema_serializer(component_name="DestinationFilterV1")
class DestinationFilterSerializer(serializers.Serializer):
    """DestinationFilterV1."""

    id = serializers.CharField()
    sourceId = serializers.CharField(source="instance.source_id")
    destinationId = serializers.CharField(source="instance_id")
    # ``if`` is a Python keyword, so the field is declared under another name and renamed below.
    if_ = serializers.CharField(source="condition")
    actions = FilterActionSerializer(many=True)
    title = serializers.CharField()
    description = serializers.CharField()
    enabled = serializers.BooleanField()
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")

    def get_fields(self):
        fields = super().get_fields()
        fields["if"] = fields.pop("if_")
        return fields


class FilterInputSerializer(OperationSerializer):
    if_ = serializers.CharField(allow_blank=True, trim_whitespace=False)
    actions = FilterActionSerializer(many=True)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    enabled = serializers.BooleanField()

    def get_fields(self):
        fields = super().get_fields()
        fields["if"] = fields.pop("if_")
        return fields

    @staticmethod
    def changes(validated: dict) -> dict:
        names = {"if": "condition", "actions": "actions", "title": "title",
                 "description": "description", "enabled": "enabled"}  # fmt: skip
        values = {names[key]: value for key, value in validated.items() if key in names}
        if "actions" in values:
            values["actions"] = plain_actions(values["actions"])
        return values


@extend_schema_serializer(component_name="CreateFilterForDestinationV1Input")
class CreateFilterSerializer(FilterInputSerializer):
    """CreateFilterForDestinationV1Input."""

    sourceId = serializers.CharField()

    def create(self, validated):
        instance = self.context["instance"]
        if validated["sourceId"] != instance.source_id:
            raise Refusal(
                f"Destination {instance.pk} is connected to source {instance.source_id}.",
                rule="filter-source",
                field="sourceId",
            )
        values = self.changes(validated)
        values["description"] = values.get("description") or ""
        return filters.create_filter(instance, self.actor, **values)


@extend_schema_serializer(component_name="UpdateFilterForDestinationV1Input")
class UpdateFilterSerializer(FilterInputSerializer):
    """UpdateFilterForDestinationV1Input: the fields sent change, the others are kept."""

    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            field.required = False
        return fields

    def update(self, item, validated):
        return filters.update_filter(item, self.actor, **self.changes(validated))


DESTINATION_ID = OpenApiParameter("destinationId", str, OpenApiParameter.PATH)
FILTER_ID = OpenApiParameter("filterId", str, OpenApiParameter.PATH)
FILTER = DestinationFilterSerializer()


class DestinationFilterViewSet(WorkspaceScopedViewSet):
    queryset = DestinationFilter.objects.select_related("instance").order_by(
        "position", "created_at"
    )
    serializer_class = DestinationFilterSerializer
    lookup_url_kwarg = "filterId"

    def destination(self) -> DestinationInstance:
        return get_in_workspace(
            DestinationInstance.objects.all(), self.workspace, pk=self.kwargs["destinationId"]
        )

    def filter_queryset(self, queryset):
        return queryset.filter(instance_id=self.kwargs["destinationId"])

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.action == "create":
            context["instance"] = self.destination()
        return context

    @list_schema(
        "listFiltersFromDestination",
        "ListFiltersFromDestinationV1Output",
        "filters",
        DestinationFilterSerializer,
        parameters=[DESTINATION_ID],
        codes=[404],
    )
    def list(self, request, destinationId):
        """The destination's filters, in the order they run."""
        self.destination()
        return self.list_response("filters", self.filter_queryset(self.get_queryset()))

    @extend_schema(
        operation_id="createFilterForDestination",
        parameters=[DESTINATION_ID],
        request=CreateFilterSerializer,
        responses={
            200: envelope("CreateFilterForDestinationV1Output", filter=FILTER),
            **errors(403, 404, 409, 422),
        },
    )
    def create(self, request, destinationId):
        """Adds a filter (at most 10 per destination); an invalid FQL condition is refused with
        the position of the error."""
        return self.item_response("filter", self.save_input(CreateFilterSerializer))

    @extend_schema(
        operation_id="getFilterInDestination",
        parameters=[DESTINATION_ID, FILTER_ID],
        responses={200: envelope("GetFilterInDestinationV1Output", filter=FILTER), **errors(404)},
    )
    def retrieve(self, request, destinationId, filterId):
        """One filter."""
        return self.item_response("filter", self.get_object())

    @extend_schema(
        operation_id="updateFilterForDestination",
        parameters=[DESTINATION_ID, FILTER_ID],
        request=UpdateFilterSerializer,
        responses={
            200: envelope("UpdateFilterForDestinationV1Output", filter=FILTER),
            **errors(403, 404, 422),
        },
    )
    def partial_update(self, request, destinationId, filterId):
        """Changes the fields sent."""
        return self.item_response(
            "filter", self.save_input(UpdateFilterSerializer, self.get_object())
        )

    @extend_schema(
        operation_id="removeFilterFromDestination",
        parameters=[DESTINATION_ID, FILTER_ID],
        responses={200: status_output("RemoveFilterFromDestinationV1Output"), **errors(403, 404)},
    )
    def destroy(self, request, destinationId, filterId):
        """Deletes the filter."""
        filters.delete_filter(self.get_object(), request.user.token)
        return self.status_response()
