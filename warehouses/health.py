"""Each warehouse's health in one word, the one definition the warehouse list and page show:
Disabled, Not synced yet, Failing (a connected source's latest sync failed) or Healthy.

``health_of`` reads the latest finished sync of every connected source in one grouped query,
whatever the number of warehouses or syncs.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, Max

from warehouses.models import Sync, SyncStatus


@dataclass(frozen=True)
class Health:
    word: str  # Healthy, Failing, Not synced yet, Disabled
    tone: str  # ok, bad or muted: the badge's colour
    detail: str  # the sentence behind the word (the badge's title)
    last_synced_at: datetime | None = None  # the latest finished sync, of any source


def health_of(warehouses) -> dict[str, Health]:
    """Health by warehouse id, for warehouses a page already holds."""
    warehouses = list(warehouses)
    if not warehouses:
        return {}
    latest: dict[str, dict[str, dict[str, datetime]]] = {w.pk: {} for w in warehouses}
    rows = (
        Sync.objects.filter(
            warehouse_id__in=list(latest),
            status__in=[SyncStatus.SUCCESS, SyncStatus.FAILED],
            # Only sources still connected: a removed source's failure no longer counts.
            warehouse__connected_sources__source_id=F("source_id"),
        )
        .values("warehouse_id", "source_id", "status")
        .annotate(last=Max("finished_at"))
        .order_by()
    )
    for row in rows:
        by_source = latest[row["warehouse_id"]].setdefault(row["source_id"], {})
        by_source[row["status"]] = row["last"]
    return {w.pk: _judge(w, latest[w.pk]) for w in warehouses}


def _latest_failed(statuses: dict[str, datetime]) -> bool:
    failed, succeeded = statuses.get(SyncStatus.FAILED), statuses.get(SyncStatus.SUCCESS)
    return failed is not None and (succeeded is None or failed >= succeeded)


def _judge(warehouse, by_source: dict[str, dict[str, datetime]]) -> Health:
    finished = [at for statuses in by_source.values() for at in statuses.values() if at]
    last = max(finished, default=None)
    if not warehouse.enabled:
        return Health("Disabled", "muted", "Disabled: no scheduled syncs run.", last)
    if last is None:
        return Health("Not synced yet", "muted", "No sync has finished yet.", last)
    failing = sum(1 for statuses in by_source.values() if _latest_failed(statuses))
    if failing:
        sources = "source" if failing == 1 else "sources"
        return Health("Failing", "bad", f"The latest sync of {failing} {sources} failed.", last)
    return Health("Healthy", "ok", "The latest sync of every connected source succeeded.", last)
