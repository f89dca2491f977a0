"""``GET /api/destinations/{destinationId}/delivery-metrics``: Segment's List Delivery Metrics
Summary from Destination, from the per-minute delivery counters."""

from datetime import timedelta

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers

from connections.models import DestinationInstance
from delivery import metrics
from delivery.models import Outcome
from segapp.api.base import WorkspaceScopedViewSet
from segapp.api.schema import envelope, errors
from segapp.api.windows import Granularity, WindowQuerySerializer
from segapp.refusal import Refusal

# Segment's metric names for our outcomes.
METRIC_NAMES = {
    Outcome.DELIVERED: "successes",
    Outcome.DISCARDED: "discarded",
    Outcome.RETRYING: "retried",
    Outcome.FILTERED: "filtered",
    Outcome.DEAD_LETTERED: "expired",
}
# Per granularity, as Segment documents it for this endpoint: the default span, the longest
# span, and how far back a window may start.
GRANULARITY = {
    "MINUTE": Granularity("minute", timedelta(hours=1), timedelta(hours=4), timedelta(hours=48)),
    "HOUR": Granularity("hour", timedelta(days=7), timedelta(days=7), timedelta(days=7)),
    "DAY": Granularity("day", timedelta(days=14), timedelta(days=14), timedelta(days=14)),
}


class MetricsQuerySerializer(WindowQuerySerializer):
    GRANULARITIES = GRANULARITY
    DEFAULT_GRANULARITY = "MINUTE"

    sourceId = serializers.CharField()


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


class DeliveryMetricsViewSet(WorkspaceScopedViewSet):
    """Delivered, discarded, retried, filtered and expired counts of one destination instance."""

    queryset = DestinationInstance.objects.all()
    lookup_url_kwarg = "destinationId"

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
    def summary(self, request, destinationId):
        """Delivered, discarded, retried, filtered and expired (dead-lettered) counts for the window,
        each with a breakdown by reason."""
        instance = self.get_object()
        query = MetricsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        window = query.validated_data
        if window["sourceId"] != instance.source_id:
            raise Refusal(
                f"Destination {instance.pk} is connected to source {instance.source_id}.",
                rule="validation",
                field="sourceId",
            )
        summary = metrics.summaries([instance.pk], window["startTime"], window["endTime"])[
            instance.pk
        ]
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
        return self.envelope({"deliveryMetricsSummary": body})
