"""``GET /api/delivery-overview/{stage}``: Segment's Delivery Overview operations (successfully
received, failed on ingest, filtered at source; filtered at destination, failed delivery,
successful delivery), counted by ``delivery.overview`` from the per-minute counters.

What the counters do not keep is refused by name (422): grouping or filtering by ``eventName``,
``eventType`` or ``appVersion``, retry attempts of successful deliveries, and Actions
``subscriptionId`` (Segapp's destinations have no action subscriptions)."""

from datetime import timedelta

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers

from connections.models import DestinationInstance, Source
from delivery import overview
from segapp.access import get_in_workspace
from segapp.api.base import WorkspaceScopedViewSet
from segapp.api.pagination import paginate
from segapp.api.schema import PAGINATION_PARAMETERS, PaginationSerializer, envelope, errors
from segapp.api.windows import (
    Granularity,
    WindowQuerySerializer,
    filter_list,
    iso_utc,
    query_list,
)
from segapp.refusal import Refusal

# Segment's rules for Delivery Overview windows (the SDK's ``granularity`` documentation).
GRANULARITY = {
    "minute": Granularity("minute", timedelta(hours=4), timedelta(hours=4), timedelta(hours=48)),
    "hour": Granularity("hour", timedelta(days=14), timedelta(days=14), timedelta(days=30)),
    "day": Granularity("day", timedelta(days=30), timedelta(days=30), timedelta(days=30)),
}
DIMENSIONS = ["eventName", "eventType", "discardReason", "appVersion"]
NOT_COUNTED = "Segapp's delivery counters do not keep event names, types or app versions."


class IngestQuerySerializer(WindowQuerySerializer):
    GRANULARITIES = GRANULARITY
    REQUIRED = True

    sourceId = serializers.CharField()
    groupBy = serializers.ListField(
        child=serializers.ChoiceField(DIMENSIONS),
        required=False,
        help_text="Only `discardReason` is supported, on stages that have reasons.",
    )


class DeliveryQuerySerializer(IngestQuerySerializer):
    destinationConfigId = serializers.CharField()
    subscriptionId = serializers.CharField(required=False, help_text="Not supported (422).")


@extend_schema_serializer(component_name="DeliveryOverviewFilterBy")
class FilterSerializer(serializers.Serializer):
    discardReason = serializers.ListField(child=serializers.CharField(), required=False)
    eventName = serializers.ListField(child=serializers.CharField(), required=False)
    eventType = serializers.ListField(child=serializers.CharField(), required=False)
    appVersion = serializers.ListField(child=serializers.CharField(), required=False)


@extend_schema_serializer(component_name="DeliveryOverviewMetricsDatapoint")
class DatapointSerializer(serializers.Serializer):
    time = serializers.CharField(help_text="The bucket's start, UTC")
    count = serializers.IntegerField()


@extend_schema_serializer(component_name="DeliveryOverviewMetricsDataset")
class DatasetSerializer(serializers.Serializer):
    discardReason = serializers.CharField(required=False)
    total = serializers.IntegerField()
    series = DatapointSerializer(many=True)


def _parameters(request) -> dict:
    """The query string as the serializers read it, list parameters gathered however spelled."""
    data = {key: request.query_params.get(key) for key in request.query_params}
    data["groupBy"] = query_list(request.query_params, "groupBy")
    return data


OUTPUT = envelope(
    "GetDeliveryOverviewMetricsBetaOutput",
    total=serializers.IntegerField(),
    dataset=DatasetSerializer(many=True),
    pagination=PaginationSerializer(),
)


def _stage_schema(operation_id: str, summary: str, query):
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        parameters=[
            query,
            OpenApiParameter("filter", FilterSerializer, style="deepObject", explode=True),
            *PAGINATION_PARAMETERS,
        ],
        responses={
            200: OUTPUT,
            **errors(404, 422),
        },
    )


class DeliveryOverviewViewSet(WorkspaceScopedViewSet):
    """One stage's counts per bucket in the window (zeros included), one dataset per discard
    reason when grouped by ``discardReason``. Minute buckets older than seven hours hold their
    whole hour at the hour's first minute (older counters are kept per hour)."""

    queryset = Source.objects.all()

    def answer(self, stage: overview.Stage):
        query_class = DeliveryQuerySerializer if stage.is_delivery else IngestQuerySerializer
        query = query_class(data=_parameters(self.request))
        query.is_valid(raise_exception=True)
        params = query.validated_data
        source = get_in_workspace(self.get_queryset(), self.workspace, pk=params["sourceId"])
        instance_id = self._instance_id(source, params) if stage.is_delivery else None
        by_reason, reasons = self._reasons(stage, params)
        window = params["window"]
        found = overview.datasets(
            stage,
            source_id=source.pk,
            instance_id=instance_id,
            start=params["startTime"],
            end=params["endTime"],
            step=window.step,
            by_reason=by_reason,
            reasons=reasons,
        )
        page, pagination = paginate(self.request, found)
        buckets = window.buckets(params["startTime"], params["endTime"])
        dataset = [
            {
                **({"discardReason": d.reason} if by_reason else {}),
                "total": d.total,
                "series": [{"time": iso_utc(at), "count": d.counts.get(at, 0)} for at in buckets],
            }
            for d in page
        ]
        total = sum(d.total for d in found)
        return self.envelope({"total": total, "dataset": dataset, "pagination": pagination})

    def _instance_id(self, source, params) -> str:
        instance = get_in_workspace(
            DestinationInstance.objects.all(), self.workspace, pk=params["destinationConfigId"]
        )
        if instance.source_id != source.pk:
            raise Refusal(
                f"Destination {instance.pk} is connected to source {instance.source_id}.",
                rule="validation",
                field="destinationConfigId",
            )
        if "subscriptionId" in params:
            raise Refusal(
                "Segapp's destinations have no Actions subscriptions.",
                rule="validation",
                field="subscriptionId",
            )
        return instance.pk

    def _reasons(self, stage: overview.Stage, params) -> tuple[bool, list[str] | None]:
        """Whether to group by reason, and which reasons to keep (None: all)."""
        for dimension in ("eventName", "eventType", "appVersion"):
            if dimension in params.get("groupBy", []):
                raise Refusal(NOT_COUNTED, rule="validation", field="groupBy")
            if filter_list(self.request.query_params, dimension):
                raise Refusal(NOT_COUNTED, rule="validation", field=f"filter.{dimension}")
        by_reason = "discardReason" in params.get("groupBy", [])
        reasons = filter_list(self.request.query_params, "discardReason") or None
        if (by_reason or reasons) and not stage.has_reasons:
            why = (
                "Segapp does not count retry attempts of successful deliveries."
                if stage is overview.SUCCESSFUL_DELIVERY
                else f"Events counted as {stage.name} have no discard reason."
            )
            field = "groupBy" if by_reason else "filter.discardReason"
            raise Refusal(why, rule="validation", field=field)
        return by_reason, reasons

    @_stage_schema(
        "getIngressSuccessMetricsFromDeliveryOverview",
        "Events that passed validation at ingest (stored, or dropped as duplicates)",
        IngestQuerySerializer,
    )
    def successfully_received(self, request):
        return self.answer(overview.SUCCESSFULLY_RECEIVED)

    @_stage_schema(
        "getIngressFailedMetricsFromDeliveryOverview",
        "Events the tracking API refused",
        IngestQuerySerializer,
    )
    def failed_on_ingest(self, request):
        return self.answer(overview.FAILED_ON_INGEST)

    @_stage_schema(
        "getFilteredAtSourceMetricsFromDeliveryOverview",
        "Events dropped before routing (duplicate messageIds)",
        IngestQuerySerializer,
    )
    def filtered_at_source(self, request):
        return self.answer(overview.FILTERED_AT_SOURCE)

    @_stage_schema(
        "getFilteredAtDestinationMetricsFromDeliveryOverview",
        "Events not sent to the destination, by reason",
        DeliveryQuerySerializer,
    )
    def filtered_at_destination(self, request):
        return self.answer(overview.FILTERED_AT_DESTINATION)

    @_stage_schema(
        "getEgressFailedMetricsFromDeliveryOverview",
        "Events discarded or dead-lettered, by reason",
        DeliveryQuerySerializer,
    )
    def failed_delivery(self, request):
        return self.answer(overview.FAILED_DELIVERY)

    @_stage_schema(
        "getEgressSuccessMetricsFromDeliveryOverview",
        "Events the destination accepted",
        DeliveryQuerySerializer,
    )
    def successful_delivery(self, request):
        return self.answer(overview.SUCCESSFUL_DELIVERY)


def urls():
    """One path per stage, as the SDK calls them."""
    return [
        path(
            f"delivery-overview/{name}",
            DeliveryOverviewViewSet.as_view({"get": name.replace("-", "_")}),
            name=f"delivery-overview-{name}",
        )
        for name in overview.STAGES
    ]
