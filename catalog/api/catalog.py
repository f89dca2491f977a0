"""``/api/catalog/...``: Segment's catalog endpoints (Get/List Destinations, Sources, Warehouses)."""

from django.shortcuts import get_object_or_404

from catalog.api.serializers import (
    DestinationMetadataSerializer,
    SourceMetadataSerializer,
    WarehouseMetadataSerializer,
)
from catalog.models import DestinationKind, DestinationMetadata, SourceMetadata
from segapp.api.base import SegmentViewSet


class DestinationCatalogViewSet(SegmentViewSet):
    queryset = DestinationMetadata.objects.exclude(kind=DestinationKind.WAREHOUSE).order_by("name")
    serializer_class = DestinationMetadataSerializer

    def list(self, request):
        return self.list_response("destinationsCatalog", self.get_queryset())

    def retrieve(self, request, pk):
        return self.item_response(
            "destinationMetadata", get_object_or_404(self.get_queryset(), pk=pk)
        )


class SourceCatalogViewSet(SegmentViewSet):
    queryset = SourceMetadata.objects.order_by("name")
    serializer_class = SourceMetadataSerializer

    def list(self, request):
        return self.list_response("sourcesCatalog", self.get_queryset())

    def retrieve(self, request, pk):
        return self.item_response("sourceMetadata", get_object_or_404(self.get_queryset(), pk=pk))


class WarehouseCatalogViewSet(SegmentViewSet):
    queryset = DestinationMetadata.objects.filter(kind=DestinationKind.WAREHOUSE).order_by("name")
    serializer_class = WarehouseMetadataSerializer

    def list(self, request):
        return self.list_response("warehousesCatalog", self.get_queryset())

    def retrieve(self, request, pk):
        return self.item_response(
            "warehouseMetadata", get_object_or_404(self.get_queryset(), pk=pk)
        )
