"""What every warehouses endpoint shares: the workspace's warehouses, looked up by ``warehouseId``,
and the workspace's sources, by ``sourceId``."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter

from connections.models import Source
from segapp.api.base import WorkspaceScopedViewSet
from warehouses.api.serializers import WarehouseSerializer
from warehouses.models import Warehouse

WAREHOUSE_ID = OpenApiParameter("warehouseId", str, OpenApiParameter.PATH)
SOURCE_ID = OpenApiParameter("sourceId", str, OpenApiParameter.PATH)


class WarehouseScopedViewSet(WorkspaceScopedViewSet):
    """``get_object`` is the token's workspace's warehouse named in the path (else 404)."""

    queryset = Warehouse.objects.select_related("metadata").order_by("created_at", "id")
    serializer_class = WarehouseSerializer
    lookup_url_kwarg = "warehouseId"

    def source(self, source_id: str) -> Source:
        """A source of the token's workspace; another workspace's looks absent (404)."""
        return get_object_or_404(Source.objects.filter(workspace=self.workspace), pk=source_id)
