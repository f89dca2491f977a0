"""``/api/destinations/{destinationId}/replays``: beyond Segment's API, in its envelope, errors and
pagination. Start a replay of a source's archived events to one destination, preview how many
events a range holds, list, get and cancel replays; over ``delivery.replays``, and so over every
rule of ``delivery.rules`` (a refused replay answers the rule's status, the rule as ``type``)."""

from functools import cached_property

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers

from connections.api.destinations import DESTINATION_ID, DestinationViewSet
from connections.models import DestinationInstance
from delivery import replays, rules, tasks
from delivery.models import Replay, ReplayStatus
from segapp.access import get_in_workspace
from segapp.api.base import OperationSerializer, WorkspaceScopedViewSet
from segapp.api.schema import envelope, errors, list_schema

REPLAY_ID = OpenApiParameter("replayId", str, OpenApiParameter.PATH)


@extend_schema_serializer(component_name="ReplayV1")
class ReplaySerializer(serializers.Serializer):
    """A replay and its progress: ``total`` archived events in the range and selection, of which
    ``sent``, ``failed`` (discarded or dead-lettered), ``filtered`` (kept back by the
    destination's filters) and ``skipped`` (the destination already had them)."""

    id = serializers.CharField()
    destinationId = serializers.CharField(source="instance_id")
    status = serializers.ChoiceField(choices=ReplayStatus.values)
    total = serializers.IntegerField()
    sent = serializers.IntegerField()
    failed = serializers.IntegerField()
    filtered = serializers.IntegerField()
    skipped = serializers.IntegerField()
    startTime = serializers.DateTimeField(source="start_time")
    endTime = serializers.DateTimeField(source="end_time")
    eventNames = serializers.ListField(child=serializers.CharField(), source="event_names")
    types = serializers.ListField(child=serializers.CharField())
    rate = serializers.IntegerField(help_text="Events per second at most")
    markContext = serializers.BooleanField(source="mark_context")
    createdAt = serializers.DateTimeField(source="created_at")
    startedAt = serializers.DateTimeField(source="started_at", allow_null=True)
    finishedAt = serializers.DateTimeField(source="finished_at", allow_null=True)
    error = serializers.CharField(help_text="Why the replay failed, else empty")
    createdBy = serializers.CharField(source="requested_by")


class ReplayChoicesSerializer(OperationSerializer):
    """The range and the selection, checked for shape only: whether they are allowed (known
    types, non-empty names, a rate within bounds, a range the archive keeps) is for the rules,
    which ``delivery.replays`` asks."""

    startTime = serializers.DateTimeField(help_text="ISO 8601; events received from then")
    endTime = serializers.DateTimeField(help_text="ISO 8601; events received before then")
    eventNames = serializers.ListField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False),
        required=False,
        default=list,
        help_text="Only events of these names (any name when empty)",
    )
    types = serializers.ListField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False),
        required=False,
        default=list,
        help_text=f"Only these types: {', '.join(rules.EVENT_TYPES)} (all when empty)",
    )
    rate = serializers.IntegerField(
        required=False, allow_null=True, help_text="Events per second at most (server default)"
    )
    markContext = serializers.BooleanField(
        required=False, default=True, help_text="Replayed events carry context.replay = true"
    )

    @property
    def destination(self) -> DestinationInstance:
        return self.context["destination"]

    @staticmethod
    def selection(validated: dict) -> dict:
        """The choices as ``delivery.replays`` names them."""
        return {
            "types": validated["types"],
            "event_names": validated["eventNames"],
            "rate": validated.get("rate"),
        }


@extend_schema_serializer(component_name="PreviewReplayForDestinationInput")
class PreviewReplaySerializer(ReplayChoicesSerializer):
    """The same body as a start; nothing is stored."""

    def create(self, validated):
        """Asks the rules, then counts the archived events the replay would read."""
        start, end = validated["startTime"], validated["endTime"]
        chosen = self.selection(validated)
        if refusal := replays.refuse(self.destination, start, end, **chosen):
            raise refusal
        matching = replays.matching_events(
            self.destination.source_id, start, end, chosen["types"], chosen["event_names"]
        )
        return matching.count()


@extend_schema_serializer(component_name="CreateReplayForDestinationInput")
class StartReplaySerializer(ReplayChoicesSerializer):
    """Which archived events to send again: those received in [startTime, endTime), of the
    given types and names only if any are given."""

    def create(self, validated):
        return replays.start_replay(
            self.destination,
            self.actor,
            start=validated["startTime"],
            end=validated["endTime"],
            mark_context=validated["markContext"],
            **self.selection(validated),
        )


REPLAY = ReplaySerializer()
# The destinations of ``/api/destinations``, with what the replay rules read of each.
DESTINATIONS = DestinationViewSet.queryset.select_related("workspace")


class DestinationReplayViewSet(WorkspaceScopedViewSet):
    queryset = Replay.objects.order_by("-created_at", "-id")
    serializer_class = ReplaySerializer
    lookup_url_kwarg = "replayId"

    @cached_property
    def destination(self) -> DestinationInstance:
        """The token's workspace's destination named in the path; another workspace's is 404."""
        return get_in_workspace(DESTINATIONS, self.workspace, pk=self.kwargs["destinationId"])

    def filter_queryset(self, queryset):
        return queryset.filter(instance=self.destination)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.action in ("create", "preview"):
            context["destination"] = self.destination
        return context

    @list_schema(
        "listReplaysFromDestination",
        "ListReplaysFromDestinationOutput",
        "replays",
        ReplaySerializer,
        summary="List a destination's replays, newest first",
        parameters=[DESTINATION_ID],
        codes=[404],
    )
    def list(self, request, destinationId):
        """The destination's replays, newest first, each with its progress."""
        return self.list_response("replays", self.filter_queryset(self.get_queryset()))

    @extend_schema(
        operation_id="createReplayForDestination",
        summary="Start replaying archived events to a destination",
        parameters=[DESTINATION_ID],
        request=StartReplaySerializer,
        responses={
            201: envelope("CreateReplayForDestinationOutput", replay=REPLAY),
            **errors(403, 404, 409, 422),
        },
    )
    def create(self, request, destinationId):
        """Sends the source's archived events received in [startTime, endTime) again to the
        destination, through its current filters, at ``rate`` events per second; events it
        already had are skipped. Business plan only (403 ``replay-plan``); one unfinished replay
        per destination (409 ``replay-running``); the range must be one the archive keeps (422
        ``replay-range``)."""
        replay = self.save_input(StartReplaySerializer)
        tasks.queue_replay(replay.pk)
        return self.item_response("replay", replay, status=201)

    @extend_schema(
        operation_id="previewReplayForDestination",
        summary="Count the archived events a replay would read, before starting it",
        parameters=[DESTINATION_ID],
        request=PreviewReplaySerializer,
        responses={
            200: envelope(
                "PreviewReplayForDestinationOutput",
                total=serializers.IntegerField(help_text="Archived events in range and selection"),
            ),
            **errors(403, 404, 409, 422),
        },
    )
    def preview(self, request, destinationId):
        """Asks the rules a replay of these choices must pass (answering the same refusals as a
        start), then counts the archived events of the range and selection. Starts nothing."""
        return self.envelope({"total": self.save_input(PreviewReplaySerializer)})

    @extend_schema(
        operation_id="getReplayInDestination",
        summary="Get one replay of a destination and its progress",
        parameters=[DESTINATION_ID, REPLAY_ID],
        responses={200: envelope("GetReplayInDestinationOutput", replay=REPLAY), **errors(404)},
    )
    def retrieve(self, request, destinationId, replayId):
        """One replay, with its counts so far."""
        return self.item_response("replay", self.get_object())

    @extend_schema(
        operation_id="cancelReplayInDestination",
        summary="Cancel a replay that has not ended",
        parameters=[DESTINATION_ID, REPLAY_ID],
        request=None,
        responses={
            200: envelope("CancelReplayInDestinationOutput", replay=REPLAY),
            **errors(403, 404, 409),
        },
    )
    def cancel(self, request, destinationId, replayId):
        """Stops routing and takes back the events not yet being sent; an event being sent now
        finishes. A replay that has already ended answers 409 ``replay-finished``."""
        replay = replays.cancel_replay(self.get_object(), request.user.token)
        return self.item_response("replay", replay)
