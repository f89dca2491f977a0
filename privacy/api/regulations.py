"""``/api/regulations`` and ``/api/suppressions``: Segment's Deletion and Suppression API (Create
Workspace and Source Regulation, List Workspace Regulations and Regulations from Source, Get and
Delete Regulation, List Suppressions) in its shapes, over ``privacy.regulations``: a refused
request answers the rule's status with the rule as ``type``. Creating and deleting need an owner's
token, as Segment lets only workspace owners regulate end users' data."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers

from connections.models import Source
from privacy import regulations, suppressions
from privacy.models import Regulation, RegulationStatus, RegulationType
from segapp.api.base import OperationSerializer, WorkspaceScopedViewSet
from segapp.api.pagination import paginate
from segapp.api.schema import PAGINATION_PARAMETERS, envelope, errors, list_schema, status_output
from segapp.api.windows import query_list
from segapp.models import Role

SOURCE_ID = OpenApiParameter("sourceId", str, OpenApiParameter.PATH)
REGULATION_ID = OpenApiParameter("regulationId", str, OpenApiParameter.PATH)
FILTERS = [
    OpenApiParameter(
        "status", str, enum=RegulationStatus.values, description="Only regulations in this status"
    ),
    OpenApiParameter(
        "regulationTypes",
        str,
        many=True,
        description="Only these types: repeated, comma-delimited, or `regulationTypes[0]=` as "
        "the official SDK writes it",
    ),
]


@extend_schema_serializer(component_name="RegulationListEntryV1")
class RegulationListEntrySerializer(serializers.Serializer):
    id = serializers.CharField()
    subjectType = serializers.CharField(source="subject_type")
    subjects = serializers.ListField(child=serializers.CharField(), source="subject_ids")
    status = serializers.ChoiceField(choices=RegulationStatus.values)
    createdAt = serializers.DateTimeField(source="created_at")
    regulationType = serializers.ChoiceField(
        choices=RegulationType.values, source="regulation_type"
    )
    finishedAt = serializers.DateTimeField(
        source="finished_at", required=False, help_text="Absent until it has finished"
    )

    def to_representation(self, regulation):
        data = super().to_representation(regulation)
        if data["finishedAt"] is None:
            del data["finishedAt"]
        return data


def _time(moment) -> str:
    """Segment's time fields that are always present: empty until the moment comes."""
    return serializers.DateTimeField().to_representation(moment) if moment else ""


@extend_schema_serializer(component_name="DestinationStatusV1")
class DestinationStatusSerializer(serializers.Serializer):
    """One system the users' data is deleted from: ``archive`` (the event archive) or
    ``warehouse:<id>``."""

    name = serializers.CharField(source="label")
    id = serializers.CharField(source="system")
    status = serializers.ChoiceField(choices=RegulationStatus.values)
    errString = serializers.CharField(source="error")
    finishedAt = serializers.SerializerMethodField()

    def get_finishedAt(self, step) -> str:
        return _time(step.finished_at)


@extend_schema_serializer(component_name="StreamStatusV1")
class StreamStatusSerializer(serializers.Serializer):
    """A source (``id``) and the deletions its data goes through."""

    id = serializers.CharField()
    destinationStatus = DestinationStatusSerializer(many=True)


@extend_schema_serializer(component_name="Regulation")
class RegulationSerializer(serializers.Serializer):
    id = serializers.CharField()
    workspaceId = serializers.CharField(source="workspace_id")
    overallStatus = serializers.ChoiceField(choices=RegulationStatus.values, source="status")
    finishedAt = serializers.SerializerMethodField(help_text="Empty until it has finished")
    createdAt = serializers.DateTimeField(source="created_at")
    streamStatus = serializers.SerializerMethodField()

    def get_finishedAt(self, regulation) -> str:
        return _time(regulation.finished_at)

    @extend_schema_field(StreamStatusSerializer(many=True))
    def get_streamStatus(self, regulation) -> list:
        steps = list(regulation.steps.all())
        streams = [
            {
                "id": source_id,
                "destinationStatus": [
                    step for step in steps if not step.source_ids or source_id in step.source_ids
                ],
            }
            for source_id in regulations.covered_source_ids(regulation)
        ]
        return StreamStatusSerializer(streams, many=True).data


@extend_schema_serializer(component_name="CreateWorkspaceRegulationV1Input")
class CreateRegulationSerializer(OperationSerializer):
    """The body's shape only: the type, the subject type and the ids are the rules' to judge
    (``privacy.regulations``)."""

    regulationType = serializers.CharField(help_text=", ".join(RegulationType.values))
    subjectType = serializers.CharField(help_text="USER_ID")
    subjectIds = serializers.ListField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False),
        allow_empty=True,
        help_text=f"1 to {regulations.MAX_SUBJECTS} user ids",
    )

    def create(self, validated):
        return regulations.create_regulation(
            self.workspace,
            self.actor,
            regulation_type=validated["regulationType"],
            subject_type=validated["subjectType"],
            subject_ids=validated["subjectIds"],
            source=self.context.get("source"),
        )


@extend_schema_serializer(component_name="CreateSourceRegulationV1Input")
class CreateSourceRegulationSerializer(CreateRegulationSerializer):
    pass


@extend_schema_serializer(component_name="SuppressedInner")
class SuppressedSerializer(serializers.Serializer):
    subjectType = serializers.CharField()
    subjectIds = serializers.ListField(child=serializers.CharField())


REGULATE_ID = {"regulateId": serializers.CharField()}
LIST_ENTRIES = RegulationListEntrySerializer(many=True)


class RegulationViewSet(WorkspaceScopedViewSet):
    queryset = Regulation.objects.order_by("-created_at", "id")
    serializer_class = RegulationListEntrySerializer
    lookup_url_kwarg = "regulationId"
    change_role = Role.OWNER  # Segment: only workspace owners regulate end users' data

    def filtered(self, queryset):
        """Segment's filters: ``status`` and ``regulationTypes``; unknown values match none."""
        params = self.request.query_params
        if status := params.get("status"):
            queryset = queryset.filter(status=status)
        if types := query_list(params, "regulationTypes"):
            queryset = queryset.filter(regulation_type__in=types)
        return queryset

    def source(self) -> Source:
        """The token's workspace's source named in the path; another workspace's is 404."""
        sources = Source.objects.filter(workspace=self.workspace)
        return get_object_or_404(sources, pk=self.kwargs["sourceId"])

    def created(self, serializer_class, **context):
        serializer = serializer_class(
            data=self.request.data, context={**self.get_serializer_context(), **context}
        )
        serializer.is_valid(raise_exception=True)
        return self.envelope({"regulateId": serializer.save().pk}, status=201)

    @list_schema(
        "listWorkspaceRegulations",
        "ListWorkspaceRegulationsV1Output",
        "regulations",
        RegulationListEntrySerializer,
        parameters=FILTERS,
        summary="List the workspace-wide regulations, newest first",
    )
    def list(self, request):
        """Regulations of the whole workspace (a source's are listed under the source)."""
        queryset = self.filtered(self.get_queryset().filter(source__isnull=True))
        return self.list_response("regulations", queryset)

    @extend_schema(
        operation_id="createWorkspaceRegulation",
        summary="Suppress or delete end users' data in every source of the workspace",
        request=CreateRegulationSerializer,
        responses={
            201: envelope("CreateWorkspaceRegulationV1Output", **REGULATE_ID),
            **errors(403, 409, 422),
        },
    )
    def create(self, request):
        """SUPPRESS_ONLY and UNSUPPRESS take effect at once (the regulation is FINISHED);
        DELETE_ONLY, SUPPRESS_WITH_DELETE and DELETE_INTERNAL delete the users' events from the
        archive (and, but for DELETE_INTERNAL, their rows from the warehouses) in the
        background. 1 to 5000 user ids, each once (422 ``regulation-subjects``); USER_ID only
        (422 ``regulation-subject-type``)."""
        return self.created(CreateRegulationSerializer)

    @extend_schema(
        operation_id="listRegulationsFromSource",
        summary="List a source's regulations, newest first",
        parameters=[SOURCE_ID, *FILTERS, *PAGINATION_PARAMETERS],
        responses={
            200: envelope("ListRegulationsFromSourceV1Output", regulations=LIST_ENTRIES),
            **errors(404, 422),
        },
    )
    def list_source(self, request, sourceId):
        """One page (``pagination.count``, ``pagination.cursor``) of the source's regulations.
        Segment's answer has no pagination block: a short page is the last."""
        queryset = self.filtered(self.get_queryset().filter(source=self.source()))
        page, _ = paginate(request, queryset)
        return self.envelope({"regulations": self.get_serializer(page, many=True).data})

    @extend_schema(
        operation_id="createSourceRegulation",
        summary="Suppress or delete end users' data in one source",
        parameters=[SOURCE_ID],
        request=CreateSourceRegulationSerializer,
        responses={
            201: envelope("CreateSourceRegulationV1Output", **REGULATE_ID),
            **errors(403, 404, 409, 422),
        },
    )
    def create_source(self, request, sourceId):
        """As the workspace's, for this source only. UNSUPPRESS of a user suppressed in the
        whole workspace is refused (409 ``unsuppress-scope``)."""
        return self.created(CreateSourceRegulationSerializer, source=self.source())

    @extend_schema(
        operation_id="getRegulation",
        summary="Get a regulation and its progress in each system",
        parameters=[REGULATION_ID],
        responses={
            200: envelope("GetRegulationV1Output", regulation=RegulationSerializer()),
            **errors(404),
        },
    )
    def retrieve(self, request, regulationId):
        """The regulation's overall status and, per source (``streamStatus``), where its
        deletion stands in each system: the event archive and each warehouse."""
        regulation = self.get_object()
        return self.envelope({"regulation": RegulationSerializer(regulation).data})

    @extend_schema(
        operation_id="deleteRegulation",
        summary="Withdraw a regulation that has not started",
        parameters=[REGULATION_ID],
        request=None,
        responses={200: status_output("DeleteRegulationV1Output"), **errors(403, 404, 409)},
    )
    def destroy(self, request, regulationId):
        """Only an INITIALIZED regulation (409 ``regulation-not-initialized`` once a system has
        started on it); the suppressions it added are lifted."""
        regulations.remove_regulation(self.get_object(), request.user.token)
        return self.status_response()


class SuppressionViewSet(WorkspaceScopedViewSet):
    queryset = Regulation.objects.none()  # the list reads ``privacy.suppressions``

    @list_schema(
        "listSuppressions",
        "ListSuppressionsV1Output",
        "suppressed",
        SuppressedSerializer,
        summary="List the workspace's suppressed users",
    )
    def list(self, request):
        """Each suppressed user id once, whether suppressed workspace-wide or in a source."""
        page, pagination = paginate(request, suppressions.suppressed_user_ids(self.workspace.pk))
        suppressed = [{"subjectType": regulations.USER_ID, "subjectIds": [user]} for user in page]
        return self.envelope({"suppressed": suppressed, "pagination": pagination})
