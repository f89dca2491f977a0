"""Writing the event archive: one request's messages in one transaction, a few statements whatever
their number (DESIGN §4.1: row counts are the cost model).

The SQL is written by hand because it is the hot path: an ORM ``bulk_create`` builds a model
instance per message and cannot say which rows ``ON CONFLICT`` skipped. PostgreSQL (production)
gets statements whose text does not grow with the batch, and COPY; SQLite (the embedded default,
3.35+ for RETURNING) gets plain multi-row VALUES. Both paths are tested: the suite runs on
PostgreSQL, ``tests/delivery/test_embedded_default.py`` on SQLite.
"""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson
from django.db import connection, transaction

from delivery.counters import count_ingest
from delivery.ingest.messages import Accepted, Rejected, iso
from delivery.models import Event, IngestBatch, RejectedMessage, SeenMessage

DEDUPE_WINDOW = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class StoredBatch:
    batch_id: int | None
    event_count: int
    duplicate_count: int

    @property
    def needs_routing(self) -> bool:
        return self.event_count > 0


def _columns(model, names: list[str]) -> tuple[str, str]:
    meta = model._meta
    return meta.db_table, ", ".join(meta.get_field(name).column for name in names)


_SEEN_TABLE, _SEEN_COLUMNS = _columns(SeenMessage, ["source", "message_id", "received_at"])
_EVENT_FIELDS = [
    "source",
    "batch",
    "message_id",
    "type",
    "event_name",
    "user_id",
    "anonymous_id",
    "timestamp",
    "received_at",
    "payload",
]
_EVENT_TABLE, _EVENT_COLUMNS = _columns(Event, _EVENT_FIELDS)
_BATCH_FIELDS = [
    "source",
    "received_at",
    "event_count",
    "duplicate_count",
    "rejected_count",
    "queued_at",
    "routed_at",
]
_BATCH_TABLE, _BATCH_COLUMNS = _columns(IngestBatch, _BATCH_FIELDS)
_INSERT_BATCH = (
    f"INSERT INTO {_BATCH_TABLE} ({_BATCH_COLUMNS}) VALUES ({', '.join(['%s'] * len(_BATCH_FIELDS))})"
    " RETURNING id"
)
# The archive barrier (``stored_through``): every PostgreSQL transaction that stores events holds
# its source's lock shared, taken in the batch INSERT before any event id is drawn.
_BARRIER_CLASS = 0x5E6A
_BARRIER_KEY = f"{_BARRIER_CLASS}, hashtext(%s)"
_INSERT_BATCH_BEHIND_BARRIER = (
    f"INSERT INTO {_BATCH_TABLE} ({_BATCH_COLUMNS})"
    f" SELECT {', '.join(['%s'] * len(_BATCH_FIELDS))}"
    f" FROM (SELECT pg_advisory_xact_lock_shared({_BARRIER_KEY})) AS barrier RETURNING id"
)


def store_batch(
    source_id: str, received_at: datetime, accepted: list[Accepted], rejected: list[Rejected]
) -> StoredBatch:
    """Stores the new messages of one request, the batch row routing works from, and the
    rejections. Call it inside ``transaction.atomic()``: the request answers 200 only after commit.
    """
    if not accepted and not rejected:
        return StoredBatch(None, 0, 0)
    fresh = claim_message_ids(source_id, accepted, received_at)
    return write_batch(source_id, received_at, fresh, len(accepted) - len(fresh), rejected)


def write_batch(
    source_id: str,
    received_at: datetime,
    fresh: list[Accepted],
    duplicate_count: int,
    rejected: list[Rejected],
) -> StoredBatch:
    """The batch row, its events and its rejections, once ``claim_message_ids`` has said which
    messages are new."""
    when = connection.ops.adapt_datetimefield_value(received_at)
    params = [
        source_id,
        when,
        len(fresh),
        duplicate_count,
        len(rejected),
        when,
        # Nothing stored, nothing to route: the batch is only a record of the request.
        None if fresh else when,
    ]
    sql = _INSERT_BATCH
    if connection.vendor == "postgresql":
        sql, params = _INSERT_BATCH_BEHIND_BARRIER, [*params, source_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        batch_id = cursor.fetchone()[0]
    if fresh:
        _insert_events(source_id, batch_id, received_at, fresh)
    else:
        # Routing counts the batches it routes; this one it never sees.
        count_ingest(source_id, received_at, 0, len(rejected), duplicate_count)
    if rejected:
        RejectedMessage.objects.bulk_create(
            RejectedMessage(
                source_id=source_id,
                batch_id=batch_id,
                received_at=received_at,
                code=r.code,
                reason=r.reason,
                message_id=r.message_id,
                type=r.type,
                payload=r.payload,
            )
            for r in rejected
        )
    return StoredBatch(batch_id, len(fresh), duplicate_count)


def claim_message_ids(
    source_id: str, accepted: list[Accepted], received_at: datetime
) -> list[Accepted]:
    """The messages whose messageId this source has not sent in the last 24 hours.

    One INSERT … ON CONFLICT: a row inserted, or an expired row renewed, is a message seen for the
    first time. Two requests racing with the same id meet at the unique key: PostgreSQL makes the
    second wait for the first to commit and then skip the row, so exactly one of them stores it.
    Rows go in sorted by id so that requests sharing several ids lock them in the same order
    (otherwise two such requests can deadlock).
    """
    if not accepted:
        return []
    first = {}
    for message in accepted:
        first.setdefault(message.message_id, message)  # a repeat inside the request is a duplicate
    ops = connection.ops
    when = ops.adapt_datetimefield_value(received_at)
    cutoff = ops.adapt_datetimefield_value(received_at - DEDUPE_WINDOW)
    conflict = (
        " ON CONFLICT (source_id, message_id) DO UPDATE SET received_at = excluded.received_at"
        f" WHERE {_SEEN_TABLE}.received_at < %s RETURNING message_id"
    )
    if connection.vendor == "postgresql":
        # The ids travel as one JSON text parameter: the statement's text stays the same whatever
        # the batch size (psycopg would otherwise re-split a 300-placeholder query per request),
        # and one string is quoted much faster than a 100-element array.
        sql = (
            f"INSERT INTO {_SEEN_TABLE} ({_SEEN_COLUMNS}) SELECT %s, m, %s"
            " FROM jsonb_array_elements_text(%s::jsonb) AS m ORDER BY m" + conflict
        )
        params = [source_id, when, orjson.dumps(list(first)).decode(), cutoff]
    else:
        ids = sorted(first)
        sql = (
            f"INSERT INTO {_SEEN_TABLE} ({_SEEN_COLUMNS}) VALUES "
            + ", ".join(["(%s, %s, %s)"] * len(ids))
            + conflict
        )
        params = [value for message_id in ids for value in (source_id, message_id, when)]
        params.append(cutoff)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fresh_ids = {row[0] for row in cursor.fetchall()}
    return [message for message_id, message in first.items() if message_id in fresh_ids]


def _insert_events(source_id: str, batch_id: int, received_at: datetime, fresh: list[Accepted]):
    """All the request's events in one statement: COPY on PostgreSQL, a multi-row INSERT else."""
    if connection.vendor == "postgresql":
        # Timestamps as the ISO text already made for the payload: psycopg formats a string for
        # COPY in a fraction of the time it takes to format a datetime.
        received_at_text = iso(received_at)
        rows = [
            (source_id, batch_id, m.message_id, m.type, m.event_name, m.user_id,
             m.anonymous_id, m.timestamp_text, received_at_text, m.payload)
            for m in fresh
        ]  # fmt: skip
        _copy(f"COPY {_EVENT_TABLE} ({_EVENT_COLUMNS}) FROM STDIN", rows)
        return
    adapt = connection.ops.adapt_datetimefield_value
    when = adapt(received_at)
    params = []
    for m in fresh:
        params += (source_id, batch_id, m.message_id, m.type, m.event_name, m.user_id,
                   m.anonymous_id, adapt(m.timestamp), when, m.payload)  # fmt: skip
    row = "(" + ", ".join(["%s"] * len(_EVENT_FIELDS)) + ")"
    sql = f"INSERT INTO {_EVENT_TABLE} ({_EVENT_COLUMNS}) VALUES " + ", ".join([row] * len(fresh))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _copy(sql: str, rows: list[tuple]) -> None:
    """psycopg's COPY, the fastest way in; recorded like any query when Django logs queries, so
    query-count tests and debugging tools still see it."""
    started = time.monotonic()
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)
    if connection.queries_logged:
        duration = time.monotonic() - started
        connection.queries_log.append(
            {"sql": f"{sql} -- {len(rows)} rows", "time": f"{duration:.3f}"}
        )


def prune_seen_messages(now: datetime) -> int:
    """Forgets message ids older than the dedupe window (``claim_message_ids`` already ignores
    them; this only keeps the table at one day)."""
    deleted, _ = SeenMessage.objects.filter(received_at__lt=now - DEDUPE_WINDOW).delete()
    return deleted


def stored_through(source_id: str) -> int:
    """The highest event id of the source below which every event is committed: a reader that
    takes events up to it, in id order, never passes one that commits later.

    Event ids are drawn in one order and committed in another, so the highest id visible now can
    be above an id whose transaction has not committed yet. On PostgreSQL this waits (for a few
    milliseconds, the length of an ingest transaction) until the source's storing transactions
    in flight have ended, holding new ones back meanwhile; SQLite has one writer at a time, and
    a writer draws ids above every committed one.
    """
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            return _highest_event_id(cursor, source_id)
        # A session lock, released at once: it must not last as long as a caller's transaction.
        cursor.execute(f"SELECT pg_advisory_lock({_BARRIER_KEY})", [source_id])
        try:
            return _highest_event_id(cursor, source_id)
        finally:
            cursor.execute(f"SELECT pg_advisory_unlock({_BARRIER_KEY})", [source_id])


def _highest_event_id(cursor, source_id: str) -> int:
    cursor.execute(f"SELECT max(id) FROM {_EVENT_TABLE} WHERE source_id = %s", [source_id])
    return cursor.fetchone()[0] or 0


def events_after(
    source_id: str, after: int, through: int, limit: int
) -> list[tuple[int, float, str]]:
    """(id, received_at in seconds since the epoch, payload) of the source's next ``limit`` events
    above ``after`` and up to ``through``, in id order: a reader's next chunk (a warehouse sync's).
    The time comes as a number because a reader only measures with it, and a chunk is thousands
    of events: turning each into a datetime costs more than reading it.

    The (source, id) index already holds them in order, so PostgreSQL is kept to walking it and
    stopping at ``limit``. Left to its estimates it may instead gather every event of the source
    above ``after`` and sort them all for each chunk (statistics lag behind a bulk of new rows),
    which costs a second per chunk on a backlog of a hundred thousand.
    """
    postgresql = connection.vendor == "postgresql"
    epoch = (
        "EXTRACT(EPOCH FROM received_at)::float8"
        if postgresql
        else "(julianday(received_at) - 2440587.5) * 86400.0"
    )
    sql = (
        f"SELECT id, {epoch}, payload FROM {_EVENT_TABLE}"
        " WHERE source_id = %s AND id > %s AND id <= %s"
        " ORDER BY id LIMIT %s"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        if postgresql:
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(sql, [source_id, after, through, limit])
        return cursor.fetchall()
