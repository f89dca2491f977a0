"""The warehouse rules (seed 003 and Segment's warehouse docs), in one place for the console, the
Public API and admin. Each ``refuse_*`` returns None when the change is allowed, or a Refusal that
names the rule and says why; ``warehouses.operations`` checks them before it writes."""

from catalog.models import DestinationKind, DestinationMetadata
from segapp.models import Plan
from segapp.refusal import Refusal

# Plans that may have a single warehouse (Business any number).
ONE_WAREHOUSE_PLANS = {Plan.FREE, Plan.TEAM}
# Minutes between scheduled syncs by plan (Segment: Free once a day, Team twice a day, Business
# up to every hour); Business may choose any interval down to MIN_INTERVAL, beyond Segment.
PLAN_INTERVAL = {Plan.FREE: 24 * 60, Plan.TEAM: 12 * 60, Plan.BUSINESS: 60}
MIN_INTERVAL = 5
MAX_INTERVAL = 24 * 60


def refuse_unloadable(metadata: DestinationMetadata) -> Refusal | None:
    """Can Segapp connect to and load a warehouse of ``metadata`` at all?"""
    if metadata.kind != DestinationKind.WAREHOUSE:
        return Refusal(
            f"{metadata.name} is not a warehouse.", rule="not-a-warehouse", field="metadataId"
        )
    if not metadata.cloud_delivery:
        return Refusal(
            f"Segapp cannot load into {metadata.name} yet; PostgreSQL is available.",
            rule="warehouse-not-available",
            field="metadataId",
        )
    return None


def refuse_new_warehouse(metadata: DestinationMetadata, plan: str, existing: int) -> Refusal | None:
    """May a workspace on ``plan`` that has ``existing`` warehouses add one of ``metadata``?"""
    if refusal := refuse_unloadable(metadata):
        return refusal
    if plan in ONE_WAREHOUSE_PLANS and existing:
        return Refusal(
            "Free and Team workspaces connect one warehouse; upgrade to Business for more.",
            rule="warehouse-plan-limit",
            status=409,
        )
    return None


def refuse_connection(source_connected: bool) -> Refusal | None:
    if source_connected:
        return Refusal(
            "This source is already connected to the warehouse.",
            rule="warehouse-source-connected",
            status=409,
        )
    return None


def refuse_interval(plan: str, minutes: int | None) -> Refusal | None:
    """A sync interval the plan allows (None: the plan's own)."""
    if minutes is None:
        return None
    if plan != Plan.BUSINESS:
        return Refusal(
            "Free workspaces sync once a day and Team workspaces twice a day; upgrade to "
            "Business to choose the schedule.",
            rule="sync-schedule-business",
            field="syncEveryMinutes",
        )
    if not MIN_INTERVAL <= minutes <= MAX_INTERVAL:
        return Refusal(
            f"Choose between {MIN_INTERVAL} minutes and {MAX_INTERVAL // 60} hours.",
            rule="sync-interval-range",
            field="syncEveryMinutes",
        )
    return None


def refuse_advanced_schedule(plan: str) -> Refusal | None:
    if plan != Plan.BUSINESS:
        return Refusal(
            "An advanced sync schedule is part of the Business plan.",
            rule="sync-schedule-business",
            field="schedule",
        )
    return None


def refuse_selective_sync(plan: str) -> Refusal | None:
    if plan != Plan.BUSINESS:
        return Refusal(
            "Selective sync is part of the Business plan: Free and Team workspaces load every "
            "table and column.",
            rule="selective-sync-business",
        )
    return None


# Columns a table cannot do without: ``id`` is the key rows are merged on, and ``received_at``
# says which of a user's traits are the newest.
REQUIRED_COLUMNS = frozenset({"id", "received_at"})


def refuse_column_off(column: str) -> Refusal | None:
    if column in REQUIRED_COLUMNS:
        return Refusal(
            f"{column} is always loaded: the warehouse needs it to merge rows.",
            rule="selective-sync-required-column",
            field="syncOverrides",
        )
    return None
