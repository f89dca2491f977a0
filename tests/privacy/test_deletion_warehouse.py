"""Deletion from warehouses (``warehouses.erasure``), against a real second PostgreSQL database: the
users' rows go from every table of the affected sources' schemas, ``users`` and the discards of
their rows included; other users' rows stay. An unreachable warehouse is retried, then its step
fails and the regulation is a partial success."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import DestinationMetadata
from delivery import erasure
from privacy import regulations
from privacy.models import DeletionStep, RegulationStatus
from segapp.models import Plan
from tests.factories import make_source
from tests.privacy.regulation_setup import erase_everywhere, send, track
from warehouses import erasure as warehouse_erasure
from warehouses import operations, syncs
from warehouses.models import Sync, SyncStatus, SyncTrigger, Warehouse
from warehouses.naming import schema_name

pytestmark = pytest.mark.django_db(transaction=True)
S = RegulationStatus
UNREACHABLE = {"hostname": "127.0.0.1", "port": 9, "database": "analytics",
               "username": "loader", "password": "pw", "sslMode": "disable"}  # fmt: skip


@pytest.fixture
def backend(catalog, workspace):
    workspace.plan = Plan.BUSINESS  # several warehouses
    workspace.save(update_fields=["plan"])
    return make_source(workspace, "http-api", name="Backend")


@pytest.fixture
def postgres(catalog):
    return DestinationMetadata.objects.get(slug="postgres")


def add_warehouse(workspace, postgres, settings, *sources, name="Analytics") -> Warehouse:
    warehouse = operations.create_warehouse(workspace, postgres, None, settings=settings, name=name)
    for source in sources:
        operations.connect_source(warehouse, source, None)
    return warehouse


def load(warehouse) -> None:
    for sync, _ in operations.sync_now(warehouse, None):
        while syncs.run(sync.pk):
            pass
        sync.refresh_from_db()
        assert sync.status == SyncStatus.SUCCESS, sync.error


def history(user: str) -> list[dict]:
    return [
        {"type": "identify", "userId": user, "traits": {"email": f"{user}@example.com"},
         "messageId": f"{user}-identify"},
        track(user, 1, event="Order Completed", properties={"total": "lots" if user == "gone"
                                                              else 3}),
        track(user, 2, event="Order Completed", properties={"total": 5}),
        {"type": "page", "userId": user, "name": "Home", "messageId": f"{user}-page"},
    ]  # fmt: skip


def rows_by_user(reader, schema: str) -> dict[str, dict[str, int]]:
    """{table: {user: rows}} of every table with a user_id column, ``users`` by its id."""
    found = {}
    for table in sorted(reader.tables(schema) - {"discards"}):
        key = "id" if table == "users" else "user_id"
        counts = reader.query(f'SELECT {key}, count(*) FROM "{schema}"."{table}" GROUP BY 1')
        found[table] = dict(counts)
    return found


def test_deletes_the_users_rows_from_every_table_and_keeps_the_others(
    workspace, backend, postgres, warehouse_db, reader
):
    warehouse = add_warehouse(workspace, postgres, warehouse_db, backend)
    send(backend, [*history("gone"), *history("kept")])
    load(warehouse)
    schema = schema_name("", backend.slug)
    before = rows_by_user(reader, schema)
    assert before["order_completed"] == {"gone": 2, "kept": 2}
    assert reader.query(f'SELECT id FROM "{schema}".discards') == [("gone-1",)]

    regulation = regulations.create_regulation(
        workspace, None, regulation_type="SUPPRESS_WITH_DELETE", subject_ids=["gone"]
    )
    step = regulation.steps.get(system=f"warehouse:{warehouse.pk}")
    assert (step.label, step.source_ids) == ("Analytics", [backend.pk])
    erase_everywhere()

    after = rows_by_user(reader, schema)
    assert after == {table: {"kept": n["kept"]} for table, n in before.items()}
    assert reader.query(f'SELECT count(*) FROM "{schema}".discards') == [(0,)]
    step.refresh_from_db()
    assert step.status == S.FINISHED
    assert step.deleted == sum(n["gone"] for n in before.values())
    assert step.progress[f"{schema}.users"] == 1
    regulation.refresh_from_db()
    assert regulation.status == S.FINISHED


def test_delete_internal_leaves_warehouses_alone(workspace, backend, postgres, warehouse_db):
    add_warehouse(workspace, postgres, warehouse_db, backend)
    regulation = regulations.create_regulation(
        workspace, None, regulation_type="DELETE_INTERNAL", subject_ids=["gone"]
    )
    assert list(regulation.steps.values_list("system", flat=True)) == ["archive"]


def test_a_source_regulation_plans_only_the_warehouses_of_that_source(
    catalog, workspace, backend, postgres, warehouse_db
):
    site = make_source(workspace, "javascript", name="Site")
    add_warehouse(workspace, postgres, warehouse_db, backend, name="Backend's")
    theirs = add_warehouse(workspace, postgres, warehouse_db, site, name="Site's")
    regulation = regulations.create_regulation(
        workspace, None, regulation_type="DELETE_ONLY", subject_ids=["gone"], source=site
    )
    assert list(regulation.steps.values_list("system", "source_ids")) == [
        ("archive", []),
        (f"warehouse:{theirs.pk}", [site.pk]),
    ]


def test_an_unreachable_warehouse_is_retried_then_fails_and_the_rest_succeeds(
    workspace, backend, postgres, warehouse_db, reader
):
    good = add_warehouse(workspace, postgres, warehouse_db, backend)
    down = add_warehouse(workspace, postgres, UNREACHABLE, backend, name="Down")
    send(backend, history("gone"))
    load(good)
    regulation = regulations.create_regulation(
        workspace, None, regulation_type="DELETE_ONLY", subject_ids=["gone"]
    )
    failing = regulation.steps.get(system=f"warehouse:{down.pk}")

    erase_everywhere()
    failing.refresh_from_db()
    regulation.refresh_from_db()
    assert (failing.status, failing.attempts) == (S.RUNNING, 1)
    assert "127.0.0.1" in failing.error or "refused" in failing.error.lower(), failing.error
    assert failing.next_attempt_at > timezone.now() + timedelta(minutes=4)
    assert regulation.status == S.RUNNING
    assert rows_by_user(reader, schema_name("", backend.slug))["tracks"] == {}

    warehouse_erasure.run()  # not due yet: nothing tried
    assert DeletionStep.objects.get(pk=failing.pk).attempts == 1
    later = timezone.now()
    for _ in range(2):
        later += timedelta(hours=1)
        warehouse_erasure.run(later)

    failing.refresh_from_db()
    regulation.refresh_from_db()
    assert (failing.status, failing.attempts) == (S.FAILED, 3)
    assert failing.error and failing.finished_at
    assert regulation.status == S.PARTIAL_SUCCESS and regulation.finished_at


def test_a_warehouse_step_waits_for_the_archive_and_for_syncs_begun_before(
    workspace, backend, postgres, warehouse_db
):
    warehouse = add_warehouse(workspace, postgres, warehouse_db, backend)
    regulation = regulations.create_regulation(
        workspace, None, regulation_type="DELETE_ONLY", subject_ids=["gone"]
    )
    step = regulation.steps.get(system=f"warehouse:{warehouse.pk}")
    sync = Sync.objects.create(warehouse=warehouse, source=backend, trigger=SyncTrigger.MANUAL)

    warehouse_erasure.run()
    step.refresh_from_db()
    assert step.status == S.INITIALIZED, "the archive still holds the users' events"

    erasure.run()
    warehouse_erasure.run()
    step.refresh_from_db()
    assert step.status == S.INITIALIZED, "a sync that read the archive before may load them"

    Sync.objects.filter(pk=sync.pk).update(status=SyncStatus.SUCCESS)
    warehouse_erasure.run()
    step.refresh_from_db()
    assert step.status == S.FINISHED


def test_a_warehouse_removed_from_segapp_fails_its_step_saying_so(
    workspace, backend, postgres, warehouse_db
):
    warehouse = add_warehouse(workspace, postgres, warehouse_db, backend)
    regulation = regulations.create_regulation(
        workspace, None, regulation_type="DELETE_ONLY", subject_ids=["gone"]
    )
    operations.delete_warehouse(warehouse, None)
    erase_everywhere()
    step = regulation.steps.get(system__startswith="warehouse:")
    assert step.status == S.FAILED and "removed from Segapp" in step.error
    regulation.refresh_from_db()
    assert regulation.status == S.PARTIAL_SUCCESS


def test_a_suppressed_users_new_events_are_never_loaded(
    workspace, backend, postgres, warehouse_db, reader
):
    warehouse = add_warehouse(workspace, postgres, warehouse_db, backend)
    regulations.create_regulation(
        workspace, None, regulation_type="SUPPRESS_ONLY", subject_ids=["gone"]
    )
    send(backend, [*history("gone"), *history("kept")])
    load(warehouse)
    found = rows_by_user(reader, schema_name("", backend.slug))
    assert found["order_completed"] == {"kept": 2} and found["users"] == {"kept": 1}
    assert all("gone" not in users for users in found.values())
