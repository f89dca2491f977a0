"""``/api/catalog/...``: Segment's catalog endpoints (Get/List Destinations, Sources, Warehouses)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view

from catalog.api.serializers import (
    DestinationMetadataSerializer,
    SourceMetadataSerializer,
    WarehouseMetadataSerializer,
)
from catalog.models import DestinationKind, DestinationMetadata, SourceMetadata
from segapp.api.base import SegmentViewSet
from segapp.api.schema import envelope, errors, list_schema


def documented(kind: str, list_key: str, one_key: str, serializer):
    """The OpenAPI description of a catalog list and item, named as the official SDK names them."""
    return extend_schema_view(
        list=list_schema(
            f"get{kind}sCatalog",
            f"Get{kind}sCatalogV1Output",
            list_key,
            serializer,
            description=f"Every {kind.lower()} in the catalog, by name.",
        ),
        retrieve=extend_schema(
            operation_id=f"get{kind}Metadata",
            description=f"One {kind.lower()} of the catalog.",
            responses={
                200: envelope(f"Get{kind}MetadataV1Output", **{one_key: serializer()}),
                **errors(404),
            },
        ),
    )


@documented(
    "Destination", "destinationsCatalog", "destinationMetadata", DestinationMetadataSerializer
)
class DestinationCatalogViewSet(SegmentViewSet):
    queryset = DestinationMetadata.objects.exclude(kind=DestinationKind.WAREHOUSE).order_by("name")
    serializer_class = DestinationMetadataSerializer

    def list(self, request):
        return self.list_response("destinationsCatalog", self.get_queryset())

    def retrieve(self, request, pk):
        return self.item_response(
            "destinationMetadata", get_object_or_404(self.get_queryset(), pk=pk)
        )


@documented("Source", "sourcesCatalog", "sourceMetadata", SourceMetadataSerializer)
class SourceCatalogViewSet(SegmentViewSet):
    queryset = SourceMetadata.objects.order_by("name")
    serializer_class = SourceMetadataSerializer

    def list(self, request):
        return self.list_response("sourcesCatalog", self.get_queryset())

    def retrieve(self, request, pk):
        return self.item_response("sourceMetadata", get_object_or_404(self.get_queryset(), pk=pk))


@documented("Warehouse", "warehousesCatalog", "warehouseMetadata", WarehouseMetadataSerializer)
class WarehouseCatalogViewSet(SegmentViewSet):
    queryset = DestinationMetadata.objects.filter(kind=DestinationKind.WAREHOUSE).order_by("name")
    serializer_class = WarehouseMetadataSerializer

    def list(self, request):
        return self.list_response("warehousesCatalog", self.get_queryset())

    def retrieve(self, request, pk):
        return self.item_response(
            "warehouseMetadata", get_object_or_404(self.get_queryset(), pk=pk)
        )
