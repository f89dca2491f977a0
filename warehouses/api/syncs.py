"""``/api/warehouses/{warehouseId}/syncs``: Segment's List Syncs (per warehouse and per connected
source) and its Advanced Sync Schedule; and, beyond Segment, ``POST`` to sync now."""

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers

from segapp.api.base import OperationSerializer
from segapp.api.schema import envelope, errors, list_schema
from warehouses import operations, tasks
from warehouses.api.base import SOURCE_ID, WAREHOUSE_ID, WarehouseScopedViewSet
from warehouses.api.serializers import SyncSerializer
from warehouses.models import Sync


@extend_schema_serializer(component_name="WarehouseAdvancedSyncV1")
class AdvancedSyncTimeSerializer(serializers.Serializer):
    hourOfDay = serializers.IntegerField()
    enabled = serializers.BooleanField()


@extend_schema_serializer(component_name="AdvancedWarehouseSyncScheduleV1Input")
class AdvancedScheduleSerializer(serializers.Serializer):
    """Segment's schedule: the hours of the day to sync at, in a tz database time zone."""

    times = AdvancedSyncTimeSerializer(many=True)
    timezone = serializers.CharField(max_length=64)


@extend_schema_serializer(component_name="ReplaceAdvancedSyncScheduleForWarehouseV1Input")
class ReplaceScheduleSerializer(OperationSerializer):
    """ReplaceAdvancedSyncScheduleForWarehouseV1Input. The hours and the time zone are checked,
    and the plan asked, by ``operations.set_schedule``."""

    enabled = serializers.BooleanField()
    schedule = AdvancedScheduleSerializer(required=False)

    def update(self, warehouse, validated):
        return operations.set_schedule(
            warehouse,
            self.actor,
            advanced_enabled=validated["enabled"],
            advanced=validated.get("schedule"),
        )


def schedule_of(warehouse) -> dict:
    """Segment's answer: whether the advanced schedule is on, and the schedule once there is one."""
    answer = {"enabled": warehouse.advanced_schedule_enabled}
    if warehouse.advanced_schedule:
        answer["schedule"] = warehouse.advanced_schedule
    return answer


SCHEDULE_OUTPUT = {
    "enabled": serializers.BooleanField(),
    "schedule": AdvancedScheduleSerializer(required=False),
}
REPORTS = SyncSerializer(many=True)


class WarehouseSyncViewSet(WarehouseScopedViewSet):
    def reports(self, queryset):
        return self.list_response(
            "reports", queryset.order_by("-created_at", "-id"), SyncSerializer
        )

    @list_schema(
        "listSyncsFromWarehouse",
        "ListSyncsFromWarehouseV1Output",
        "reports",
        SyncSerializer,
        parameters=[WAREHOUSE_ID],
        codes=[404],
    )
    def list_syncs(self, request, warehouseId):
        """The warehouse's syncs, newest first: one per connected source each time it syncs."""
        return self.reports(Sync.objects.filter(warehouse=self.get_object()))

    @extend_schema(
        operation_id="createSyncForWarehouse",
        parameters=[WAREHOUSE_ID],
        request=None,
        responses={
            200: envelope("CreateSyncForWarehouseOutput", reports=REPORTS),
            **errors(403, 404, 409),
        },
    )
    def sync_now(self, request, warehouseId):
        """Beyond Segment, on every plan: syncs each connected source now. A source whose sync is
        still under way keeps that one; the answer lists the syncs either way."""
        started = operations.sync_now(self.get_object(), request.user.token)
        for sync, new in started:
            if new:
                tasks.queue_sync(sync.pk)
        data = SyncSerializer([sync for sync, _ in started], many=True).data
        return self.envelope({"reports": data})

    @list_schema(
        "listSyncsFromWarehouseAndSource",
        "ListSyncsFromWarehouseAndSourceV1Output",
        "reports",
        SyncSerializer,
        parameters=[WAREHOUSE_ID, SOURCE_ID],
        codes=[404],
    )
    def list_source_syncs(self, request, warehouseId, sourceId):
        """One source's syncs into the warehouse, newest first."""
        warehouse = self.get_object()
        return self.reports(Sync.objects.filter(warehouse=warehouse, source=self.source(sourceId)))

    @extend_schema(
        operation_id="getAdvancedSyncScheduleFromWarehouse",
        parameters=[WAREHOUSE_ID],
        responses={
            200: envelope("GetAdvancedSyncScheduleFromWarehouseV1Output", **SCHEDULE_OUTPUT),
            **errors(404),
        },
    )
    def get_schedule(self, request, warehouseId):
        """The advanced schedule (Business): the hours to sync at, in its time zone."""
        return self.envelope(schedule_of(self.get_object()))

    @extend_schema(
        operation_id="replaceAdvancedSyncScheduleForWarehouse",
        parameters=[WAREHOUSE_ID],
        request=ReplaceScheduleSerializer,
        responses={
            200: envelope("ReplaceAdvancedSyncScheduleForWarehouseV1Output", **SCHEDULE_OUTPUT),
            **errors(403, 404, 422),
        },
    )
    def replace_schedule(self, request, warehouseId):
        """Turns the advanced schedule on or off and replaces its hours (Business: otherwise 422
        ``sync-schedule-business``)."""
        return self.envelope(
            schedule_of(self.save_input(ReplaceScheduleSerializer, self.get_object()))
        )
