"""``POST /api/destination/filters/preview``: Segment's Preview Destination Filter."""

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from connections.api.filters import FilterActionSerializer, plain_actions
from delivery.previews import preview_filter
from segapp.api.schema import envelope, errors


@extend_schema_serializer(component_name="PreviewDestinationFilterV1")
class PreviewFilterSerializer(serializers.Serializer):
    if_ = serializers.CharField(allow_blank=True, trim_whitespace=False)
    actions = FilterActionSerializer(many=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["if"] = fields.pop("if_")
        return fields


@extend_schema_serializer(component_name="PreviewDestinationFilterV1Input")
class PreviewInputSerializer(serializers.Serializer):
    filter = PreviewFilterSerializer()
    payload = serializers.DictField()


@extend_schema(
    operation_id="previewDestinationFilter",
    request=PreviewInputSerializer,
    responses={
        200: envelope(
            "PreviewDestinationFilterV1Output",
            inputPayload=serializers.DictField(),
            result=serializers.DictField(allow_null=True),
        ),
        **errors(403, 422),
    },
)
@api_view(["POST"])
def preview_destination_filter(request):
    """Runs a filter against a payload and returns what a destination would receive (``result``
    is null when the filter drops or samples it out). Nothing is saved or sent."""
    serializer = PreviewInputSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    spec, payload = serializer.validated_data["filter"], serializer.validated_data["payload"]
    preview = preview_filter(spec["if"], plain_actions(spec["actions"]), payload)
    return Response({"data": {"inputPayload": payload, "result": preview.result}})
