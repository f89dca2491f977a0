"""The warehouse rules: one warehouse on Free and Team, any number on Business; only PostgreSQL
can be loaded; schedules by plan; and the scheduler starting what is due."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.utils import timezone

from catalog.models import DestinationMetadata
from segapp import crypto
from segapp.refusal import Refusal
from tests.factories import make_workspace
from warehouses import operations, syncs
from warehouses.models import Sync, SyncTrigger, Warehouse
from warehouses.schedule import next_sync


def refused(rule, call, *args, **kwargs) -> Refusal:
    with pytest.raises(Refusal) as caught:
        call(*args, **kwargs)
    assert caught.value.rule == rule, caught.value.message
    return caught.value


@pytest.mark.parametrize("plan", ["free", "team"])
def test_free_and_team_workspaces_have_one_warehouse(plan, postgres_entry, warehouse_db, owner):
    workspace = make_workspace(owner, plan=plan)
    operations.create_warehouse(workspace, postgres_entry, owner, settings=warehouse_db)
    refusal = refused(
        "warehouse-plan-limit",
        operations.create_warehouse,
        workspace,
        postgres_entry,
        owner,
        settings=warehouse_db,
    )
    assert refusal.status == 409 and "upgrade to Business" in refusal.message
    assert Warehouse.objects.filter(workspace=workspace).count() == 1


def test_business_workspaces_have_any_number(postgres_entry, warehouse_db, owner):
    workspace = make_workspace(owner, plan="business")
    for _ in range(3):
        operations.create_warehouse(workspace, postgres_entry, owner, settings=warehouse_db)
    assert Warehouse.objects.filter(workspace=workspace).count() == 3


def test_only_postgres_can_be_loaded_and_destinations_are_not_warehouses(
    catalog, workspace, owner, warehouse_db
):
    snowflake = DestinationMetadata.objects.get(slug="snowflake")
    refused("warehouse-not-available", operations.create_warehouse, workspace, snowflake, owner,
            settings={})  # fmt: skip
    webhooks = DestinationMetadata.objects.get(slug="webhooks")
    refused("not-a-warehouse", operations.create_warehouse, workspace, webhooks, owner,
            settings={})  # fmt: skip


def test_a_source_connects_once(source, warehouse, owner):
    refused("warehouse-source-connected", operations.connect_source, warehouse, source, owner)


def test_schedules_follow_the_plan(warehouse, workspace, owner):
    at = datetime(2026, 12, 4, 10, 30, tzinfo=UTC)
    assert next_sync(warehouse, at) == at + timedelta(hours=24)  # Free: once a day
    workspace.plan = "team"
    workspace.save()
    warehouse.refresh_from_db()
    assert next_sync(warehouse, at) == at + timedelta(hours=12)  # Team: twice a day
    refused("sync-schedule-business", operations.set_schedule, warehouse, owner, every_minutes=60)

    workspace.plan = "business"
    workspace.save()
    assert next_sync(Warehouse.objects.get(pk=warehouse.pk), at) == at + timedelta(hours=1)
    refused("sync-interval-range", operations.set_schedule, warehouse, owner, every_minutes=4)
    changed = operations.set_schedule(warehouse, owner, every_minutes=5)
    assert next_sync(changed, at) == at + timedelta(minutes=5)  # beyond Segment's hourly

    advanced = operations.set_schedule(
        warehouse, owner, advanced_enabled=True,
        advanced={"timezone": "Europe/Paris", "times": [{"hourOfDay": 3, "enabled": True},
                                                         {"hourOfDay": 15, "enabled": False}]},
    )  # fmt: skip
    # 10:30 UTC is 11:30 in Paris; the next enabled hour there is 03:00, i.e. 02:00 UTC.
    assert next_sync(advanced, at) == datetime(2026, 12, 5, 2, 0, tzinfo=UTC)
    refused("invalid-schedule", operations.set_schedule, warehouse, owner,
            advanced={"timezone": "Mars/Olympus", "times": []})  # fmt: skip


def test_the_scheduler_starts_due_syncs_once(source, warehouse, owner):
    assert not syncs.due_connections()  # a new warehouse waits for its first scheduled time
    Warehouse.objects.filter(pk=warehouse.pk).update(next_sync_at=timezone.now())

    (due,) = syncs.due_connections()
    sync, new = syncs.start(due)
    assert new and sync.trigger == SyncTrigger.SCHEDULE
    assert syncs.start(due) == (sync, False)  # an unfinished sync is not started twice
    assert not syncs.due_connections()  # its next time moved a day on
    assert Warehouse.objects.get(pk=warehouse.pk).next_sync_at > timezone.now() + timedelta(
        hours=23
    )
    assert Sync.objects.count() == 1


def test_a_disabled_warehouse_does_not_sync(source, warehouse, owner):
    operations.update_warehouse(warehouse, owner, enabled=False)
    Warehouse.objects.filter(pk=warehouse.pk).update(next_sync_at=timezone.now())
    assert not syncs.due_connections()
    refused(
        "warehouse-disabled", operations.sync_now, Warehouse.objects.get(pk=warehouse.pk), owner
    )


def test_the_password_is_encrypted_masked_and_rotated(warehouse, warehouse_db, monkeypatch):
    stored = Warehouse.objects.get(pk=warehouse.pk)
    assert warehouse_db["password"] not in str(stored.settings)
    assert stored.masked_settings()["password"] == "••••••••"
    assert stored.secrets == {"password": warehouse_db["password"]}

    new = Fernet.generate_key().decode()
    monkeypatch.setenv("SEGAPP_ENCRYPTION_KEYS", new)  # the derived key stays after it
    crypto._fernet.cache_clear()
    try:
        out = io.StringIO()
        call_command("rotate_encryption_keys", stdout=out)
        assert "1 warehouses" in out.getvalue()
        sealed = Warehouse.objects.get(pk=warehouse.pk).encrypted_secrets
        assert Fernet(new.encode()).decrypt(sealed.encode())
    finally:
        crypto._fernet.cache_clear()
