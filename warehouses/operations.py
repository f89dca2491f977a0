"""Operations on warehouses: add, change, remove, connect and disconnect sources, sync now, the
schedule and selective sync. Each gathers the facts, asks ``warehouses.rules``, writes, and audits;
the console, the Public API and admin all call these."""

from django.db import transaction
from django.utils import timezone

from catalog.models import DestinationMetadata
from connections.models import Source
from connections.settings_schema import clean_settings
from segapp import audit, crypto
from segapp.models import Workspace
from segapp.refusal import Refusal
from warehouses import postgres, rules, syncs
from warehouses.models import Collection, ConnectedSource, Sync, SyncTrigger, Warehouse
from warehouses.schedule import clean_advanced, next_sync


def snapshot(warehouse: Warehouse) -> dict:
    """The audit trail's view of a warehouse: the password appears as a mask, never in clear."""
    return {
        "name": warehouse.name,
        "enabled": warehouse.enabled,
        "settings": warehouse.masked_settings(),
        "syncEveryMinutes": warehouse.sync_every_minutes,
        "advancedSchedule": warehouse.advanced_schedule
        if warehouse.advanced_schedule_enabled
        else None,
    }


def clean(
    metadata: DestinationMetadata, submitted: dict, stored_secrets: dict
) -> tuple[dict, dict]:
    """(plain settings, secrets) for the entry's options, or SettingsInvalid."""
    return clean_settings(metadata.options, submitted, stored_secrets)


def test_connection(metadata: DestinationMetadata, submitted: dict, stored_secrets=None) -> None:
    """Raises SettingsInvalid or postgres.WarehouseError unless the settings connect; a Refusal
    for an entry Segapp cannot load (not a warehouse, or not available yet)."""
    if refusal := rules.refuse_unloadable(metadata):
        raise refusal
    plain, secrets = clean(metadata, submitted, stored_secrets or {})
    postgres.check({**plain, **secrets})


def refuse_new_warehouse(workspace: Workspace, metadata: DestinationMetadata) -> Refusal | None:
    """Whether the workspace may add a warehouse of ``metadata`` now: the console asks before it
    offers Configure, and ``create_warehouse`` asks again under the workspace's lock."""
    existing = Warehouse.objects.filter(workspace=workspace).count()
    return rules.refuse_new_warehouse(metadata, workspace.plan, existing)


@transaction.atomic
def create_warehouse(
    workspace: Workspace,
    metadata: DestinationMetadata,
    actor,
    *,
    settings: dict,
    name: str = "",
    enabled: bool = True,
) -> Warehouse:
    workspace = Workspace.objects.select_for_update().get(pk=workspace.pk)
    if refusal := refuse_new_warehouse(workspace, metadata):
        raise refusal
    plain, secrets = clean(metadata, settings, {})
    warehouse = Warehouse(
        workspace=workspace,
        metadata=metadata,
        name=(name or "").strip()[:100],
        enabled=bool(enabled),
        settings=plain,
        encrypted_secrets=crypto.encrypt_json(secrets),
    )
    warehouse.next_sync_at = next_sync(warehouse, timezone.now())
    warehouse.save()
    audit.record(workspace, actor, "warehouse.created", warehouse, after=snapshot(warehouse))
    return warehouse


def _locked(warehouse: Warehouse) -> Warehouse:
    return (
        Warehouse.objects.select_for_update()
        .select_related("workspace", "metadata")
        .get(pk=warehouse.pk)
    )


@transaction.atomic
def update_warehouse(
    warehouse: Warehouse,
    actor,
    *,
    name: str | None = None,
    enabled: bool | None = None,
    settings: dict | None = None,
) -> Warehouse:
    """Changes what is given; ``settings`` are merged over the stored ones (a secret sent back
    as the mask, or left out, keeps its stored value)."""
    warehouse = _locked(warehouse)
    before = snapshot(warehouse)
    if name is not None:
        warehouse.name = name.strip()[:100]
    if enabled is not None:
        warehouse.enabled = bool(enabled)
    if settings is not None:
        merged = {**warehouse.settings, **settings}
        plain, secrets = clean(warehouse.metadata, merged, warehouse.secrets)
        warehouse.settings = plain
        warehouse.encrypted_secrets = crypto.encrypt_json(secrets)
    after = snapshot(warehouse)
    if after != before:
        warehouse.updated_at = timezone.now()
        warehouse.save()
        audit.record(
            warehouse.workspace, actor, "warehouse.updated", warehouse, before=before, after=after
        )
    return warehouse


@transaction.atomic
def delete_warehouse(warehouse: Warehouse, actor) -> None:
    warehouse = _locked(warehouse)
    audit.record(
        warehouse.workspace, actor, "warehouse.deleted", warehouse, before=snapshot(warehouse)
    )
    warehouse.delete()


def _source_in(warehouse: Warehouse, source: Source) -> Source:
    if source.workspace_id != warehouse.workspace_id:
        raise Refusal("No such source in this workspace.", rule="not-found", status=404)
    return source


@transaction.atomic
def connect_source(warehouse: Warehouse, source: Source, actor) -> ConnectedSource:
    warehouse = _locked(warehouse)
    _source_in(warehouse, source)
    connected = ConnectedSource.objects.filter(warehouse=warehouse, source=source).exists()
    if refusal := rules.refuse_connection(connected):
        raise refusal
    link = ConnectedSource.objects.create(warehouse=warehouse, source=source)
    audit.record(
        warehouse.workspace,
        actor,
        "warehouse.source_connected",
        warehouse,
        after={"source": source.name},
    )
    return link


@transaction.atomic
def disconnect_source(warehouse: Warehouse, source: Source, actor) -> None:
    """Stops loading the source; what was loaded stays in the warehouse. Connecting it again
    starts from its oldest archived event (the merge skips rows already there)."""
    warehouse = _locked(warehouse)
    _source_in(warehouse, source)
    deleted, _ = ConnectedSource.objects.filter(warehouse=warehouse, source=source).delete()
    if not deleted:
        raise Refusal(
            "This source is not connected to the warehouse.", rule="not-found", status=404
        )
    audit.record(
        warehouse.workspace,
        actor,
        "warehouse.source_disconnected",
        warehouse,
        before={"source": source.name},
    )


def sync_now(warehouse: Warehouse, actor) -> list[tuple[Sync, bool]]:
    """A sync of every connected source now (an unfinished one is reused); (sync, new) pairs,
    the new ones for the caller to send."""
    if not warehouse.enabled:
        raise Refusal("Enable the warehouse to sync it.", rule="warehouse-disabled", status=409)
    started = [
        syncs.start(connected, SyncTrigger.MANUAL)
        for connected in warehouse.connected_sources.select_related("source")
    ]
    if not started:
        raise Refusal(
            "Connect a source first: a sync loads the connected sources' events.",
            rule="warehouse-no-sources",
            status=409,
        )
    audit.record(warehouse.workspace, actor, "warehouse.sync_started", warehouse)
    return started


@transaction.atomic
def set_schedule(
    warehouse: Warehouse,
    actor,
    *,
    every_minutes=...,
    advanced_enabled: bool | None = None,
    advanced: dict | None = None,
) -> Warehouse:
    """The interval (Business; None returns to the plan's) and Segment's advanced schedule."""
    warehouse = _locked(warehouse)
    plan = warehouse.workspace.plan
    before = snapshot(warehouse)
    if every_minutes is not ...:
        if refusal := rules.refuse_interval(plan, every_minutes):
            raise refusal
        warehouse.sync_every_minutes = every_minutes
    if advanced_enabled is not None:
        if advanced_enabled and (refusal := rules.refuse_advanced_schedule(plan)):
            raise refusal
        warehouse.advanced_schedule_enabled = advanced_enabled
    if advanced is not None:
        if refusal := rules.refuse_advanced_schedule(plan):
            raise refusal
        warehouse.advanced_schedule = clean_advanced(advanced)
    after = snapshot(warehouse)
    if after != before:
        warehouse.next_sync_at = next_sync(warehouse, timezone.now())
        warehouse.updated_at = timezone.now()
        warehouse.save()
        audit.record(
            warehouse.workspace,
            actor,
            "warehouse.schedule_changed",
            warehouse,
            before=before,
            after=after,
        )
    return warehouse


@transaction.atomic
def set_selective_sync(
    warehouse: Warehouse, actor, overrides: list[dict]
) -> tuple[bool, list[str]]:
    """Applies Segment's sync overrides ({sourceId, collection?, property?, enabled}); (changed,
    warnings). A collection or property not loaded yet is remembered, so it stays off when it
    first appears."""
    warehouse = _locked(warehouse)
    if refusal := rules.refuse_selective_sync(warehouse.workspace.plan):
        raise refusal
    connected = set(warehouse.connected_sources.values_list("source_id", flat=True))
    changed, warnings = False, []
    for override in overrides:
        source_id = override.get("sourceId")
        if source_id not in connected:
            raise Refusal(
                f"Source {source_id!r} is not connected to this warehouse.",
                rule="warehouse-source-not-connected",
                field="syncOverrides",
            )
        collection_name, prop = override.get("collection"), override.get("property")
        enabled = bool(override.get("enabled"))
        if prop and not enabled and (refusal := rules.refuse_column_off(prop)):
            raise refusal
        collections = Collection.objects.select_for_update().filter(
            warehouse=warehouse, source_id=source_id
        )
        if collection_name:
            collections = collections.filter(name=collection_name)
            if not collections.exists():
                Collection.objects.create(
                    warehouse=warehouse, source_id=source_id, name=collection_name[:63]
                )
                warnings.append(f"{collection_name} has not been loaded yet; the setting is kept.")
        elif prop:
            raise Refusal(
                "Name the collection the property belongs to.",
                rule="invalid-sync-override",
                field="syncOverrides",
            )
        for collection in collections:
            if prop:
                disabled = set(collection.disabled_columns)
                updated = disabled - {prop} if enabled else disabled | {prop}
                if updated != disabled:
                    collection.disabled_columns = sorted(updated)
                    collection.save(update_fields=["disabled_columns"])
                    changed = True
            elif collection.enabled != enabled:
                collection.enabled = enabled
                collection.save(update_fields=["enabled"])
                changed = True
    if changed:
        audit.record(
            warehouse.workspace,
            actor,
            "warehouse.selective_sync_changed",
            warehouse,
            after={"syncOverrides": overrides},
        )
    return changed, warnings
