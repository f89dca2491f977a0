"""Every stored row of one workspace, to prove that a refused request changed nothing."""

from connections.models import (
    DestinationFilter,
    DestinationInstance,
    SettingsVersion,
    Source,
    Transformation,
    WriteKey,
)
from delivery.models import DeliveryJob, RedeliveryRun, Replay
from segapp.models import ApiToken, AuditEntry, Membership, WorkerPing, Workspace
from warehouses.models import Collection, ConnectedSource, Sync, Warehouse


def _rows(queryset, *, leave_out=()) -> list[dict]:
    return [
        {k: v for k, v in row.items() if k not in leave_out}
        for row in queryset.order_by("pk").values()
    ]


def workspace_rows(workspace) -> dict[str, list[dict]]:
    """The workspace's rows, table by table (a token's ``last_used_at`` moves on every read)."""
    instance_ids = DestinationInstance.objects.filter(workspace=workspace).values("pk")
    return {
        "workspace": _rows(Workspace.objects.filter(pk=workspace.pk)),
        "memberships": _rows(Membership.objects.filter(workspace=workspace)),
        "tokens": _rows(ApiToken.objects.filter(workspace=workspace), leave_out={"last_used_at"}),
        "sources": _rows(Source.objects.filter(workspace=workspace)),
        "write_keys": _rows(WriteKey.objects.filter(source__workspace=workspace)),
        "instances": _rows(DestinationInstance.objects.filter(workspace=workspace)),
        "settings_versions": _rows(SettingsVersion.objects.filter(workspace=workspace)),
        "filters": _rows(DestinationFilter.objects.filter(workspace=workspace)),
        "transformations": _rows(Transformation.objects.filter(workspace=workspace)),
        "deliveries": _rows(DeliveryJob.objects.filter(instance_id__in=instance_ids)),
        "redeliveries": _rows(RedeliveryRun.objects.filter(instance_id__in=instance_ids)),
        "warehouses": _rows(Warehouse.objects.filter(workspace=workspace)),
        "warehouse_sources": _rows(ConnectedSource.objects.filter(warehouse__workspace=workspace)),
        "collections": _rows(Collection.objects.filter(warehouse__workspace=workspace)),
        "syncs": _rows(Sync.objects.filter(warehouse__workspace=workspace)),
        "replays": _rows(Replay.objects.filter(workspace=workspace)),
        "worker_pings": _rows(WorkerPing.objects.filter(workspace=workspace)),
        "audit": _rows(AuditEntry.objects.filter(workspace=workspace)),
    }
