"""``GET /api/destinations/{destinationId}/delivery-metrics``: Segment's List Delivery Metrics
Summary from Destination, from the per-minute delivery counters."""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from connections.models import DestinationInstance
from delivery import metrics
from delivery.models import Outcome
from segapp.access import get_in_workspace
from segapp.api.schema import envelope, errors
from segapp.refusal import Refusal

# Segment's metric names for our outcomes.
METRIC_NAMES = {
    Outcome.DELIVERED: "successes",
    Outcome.DISCARDED: "discarded",
    Outcome.RETRYING: "retried",
    Outcome.FILTERED: "filtered",
    Outcome.DEAD_LETTERED: "expired",
}
# Per granularity, as Segment documents it: the default span, the longest span, and how far
# back a window may start.
GRANULARITY = {
    "MINUTE": (timedelta(hours=1), timedelta(hours=4), timedelta(hours=48)),
    "HOUR": (timedelta(days=7), timedelta(days=7), timedelta(days=7)),
    "DAY": (timedelta(days=14), timedelta(days=14), timedelta(days=14)),
}


class MetricsQuerySerializer(serializers.Serializer):
    sourceId = serializers.CharField()
    startTime = serializers.DateTimeField(required=False)
    endTime = serializers.DateTimeField(required=False)
    granularity = serializers.ChoiceField(list(GRANULARITY), required=False, default="MINUTE")

    def validate(self, data):
        default_span, longest, oldest = GRANULARITY[data["granularity"]]
        now = timezone.now()
        end = data.get("endTime") or now
        start = data.get("startTime") or end - default_span
        if start >= end:
            raise serializers.ValidationError({"startTime": "startTime must be before endTime."})
        if end - start > longest + timedelta(minutes=1):
            raise serializers.ValidationError(
                {
                    "startTime": f"With {data['granularity']} granularity a window is at most {longest}."
                }
            )
        if start < now - oldest - timedelta(minutes=1):
            raise serializers.ValidationError(
                {
                    "startTime": f"With {data['granularity']} granularity a window starts at most {oldest} ago."
                }
            )
        return {**data, "startTime": start, "endTime": end}


class BreakdownSerializer(serializers.Serializer):
    metricName = serializers.CharField()
    value = serializers.IntegerField()


@extend_schema_serializer(component_name="MetricBeta")
class MetricSerializer(serializers.Serializer):
    metricName = serializers.CharField()
    total = serializers.IntegerField()
    breakdown = BreakdownSerializer(many=True)


@extend_schema_serializer(component_name="DeliveryMetricsSummaryBeta")
class DeliveryMetricsSummarySerializer(serializers.Serializer):
    sourceId = serializers.CharField()
    destinationMetadataId = serializers.CharField()
    metrics = MetricSerializer(many=True)


@extend_schema(
    operation_id="listDeliveryMetricsSummaryFromDestination",
    parameters=[
        OpenApiParameter("destinationId", str, OpenApiParameter.PATH),
        MetricsQuerySerializer,
    ],
    responses={
        200: envelope(
            "ListDeliveryMetricsSummaryFromDestinationBetaOutput",
            deliveryMetricsSummary=DeliveryMetricsSummarySerializer(),
        ),
        **errors(404, 422),
    },
)
@api_view(["GET"])
def delivery_metrics(request, destinationId):
    """Delivered, discarded, retried, filtered and expired (dead-lettered) counts for the window,
    each with a breakdown by reason."""
    instance = get_in_workspace(
        DestinationInstance.objects.all(), request.user.workspace, pk=destinationId
    )
    query = MetricsQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    window = query.validated_data
    if window["sourceId"] != instance.source_id:
        raise Refusal(
            f"Destination {instance.pk} is connected to source {instance.source_id}.",
            rule="validation",
            field="sourceId",
        )
    summary = metrics.summaries([instance.pk], window["startTime"], window["endTime"])[instance.pk]
    listed = [
        {
            "metricName": name,
            "total": summary.totals.get(outcome, 0),
            "breakdown": [
                {"metricName": reason, "value": count}
                for reason, count in summary.reasons.get(outcome, [])
            ],
        }
        for outcome, name in METRIC_NAMES.items()
    ]
    body = {"sourceId": instance.source_id, "destinationMetadataId": instance.metadata_id,
            "metrics": listed}  # fmt: skip
    return Response({"data": {"deliveryMetricsSummary": body}})
