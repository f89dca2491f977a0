"""How the audit trail names warehouse entries and links them to their pages."""

from segapp import audit
from warehouses.models import Warehouse


def register() -> None:
    audit.register(
        Warehouse,
        "Warehouse",
        {
            "warehouse.created": "created warehouse",
            "warehouse.updated": "changed warehouse",
            "warehouse.deleted": "deleted warehouse",
            "warehouse.source_connected": "connected a source to warehouse",
            "warehouse.source_disconnected": "disconnected a source from warehouse",
            "warehouse.sync_started": "started a warehouse sync",
            "warehouse.schedule_changed": "changed the sync schedule",
            "warehouse.selective_sync_changed": "changed selective sync",
        },
        audit.linker(Warehouse.objects, "warehouses:detail", "pk"),
    )
