"""The base every Public API viewset inherits: token auth and roles (from settings), Segment's
``{"data": …}`` envelope and pagination, and workspace scoping."""

from rest_framework import serializers, viewsets
from rest_framework.response import Response

from segapp.api.pagination import paginate


class SegmentViewSet(viewsets.GenericViewSet):
    """For resources every workspace shares (the catalog)."""

    def envelope(self, data: dict, status: int = 200) -> Response:
        return Response({"data": data}, status=status)

    def list_response(self, key: str, queryset, serializer_class=None) -> Response:
        items, pagination = paginate(self.request, queryset)
        serializer_class = serializer_class or self.get_serializer_class()
        data = serializer_class(items, many=True, context=self.get_serializer_context()).data
        return self.envelope({key: data, "pagination": pagination})

    def item_response(self, key: str, obj, status: int = 200, **extra) -> Response:
        return self.envelope({key: self.get_serializer(obj).data, **extra}, status)

    def status_response(self) -> Response:
        """Segment's answer to a delete."""
        return self.envelope({"status": "SUCCESS"})

    def save_input(self, serializer_class, instance=None):
        """Checks the request body's shape with ``serializer_class`` (422 naming each field), then
        lets its ``create``/``update`` call the operation. Returns what the operation returned."""
        serializer = serializer_class(
            instance, data=self.request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        return serializer.save()

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


class OperationSerializer(serializers.Serializer):
    """An input serializer: checks the body's shape; its ``create``/``update`` call an operation,
    which checks the rules, writes and audits with the token as the actor."""

    @property
    def workspace(self):
        return self.context["request"].user.workspace

    @property
    def actor(self):
        return self.context["request"].user.token


class InWorkspaceField(serializers.PrimaryKeyRelatedField):
    """An id in a request body, looked up among the token's workspace's objects only: another
    workspace's id fails like an unknown one (422 naming the field), revealing nothing."""

    default_error_messages = {
        "does_not_exist": "Nothing with id “{pk_value}” in this workspace.",
        "incorrect_type": "Give the id as a string.",
    }

    def get_queryset(self):
        workspace = self.context["request"].user.workspace
        return super().get_queryset().filter(workspace=workspace)
