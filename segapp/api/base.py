"""The base every Public API viewset inherits: token auth and roles (from settings), Segment's
``{"data": …}`` envelope and pagination, and workspace scoping."""

from rest_framework import viewsets
from rest_framework.response import Response

from segapp.api.pagination import paginate


class SegmentViewSet(viewsets.GenericViewSet):
    """For resources every workspace shares (the catalog)."""

    def envelope(self, data: dict, status: int = 200) -> Response:
        return Response({"data": data}, status=status)

    def list_response(self, key: str, queryset) -> Response:
        items, pagination = paginate(self.request, queryset)
        data = self.get_serializer(items, many=True).data
        return self.envelope({key: data, "pagination": pagination})

    def item_response(self, key: str, obj, status: int = 200) -> Response:
        return self.envelope({key: self.get_serializer(obj).data}, status)

    @property
    def workspace(self):
        return self.request.user.workspace


class WorkspaceScopedViewSet(SegmentViewSet):
    """For a workspace's own objects: another workspace's objects look absent (404).

    Subclasses set ``queryset``; they never override ``get_queryset``, so scoping cannot be lost.
    """

    def get_queryset(self):
        return super().get_queryset().filter(workspace=self.workspace)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise TypeError(f"{cls.__name__} must not override get_queryset (workspace scoping)")
