from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from segapp.api.schema import envelope, errors


@extend_schema_serializer(component_name="WorkspaceV1")
class WorkspaceSerializer(serializers.Serializer):
    id = serializers.CharField()
    slug = serializers.CharField()
    name = serializers.CharField()


@extend_schema(
    operation_id="getWorkspace",
    tags=["workspaces"],
    responses={200: envelope("GetWorkspaceV1Output", workspace=WorkspaceSerializer()), **errors()},
)
@api_view(["GET"])
def get_workspace(request):
    """Segment's "Get Workspace": the workspace the token belongs to."""
    workspace = request.user.workspace
    return Response({"data": {"workspace": WorkspaceSerializer(workspace).data}})
