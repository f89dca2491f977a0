from rest_framework.decorators import api_view
from rest_framework.response import Response


@api_view(["GET"])
def get_workspace(request):
    """Segment's "Get Workspace": the workspace the token belongs to."""
    workspace = request.user.workspace
    return Response(
        {
            "data": {
                "workspace": {"id": workspace.id, "slug": workspace.slug, "name": workspace.name}
            }
        }
    )
