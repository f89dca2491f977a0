"""``/api/warehouses/{warehouseId}/selective-sync``: Segment's Update Selective Sync and List
Selective Syncs. Which tables and columns a source loads (Business), over
``operations.set_selective_sync``."""

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers

from segapp.api.base import OperationSerializer
from segapp.api.schema import envelope, errors, list_schema
from warehouses import operations
from warehouses.api.base import SOURCE_ID, WAREHOUSE_ID, WarehouseScopedViewSet
from warehouses.api.serializers import SelectiveSyncItemSerializer
from warehouses.models import Collection


@extend_schema_serializer(component_name="WarehouseSyncOverrideV1")
class SyncOverrideSerializer(serializers.Serializer):
    """A source, a table of it (``collection``) or one column (``property``), on or off."""

    sourceId = serializers.CharField(max_length=32)
    collection = serializers.CharField(required=False, max_length=255)
    property = serializers.CharField(required=False, max_length=255)
    enabled = serializers.BooleanField()


@extend_schema_serializer(component_name="UpdateSelectiveSyncForWarehouseV1Input")
class UpdateSelectiveSyncSerializer(OperationSerializer):
    syncOverrides = SyncOverrideSerializer(many=True)

    def update(self, warehouse, validated):
        return operations.set_selective_sync(warehouse, self.actor, validated["syncOverrides"])


class SelectiveSyncViewSet(WarehouseScopedViewSet):
    @extend_schema(
        operation_id="updateSelectiveSyncForWarehouse",
        parameters=[WAREHOUSE_ID],
        request=UpdateSelectiveSyncSerializer,
        responses={
            200: envelope(
                "UpdateSelectiveSyncForWarehouseV1Output",
                status=serializers.ChoiceField(choices=["UPDATED", "UNCHANGED"]),
                warnings=serializers.ListField(child=serializers.CharField()),
            ),
            **errors(403, 404, 422),
        },
    )
    def update_selective_sync(self, request, warehouseId):
        """Turns tables and columns of connected sources on or off from the next sync on
        (Business: otherwise 422 ``selective-sync-business``). A table not loaded yet is
        remembered, with a warning."""
        changed, warnings = self.save_input(UpdateSelectiveSyncSerializer, self.get_object())
        return self.envelope(
            {"status": "UPDATED" if changed else "UNCHANGED", "warnings": warnings}
        )

    @list_schema(
        "listSelectiveSyncsFromWarehouseAndSource",
        "ListSelectiveSyncsFromWarehouseAndSourceV1Output",
        "items",
        SelectiveSyncItemSerializer,
        parameters=[WAREHOUSE_ID, SOURCE_ID],
        codes=[404],
    )
    def list_selective_syncs(self, request, warehouseId, sourceId):
        """The source's tables in the warehouse, each with its columns, on or off."""
        collections = Collection.objects.filter(
            warehouse=self.get_object(), source=self.source(sourceId)
        ).order_by("name", "pk")
        return self.list_response("items", collections, SelectiveSyncItemSerializer)
