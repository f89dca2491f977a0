"""``GET /api/events/volume``: Segment's Get Events Volume from Workspace, from ``delivery.volume``:
the events the workspace's sources sent that were stored, per bucket, grouped by source, event
name or event type. ``appVersion`` is refused by name (422): Segapp does not index it."""

from datetime import timedelta

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers

from connections.models import Source
from delivery import volume
from segapp.api.base import WorkspaceScopedViewSet
from segapp.api.pagination import paginate
from segapp.api.schema import PAGINATION_PARAMETERS, PaginationSerializer, envelope, errors
from segapp.api.windows import Granularity, WindowQuerySerializer, iso_utc, query_list
from segapp.refusal import Refusal

# The SDK documents no window rules for this operation: Delivery Overview's are used.
GRANULARITY = {
    "MINUTE": Granularity("minute", timedelta(hours=4), timedelta(hours=4), timedelta(hours=48)),
    "HOUR": Granularity("hour", timedelta(days=14), timedelta(days=14), timedelta(days=30)),
    "DAY": Granularity("day", timedelta(days=30), timedelta(days=30), timedelta(days=30)),
}
LISTS = ["groupBy", "sourceId", "eventName", "eventType", "appVersion"]


def _strings(**kwargs):
    return serializers.ListField(child=serializers.CharField(), required=False, **kwargs)


class VolumeQuerySerializer(WindowQuerySerializer):
    GRANULARITIES = GRANULARITY
    REQUIRED = True

    groupBy = serializers.ListField(
        child=serializers.ChoiceField(["eventName", "eventType", "source"]), required=False
    )
    sourceId = _strings(help_text="Only these sources (default: all of the workspace's)")
    eventName = _strings()
    eventType = _strings()
    appVersion = _strings(help_text="Not supported (422): app versions are not indexed.")

    def validate_appVersion(self, value):
        if value:
            raise serializers.ValidationError("Segapp does not index events by app version.")
        return value


@extend_schema_serializer(component_name="EventSourceV1")
class EventSourceSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    slug = serializers.CharField()


@extend_schema_serializer(component_name="SourceEventVolumeDatapointV1")
class DatapointSerializer(serializers.Serializer):
    time = serializers.CharField()
    count = serializers.IntegerField()


@extend_schema_serializer(component_name="SourceEventVolumeV1")
class SourceEventVolumeSerializer(serializers.Serializer):
    source = EventSourceSerializer(required=False)
    eventName = serializers.CharField(required=False)
    eventType = serializers.CharField(required=False)
    total = serializers.IntegerField()
    series = DatapointSerializer(many=True)


@extend_schema_serializer(component_name="GetEventsVolumeFromWorkspaceV1Query")
class QueryEchoSerializer(serializers.Serializer):
    workspaceId = serializers.CharField()
    granularity = serializers.ChoiceField(list(GRANULARITY))
    startTime = serializers.CharField()
    endTime = serializers.CharField()
    groupBy = _strings()
    sourceId = _strings()
    eventName = _strings()
    eventType = _strings()


class EventsVolumeViewSet(WorkspaceScopedViewSet):
    """Stored events per bucket (zeros included), the largest series first. Minute buckets older
    than seven hours, counted from the counters, hold their whole hour at its first minute."""

    queryset = Source.objects.all()

    @extend_schema(
        operation_id="getEventsVolumeFromWorkspace",
        parameters=[VolumeQuerySerializer, *PAGINATION_PARAMETERS],
        responses={
            200: envelope(
                "GetEventsVolumeFromWorkspaceV1Output",
                path=serializers.CharField(),
                query=QueryEchoSerializer(),
                result=SourceEventVolumeSerializer(many=True),
                pagination=PaginationSerializer(),
            ),
            **errors(404, 422),
        },
    )
    def events_volume(self, request):
        params = request.query_params
        data = {key: params.get(key) for key in params}
        data.update({name: query_list(params, name) for name in LISTS})
        query = VolumeQuerySerializer(data=data)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        sources = {s.pk: s for s in self.get_queryset().only("id", "name", "slug")}
        if q["sourceId"]:
            missing = [pk for pk in q["sourceId"] if pk not in sources]
            if missing:
                raise Refusal(
                    f"No source {missing[0]} in this workspace.",
                    rule="not-found",
                    field="sourceId",
                    status=404,
                )
            sources = {pk: sources[pk] for pk in q["sourceId"]}
        window = q["window"]
        found = volume.volumes(
            list(sources),
            q["startTime"],
            q["endTime"],
            window.step,
            group_by=q["groupBy"],
            event_names=q["eventName"],
            event_types=q["eventType"],
        )
        page, pagination = paginate(request, found)
        buckets = window.buckets(q["startTime"], q["endTime"])
        result = [self._result(v, sources, buckets) for v in page]
        echo = {
            "workspaceId": str(self.workspace.pk),
            "granularity": q["granularity"],
            "startTime": iso_utc(q["startTime"]),
            "endTime": iso_utc(q["endTime"]),
            **{
                name: q[name]
                for name in ("groupBy", "sourceId", "eventName", "eventType")
                if q[name]
            },
        }
        return self.envelope(
            {"path": "/events/volume", "query": echo, "result": result, "pagination": pagination}
        )

    @staticmethod
    def _result(found: volume.Volume, sources: dict, buckets) -> dict:
        item = {}
        if "source" in found.key:
            source = sources[found.key["source"]]
            item["source"] = {"id": source.pk, "name": source.name, "slug": source.slug}
        for name in ("eventName", "eventType"):
            if name in found.key:
                item[name] = found.key[name]
        return {
            **item,
            "total": found.total,
            "series": [{"time": iso_utc(at), "count": found.counts.get(at, 0)} for at in buckets],
        }
