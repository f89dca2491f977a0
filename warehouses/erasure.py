"""Carrying out regulations' warehouse steps: deleting end users' rows from the customers'
warehouses, as Segment does "using a DML run against your cluster or instance"
(https://segment.com/docs/privacy/user-deletion-and-suppression/).

``plan`` is registered with ``privacy.regulations`` (``WarehousesConfig.ready``), so privacy never
imports this app: a regulation that deletes downstream gets one step per warehouse holding data
of its sources (connected now, or loaded before). ``run`` carries the steps out. In each source's
schema every table with a ``user_id`` column loses the users' rows, ``users`` the rows keyed by
their ``id``, and ``discards`` the values refused from those rows; each table's delete commits
on its own and is recorded on the step, so a retry resumes after the tables already done. A
warehouse that cannot be reached is tried ``ATTEMPTS`` times, further apart each time, then its
step fails (and its regulation is PARTIAL_SUCCESS or FAILED).

A step waits for its regulation's archive step, and for the warehouse's syncs begun before that
ended: a sync that read the users' events before the archive lost them would load them again.
"""

import logging
import time
from collections import defaultdict
from datetime import datetime, timedelta

import psycopg
from django.db.models import Q
from django.utils import timezone
from psycopg import sql

from connections.models import Source
from privacy import regulations
from privacy.models import DeletionStep, Regulation, RegulationStatus
from warehouses import postgres
from warehouses.models import Collection, ConnectedSource, Sync, SyncStatus, Warehouse
from warehouses.naming import schema_name

log = logging.getLogger("segapp.warehouses")

SYSTEM = "warehouse:"
ATTEMPTS = 3
RETRY_AFTER = timedelta(minutes=5)  # doubled after each failed attempt
BUDGET = 60.0  # seconds: no step starts after this in one sweep run
# A sync that has not ended this long after the archive step is not waited for any more.
SYNC_WAIT = timedelta(hours=1)
UNFINISHED_SYNC = [SyncStatus.PENDING, SyncStatus.RUNNING]


def plan(regulation: Regulation, source_ids: list[str]) -> list[DeletionStep]:
    """One unsaved step per warehouse holding data of any of ``source_ids``."""
    held: dict[str, set[str]] = defaultdict(set)
    for model in (ConnectedSource, Collection):
        pairs = model.objects.filter(source_id__in=source_ids).values_list("warehouse", "source")
        for warehouse_id, source_id in pairs.distinct():
            held[warehouse_id].add(source_id)
    warehouses = Warehouse.objects.filter(pk__in=held).select_related("metadata").order_by("pk")
    return [
        DeletionStep(
            regulation=regulation,
            system=f"{SYSTEM}{warehouse.pk}",
            label=warehouse.display_name,
            source_ids=sorted(held[warehouse.pk]),
        )
        for warehouse in warehouses
    ]


def run(now: datetime | None = None, budget: float = BUDGET) -> dict:
    """Works on the warehouse steps that are due and no longer wait for the archive."""
    now = now or timezone.now()
    deadline = time.monotonic() + budget
    due = regulations.open_steps(SYSTEM).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    done = 0
    for step in due:
        if time.monotonic() > deadline:
            break
        if not _waits(step, now):
            erase(step, now)
            done += 1
    return {"warehouse_steps": done}


def _waits(step: DeletionStep, now: datetime) -> bool:
    archive = DeletionStep.objects.filter(
        regulation_id=step.regulation_id, system=regulations.ARCHIVE
    ).first()
    if archive is None:
        return False
    if archive.finished_at is None:
        return True
    if now - archive.finished_at > SYNC_WAIT:
        return False
    return Sync.objects.filter(
        warehouse_id=step.system.removeprefix(SYSTEM),
        status__in=UNFINISHED_SYNC,
        created_at__lt=archive.finished_at,
    ).exists()


def erase(step: DeletionStep, now: datetime) -> None:
    warehouse = Warehouse.objects.filter(pk=step.system.removeprefix(SYSTEM)).first()
    if warehouse is None:
        regulations.end_step(
            step,
            RegulationStatus.FAILED,
            "The warehouse was removed from Segapp before its rows were "
            "deleted: delete the users' rows there directly.",
        )
        return
    if not regulations.start_step(step):
        return  # withdrawn
    subjects = step.regulation.subject_ids
    prefix = warehouse.settings.get("schemaPrefix", "")
    sources = Source.objects.filter(pk__in=step.source_ids).order_by("pk")
    try:
        with postgres.connect(warehouse.all_settings()) as conn:
            for source in sources:
                _erase_schema(conn, step, schema_name(prefix, source.slug), subjects)
    except postgres.WarehouseError as failed:
        _failed(step, failed, now)
        return
    except psycopg.Error as error:
        _failed(step, postgres.failure(error), now)
        return
    regulations.end_step(step, RegulationStatus.FINISHED)


def _erase_schema(conn, step: DeletionStep, schema: str, subjects: list[str]) -> None:
    """Deletes the users' rows from each table of one schema, one committed table at a time."""
    columns = defaultdict(set)
    for table, column in conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = %s AND column_name IN ('id', 'user_id')",
        [schema],
    ):
        columns[table].add(column)
    conn.commit()
    has_discards = postgres.DISCARDS in columns
    for table in sorted(columns):
        key = "id" if table == "users" else "user_id"
        done = f"{schema}.{table}"
        if table == postgres.DISCARDS or key not in columns[table] or done in step.progress:
            continue
        target = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
        if has_discards:  # the values refused from the rows about to go
            conn.execute(
                sql.SQL(
                    "DELETE FROM {}.{} WHERE table_name = %s AND id IN"
                    " (SELECT id FROM {} WHERE {} = ANY(%s))"
                ).format(
                    sql.Identifier(schema),
                    sql.Identifier(postgres.DISCARDS),
                    target,
                    sql.Identifier(key),
                ),
                [table, subjects],
            )
        deleted = conn.execute(
            sql.SQL("DELETE FROM {} WHERE {} = ANY(%s)").format(target, sql.Identifier(key)),
            [subjects],
        ).rowcount
        conn.commit()
        regulations.record_progress(step, deleted, {**step.progress, done: deleted})


def _failed(step: DeletionStep, failed: postgres.WarehouseError, now: datetime) -> None:
    error = f"{failed.message} {failed.hint}".strip()
    log.warning("warehouse deletion failed", extra={"step": step.pk, "error": error})
    if step.attempts + 1 >= ATTEMPTS:
        regulations.end_step(step, RegulationStatus.FAILED, error, attempted=True)
    else:
        regulations.retry_step(step, error, now + RETRY_AFTER * 2**step.attempts)
