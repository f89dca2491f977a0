"""``/api/warehouses``: Segment's Create, List, Get, Update and Delete Warehouse, Create Validation,
Get Connection State, and the connected sources (list, add, remove); and ``/api/sources/{sourceId}
/connected-warehouses``. Every change goes through ``warehouses.operations``, and so through every
rule of ``warehouses.rules`` (the plan's one warehouse, the catalog entries Segapp can load).

Settings are returned with each secret masked (``connections.models.MASK``); a client that sends
the mask back keeps the stored secret.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action

from connections.api.sources import SourceSerializer, SourceViewSet
from connections.models import Source
from connections.settings_schema import SettingsInvalid
from segapp.api.base import WorkspaceScopedViewSet
from segapp.api.schema import envelope, errors, list_schema, status_output
from warehouses import operations
from warehouses.api.base import SOURCE_ID, WAREHOUSE_ID, WarehouseScopedViewSet
from warehouses.api.serializers import (
    CreateWarehouseSerializer,
    UpdateWarehouseSerializer,
    ValidationSerializer,
    WarehouseSerializer,
    tested_state,
)

WAREHOUSE = WarehouseSerializer()
CONNECTION_STATES = ["CONNECTED", "FAILED"]


class WarehouseViewSet(WarehouseScopedViewSet):
    @list_schema("listWarehouses", "ListWarehousesV1Output", "warehouses", WarehouseSerializer)
    def list(self, request):
        """Warehouses of the workspace, oldest first."""
        return self.list_response("warehouses", self.get_queryset())

    @extend_schema(
        operation_id="createWarehouse",
        request=CreateWarehouseSerializer,
        responses={
            201: envelope("CreateWarehouseV1Output", warehouse=WAREHOUSE),
            **errors(403, 409, 422),
        },
    )
    def create(self, request):
        """Adds a warehouse from a catalog entry Segapp can load (PostgreSQL). Free and Team
        workspaces have one (409 ``warehouse-plan-limit``)."""
        return self.item_response(
            "warehouse", self.save_input(CreateWarehouseSerializer), status=201
        )

    @extend_schema(
        operation_id="getWarehouse",
        parameters=[WAREHOUSE_ID],
        responses={200: envelope("GetWarehouseV1Output", warehouse=WAREHOUSE), **errors(404)},
    )
    def retrieve(self, request, warehouseId):
        """One warehouse; the password shows as a mask."""
        return self.item_response("warehouse", self.get_object())

    @extend_schema(
        operation_id="updateWarehouse",
        parameters=[WAREHOUSE_ID],
        request=UpdateWarehouseSerializer,
        responses={
            200: envelope("UpdateWarehouseV1Output", warehouse=WAREHOUSE),
            **errors(403, 404, 422),
        },
    )
    def partial_update(self, request, warehouseId):
        """Renames, enables or disables, and merges settings into the stored ones."""
        updated = self.save_input(UpdateWarehouseSerializer, self.get_object())
        return self.item_response("warehouse", updated)

    @extend_schema(
        operation_id="deleteWarehouse",
        parameters=[WAREHOUSE_ID],
        responses={200: status_output("DeleteWarehouseV1Output"), **errors(403, 404)},
    )
    def destroy(self, request, warehouseId):
        """Deletes the warehouse; what was loaded stays in the customer's database."""
        operations.delete_warehouse(self.get_object(), request.user.token)
        return self.status_response()

    @extend_schema(
        operation_id="createValidationInWarehouse",
        request=ValidationSerializer,
        responses={
            200: envelope(
                "CreateValidationInWarehouseV1Output",
                status=serializers.ChoiceField(choices=CONNECTION_STATES),
            ),
            **errors(403, 422),
        },
    )
    @action(detail=False, methods=["post"], url_path="validation")
    def validation(self, request):
        """Tests connection settings before they are saved: CONNECTED when Segapp can connect and
        create schemas, FAILED otherwise; settings that are not valid answer 422 naming each."""
        return self.envelope({"status": self.save_input(ValidationSerializer)})

    @extend_schema(
        operation_id="getConnectionStateFromWarehouse",
        parameters=[WAREHOUSE_ID],
        responses={
            200: envelope(
                "GetConnectionStateFromWarehouseV1Output",
                connectionState=serializers.ChoiceField(choices=CONNECTION_STATES),
            ),
            **errors(404),
        },
    )
    @action(detail=True, methods=["get"], url_path="connection-state")
    def connection_state(self, request, warehouseId):
        """Tests the stored settings now."""
        warehouse = self.get_object()
        try:
            state = tested_state(warehouse.metadata, warehouse.settings, warehouse.secrets)
        except SettingsInvalid:  # the catalog entry changed since they were saved
            state = "FAILED"
        return self.envelope({"connectionState": state})

    @list_schema(
        "listConnectedSourcesFromWarehouse",
        "ListConnectedSourcesFromWarehouseV1Output",
        "sources",
        SourceSerializer,
        parameters=[WAREHOUSE_ID],
        codes=[404],
    )
    @action(detail=True, methods=["get"], url_path="connected-sources")
    def connected_sources(self, request, warehouseId):
        """The sources whose events the warehouse loads, oldest first."""
        connected = SourceViewSet.queryset.filter(
            workspace=self.workspace, pk__in=self.get_object().connected_sources.values("source")
        )
        return self.list_response("sources", connected, SourceSerializer)

    @extend_schema(
        operation_id="addConnectionFromSourceToWarehouse",
        parameters=[WAREHOUSE_ID, SOURCE_ID],
        request=None,
        responses={
            201: envelope(
                "AddConnectionFromSourceToWarehouseV1Output",
                status=serializers.ChoiceField(choices=["CONNECTED"]),
            ),
            **errors(403, 404, 409),
        },
    )
    @action(detail=True, methods=["post"], url_path=r"connected-sources/(?P<sourceId>[^/.]+)")
    def connect_source(self, request, warehouseId, sourceId):
        """Connects a source: its archived events are loaded from the next sync on."""
        warehouse = self.get_object()
        operations.connect_source(warehouse, self.source(sourceId), request.user.token)
        return self.envelope({"status": "CONNECTED"}, status=201)

    @extend_schema(
        operation_id="removeSourceConnectionFromWarehouse",
        parameters=[WAREHOUSE_ID, SOURCE_ID],
        responses={
            200: status_output("RemoveSourceConnectionFromWarehouseV1Output"),
            **errors(403, 404),
        },
    )
    @connect_source.mapping.delete
    def disconnect_source(self, request, warehouseId, sourceId):
        """Stops loading the source; what was loaded stays in the warehouse."""
        warehouse = self.get_object()
        operations.disconnect_source(warehouse, self.source(sourceId), request.user.token)
        return self.status_response()


class SourceWarehousesViewSet(WorkspaceScopedViewSet):
    """``/sources/{sourceId}/connected-warehouses``, beside the sources API (which cannot import
    warehouses)."""

    queryset = Source.objects.all()
    lookup_url_kwarg = "sourceId"

    @list_schema(
        "listConnectedWarehousesFromSource",
        "ListConnectedWarehousesFromSourceV1Output",
        "warehouses",
        WarehouseSerializer,
        parameters=[SOURCE_ID],
        codes=[404],
    )
    def connected_warehouses(self, request, sourceId):
        """The warehouses that load the source's events."""
        warehouses = WarehouseViewSet.queryset.filter(
            workspace=self.workspace, connected_sources__source=self.get_object()
        )
        return self.list_response("warehouses", warehouses, WarehouseSerializer)
