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
from delivery.payload_reads import ACTIONS
from privacy.models import (
    DataControl,
    DeletionStep,
    EncryptionKey,
    Field,
    InstancePrivacy,
    Matcher,
    Regulation,
    Suppression,
)
from segapp.models import ApiToken, AuditEntry, Membership, WorkerPing, Workspace
from warehouses.models import Collection, ConnectedSource, Sync, Warehouse

READS = [action for actions in ACTIONS.values() for action in actions]


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
        "fields": _rows(Field.objects.filter(workspace=workspace)),
        "matchers": _rows(Matcher.objects.filter(workspace=workspace)),
        "data_controls": _rows(DataControl.objects.filter(workspace=workspace)),
        "instance_privacy": _rows(InstancePrivacy.objects.filter(instance_id__in=instance_ids)),
        "encryption_key": _rows(EncryptionKey.objects.filter(workspace=workspace)),
        "regulations": _rows(Regulation.objects.filter(workspace=workspace)),
        "suppressions": _rows(Suppression.objects.filter(workspace=workspace)),
        "deletion_steps": _rows(DeletionStep.objects.filter(regulation__workspace=workspace)),
        # Reading event payloads is audited (HIPAA), and changes nothing else.
        "audit": _rows(AuditEntry.objects.filter(workspace=workspace).exclude(action__in=READS)),
    }
