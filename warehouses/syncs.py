"""Running syncs: loading a connected source's new archived events into its warehouse.

A sync takes the source's events above its high-water mark, in id order, a chunk at a time;
each chunk is committed in the warehouse and only then is the mark moved past it. A crash
between the two re-loads the chunk, and the merge on ``id`` skips the rows already there, so
nothing is lost and nothing is loaded twice. A task works for at most ``SYNC_BUDGET`` seconds and
then hands the rest of the sync to a new task, so a big backlog never holds a worker for long;
one warehouse runs one sync at a time, so a slow warehouse holds at most one worker.
"""

import gc
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from datetime import timedelta
from functools import partial

import orjson
import psycopg
from django import db
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from delivery import archive, transformations
from delivery.counters import Tally
from delivery.models import Outcome
from privacy import suppressions
from warehouses import postgres
from warehouses.models import (
    Collection,
    ConnectedSource,
    Sync,
    SyncStatus,
    SyncTrigger,
    Warehouse,
)
from warehouses.naming import schema_name
from warehouses.rows import message_rows
from warehouses.schedule import next_sync

log = logging.getLogger("segapp.warehouses")

CHUNK = 10_000
SYNC_BUDGET = 20.0  # seconds of loading per task


def _lease() -> timedelta:
    return timedelta(seconds=settings.WAREHOUSE_SYNC_LEASE)


def start(connected: ConnectedSource, trigger: str = SyncTrigger.SCHEDULE) -> tuple[Sync, bool]:
    """The source's unfinished sync, or a new one; True when it is new (the caller sends it)."""
    with transaction.atomic():
        ConnectedSource.objects.select_for_update().filter(pk=connected.pk).first()
        running = Sync.objects.filter(
            warehouse_id=connected.warehouse_id,
            source_id=connected.source_id,
            status__in=[SyncStatus.PENDING, SyncStatus.RUNNING],
        ).first()
        if running is not None:
            return running, False
        return (
            Sync.objects.create(
                warehouse_id=connected.warehouse_id, source_id=connected.source_id, trigger=trigger
            ),
            True,
        )


def claim(sync_id: str) -> bool:
    """Takes the sync for this worker: it is unfinished, no worker holds it, and no other sync of
    its warehouse is being loaded."""
    now = timezone.now()
    with transaction.atomic():
        sync = Sync.objects.select_for_update().filter(pk=sync_id).first()
        if sync is None or sync.is_finished or (sync.lease_until and sync.lease_until > now):
            return False
        busy = Sync.objects.filter(
            warehouse_id=sync.warehouse_id, status=SyncStatus.RUNNING, lease_until__gt=now
        ).exclude(pk=sync_id)
        if busy.exists():
            return False
        sync.status = SyncStatus.RUNNING
        sync.started_at = sync.started_at or now
        sync.lease_until = now + _lease()
        sync.save(update_fields=["status", "started_at", "lease_until"])
    return True


def _finish(sync: Sync, status: str, error: str = "", hint: str = "") -> None:
    Sync.objects.filter(pk=sync.pk).update(
        status=status, finished_at=timezone.now(), lease_until=None, error=error, hint=hint
    )


def _selection(connected: ConnectedSource):
    """(tables turned off, {table: columns turned off}) for the source."""
    off_tables, off_columns = set(), {}
    rows = Collection.objects.filter(
        warehouse_id=connected.warehouse_id, source_id=connected.source_id
    ).values_list("name", "enabled", "disabled_columns")
    for name, enabled, disabled in rows:
        if not enabled:
            off_tables.add(name)
        elif disabled:
            off_columns[name] = set(disabled)
    return off_tables, off_columns


def rows_of(payloads, transform, off_tables=frozenset(), off_columns=None, suppressed=None):
    """The warehouse rows of archived payloads, after transformations and selective sync.
    ``suppressed(user_ids)`` names the users among them whose events are kept out (regulations:
    the archive keeps a suppressed user's new events, no destination and no warehouse gets them).
    """
    messages = [orjson.loads(payload) for payload in payloads]
    held = suppressed({_user_id(m) for m in messages}) if suppressed else {}
    rows = []
    for message in messages:
        if held and _user_id(message) in held:
            continue
        for row in message_rows(transform(message)):
            if row.table in off_tables:
                continue
            if off_columns and (dropped := off_columns.get(row.table)):
                row.values = {k: v for k, v in row.values.items() if k not in dropped}
                row.refused = [r for r in row.refused if r[0] not in dropped]
            rows.append(row)
    return rows


def _user_id(message) -> str:
    user_id = message.get("userId") if isinstance(message, dict) else None
    return "" if user_id is None else str(user_id)


@contextmanager
def _cycle_collection_paused():
    """A chunk is a few hundred thousand dicts, lists and tuples that hold no cycles, alive until
    it is loaded: the cyclic collector would go through them again and again and free nothing
    (it took more time than making the rows). Reference counting still frees them."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _record_chunk(sync: Sync, connected: ConnectedSource, events: list, result) -> bool:
    """Moves the mark past a committed chunk and counts it, in the sync and like a delivery (the
    chunk's events, with their latency from receivedAt); False if another worker moved the mark
    first (this one then stops). Counted once: only the worker that moves the mark counts."""
    through = events[-1][0]
    with transaction.atomic():
        moved = ConnectedSource.objects.filter(
            pk=connected.pk, loaded_through=connected.loaded_through
        ).update(loaded_through=through)
        if not moved:
            return False
        connected.loaded_through = through
        now = timezone.now()
        now_s = now.timestamp()
        tally = Tally()
        tally.add(
            connected.warehouse_id,
            now,
            Outcome.DELIVERED,
            latencies_ms=[(now_s - received_s) * 1000 for _, received_s, _ in events],
        )
        tally.flush()
        sync = Sync.objects.select_for_update().get(pk=sync.pk)
        for table, count in result.inserted.items():
            sync.rows_by_table[table] = sync.rows_by_table.get(table, 0) + count
        sync.rows += sum(result.inserted.values())
        sync.discarded += result.discarded
        sync.lease_until = timezone.now() + _lease()
        sync.save(update_fields=["rows_by_table", "rows", "discarded", "lease_until"])
        for table, columns in result.columns.items():
            collection, created = Collection.objects.get_or_create(
                warehouse_id=connected.warehouse_id,
                source_id=connected.source_id,
                name=table,
                defaults={"columns": columns},
            )
            if not created and collection.columns != columns:
                Collection.objects.filter(pk=collection.pk).update(columns=columns)
    return True


def run(sync_id: str) -> bool:
    """Loads as much of the sync as the budget allows; True when more remains (the caller sends
    the task again)."""
    if not claim(sync_id):
        return False
    sync = Sync.objects.select_related("warehouse__metadata", "source").get(pk=sync_id)
    warehouse, source = sync.warehouse, sync.source
    connected = ConnectedSource.objects.filter(warehouse=warehouse, source=source).first()
    if connected is None:
        _finish(sync, SyncStatus.FAILED, "The source was disconnected from the warehouse.")
        return False
    try:
        with postgres.connect(warehouse.all_settings()) as conn, _cycle_collection_paused():
            return _load(sync, connected, conn)
    except postgres.WarehouseError as failed:
        _finish(sync, SyncStatus.FAILED, failed.message, failed.hint)
    except psycopg.Error as error:
        failed = postgres.failure(error)
        _finish(sync, SyncStatus.FAILED, failed.message, failed.hint)
    log.warning("warehouse sync failed", extra={"sync": sync.pk, "warehouse": warehouse.pk})
    return False


def _load(sync: Sync, connected: ConnectedSource, conn) -> bool:
    """The chunks of ``run``, three at a time: while one is written into the warehouse on a
    thread of its own, the next is made into rows, and the one after is read from the archive on
    a third thread. Each stage mostly waits for a database while the others use the CPU, so a
    sync takes about as long as its rows take to make, not the sum of the three. The high-water
    mark still moves one committed chunk at a time, in order."""
    source = sync.source
    upper = archive.stored_through(source.pk)
    transform = transformations.compile(source.transformations.all())
    suppressed = partial(suppressions.suppressed, source.pk)
    off_tables, off_columns = _selection(connected)
    schema = schema_name(sync.warehouse.settings.get("schemaPrefix", ""), source.slug)
    known = postgres.existing_columns(conn, schema)
    conn.commit()
    encode = postgres.copy_encoder(conn)
    deadline = time.monotonic() + SYNC_BUDGET

    def read(after: int) -> list:
        return archive.events_after(source.pk, after, upper, CHUNK)

    def write(load: postgres.ChunkLoad) -> postgres.ChunkResult:
        try:
            result = postgres.write_chunk(conn, schema, load, known)
            conn.commit()
        except psycopg.Error:
            conn.rollback()
            raise
        return result

    with ThreadPoolExecutor(1) as reader, ThreadPoolExecutor(1) as writer:
        try:
            reading = reader.submit(read, connected.loaded_through)
            writing = None  # (events, the future of their chunk's write)
            while True:
                events = reading.result()
                if events:
                    reading = reader.submit(read, events[-1][0])
                    payloads = (p for _, _, p in events)
                    rows = rows_of(payloads, transform, off_tables, off_columns, suppressed)
                    load = postgres.prepare_chunk(rows, known, encode)
                    del rows
                if writing is not None:
                    written, future = writing
                    writing = None
                    if not _record_chunk(sync, connected, written, future.result()):
                        return False
                    if time.monotonic() > deadline:
                        Sync.objects.filter(pk=sync.pk).update(
                            lease_until=None, queued_at=timezone.now()
                        )
                        return True
                if not events:
                    _finish(sync, SyncStatus.SUCCESS)
                    return False
                writing = (events, writer.submit(write, load))
        finally:
            if writing is not None:  # left by an error: let its transaction end before leaving
                with suppress(Exception):
                    writing[1].result()
            reader.submit(db.connection.close)


def stalled(now=None) -> list[str]:
    """Unfinished syncs no worker holds: never started, handed on, or left by a crashed worker."""
    now = now or timezone.now()
    grace = timedelta(seconds=settings.ROUTING_SWEEP_GRACE)
    return list(
        Sync.objects.filter(status__in=[SyncStatus.PENDING, SyncStatus.RUNNING])
        .filter(Q(lease_until__lt=now) | Q(lease_until__isnull=True, queued_at__lt=now - grace))
        .values_list("pk", flat=True)
    )


def requeued(sync_id: str) -> None:
    Sync.objects.filter(pk=sync_id).update(queued_at=timezone.now())


def due_connections(now=None) -> list[ConnectedSource]:
    """Connected sources of enabled warehouses whose scheduled time has come; the warehouses'
    next times are moved on (one caller wins each, as the sweep runs exclusively)."""
    now = now or timezone.now()
    due = []
    warehouses = Warehouse.objects.select_related("workspace").filter(
        enabled=True, next_sync_at__lte=now
    )
    for warehouse in warehouses:
        Warehouse.objects.filter(pk=warehouse.pk).update(next_sync_at=next_sync(warehouse, now))
        due.extend(warehouse.connected_sources.select_related("source"))
    return due


def waiting(warehouse_id: str) -> list[str]:
    """The warehouse's syncs that wait for its running one to end."""
    return list(
        Sync.objects.filter(warehouse_id=warehouse_id, status=SyncStatus.PENDING).values_list(
            "pk", flat=True
        )
    )
