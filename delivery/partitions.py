"""The event archive's big tables, partitioned by day of arrival on PostgreSQL (SQLite keeps one
table of each).

``delivery_event``, ``delivery_ingestbatch`` and ``delivery_deliveryjob`` are partitioned by
RANGE of ``id``, one partition per UTC day: day ``n`` (days since 1970-01-01) holds ids
``[n * DAY_IDS, (n + 1) * DAY_IDS)``. Ids only grow, so the partitions are days of arrival: at the
start of each day ``prepare`` moves each table's sequence up to that day's first id, and from then
on every new row lands in the day's partition. Partitioning on the id, not on ``received_at``,
keeps ``id`` the primary key: every lookup by id reads one partition, and nothing else in the code
or the schema changes. ``prepare`` also creates the next days' partitions ahead of time, and
``drop_older_than`` drops whole partitions whose newest row is older than what anyone keeps.

Migration 0010 turned the tables that existed before into the first partition of each (all ids up
to the day after the migration), without copying a row.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import connection

DAY_IDS = 2**32  # ids a day may hold: about 50,000 a second, all day
AHEAD_DAYS = 3
EPOCH = date(1970, 1, 1)

# Each table, and the column that says when its rows arrived.
ARRIVAL = {
    "delivery_event": "received_at",
    "delivery_ingestbatch": "received_at",
    "delivery_deliveryjob": "created_at",
}
# Per partition: PostgreSQL cannot have a unique index on a partitioned table without its key.
_PER_PARTITION = {
    "delivery_deliveryjob": [
        'CREATE UNIQUE INDEX IF NOT EXISTS "{partition}_live_job" ON "{partition}"'
        """ ("batch_id", "instance_id") WHERE "replay_id" = ''"""
    ]
}


@dataclass(frozen=True)
class Partition:
    table: str
    name: str
    low: int | None  # None: from the lowest id (the partition made of the original table)
    high: int


def is_partitioned() -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_partitioned_table WHERE partrelid = %s::regclass",
            ["delivery_event"],
        )
        return cursor.fetchone()[0] == 1


def day_number(moment: datetime) -> int:
    return (moment.astimezone(UTC).date() - EPOCH).days


def prepare(now: datetime) -> list[str]:
    """Creates today's and the next days' partitions if missing, and moves each sequence up to
    today's first id; returns the partitions it created. Safe to run any time, by any process."""
    if not is_partitioned():
        return []
    today = day_number(now)
    created = []
    with connection.cursor() as cursor:
        for table in ARRIVAL:
            for day in range(today, today + AHEAD_DAYS + 1):
                name = f"{table}_d{EPOCH + timedelta(days=day):%Y%m%d}"
                low, high = day * DAY_IDS, (day + 1) * DAY_IDS
                if _covered(cursor, table, low):
                    continue
                cursor.execute(
                    f'CREATE TABLE IF NOT EXISTS "{name}" PARTITION OF "{table}"'
                    f" FOR VALUES FROM ({low}) TO ({high})"
                )
                for statement in _PER_PARTITION.get(table, []):
                    cursor.execute(statement.format(partition=name))
                created.append(name)
            # Only ever up: a sequence already past today's first id stays where it is.
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, false)"
                " WHERE (SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END"
                f" FROM {table}_id_seq) < %s",
                [table, today * DAY_IDS, today * DAY_IDS],
            )
    return created


def _covered(cursor, table: str, id_: int) -> bool:
    """Whether a partition of ``table`` already holds ``id_`` (the first partition may reach
    past the day it was made in)."""
    return any(p.high > id_ and (p.low is None or p.low <= id_) for p in partitions(table, cursor))


def partitions(table: str, cursor=None) -> list[Partition]:
    """The table's partitions, lowest ids first."""
    own = cursor is None
    cursor = cursor or connection.cursor()
    try:
        cursor.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i"
            " JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
            [table],
        )
        found = [_bounds(table, name, bound) for name, bound in cursor.fetchall()]
    finally:
        if own:
            cursor.close()
    return sorted(found, key=lambda p: -1 if p.low is None else p.low)


def _bounds(table: str, name: str, bound: str) -> Partition:
    # "FOR VALUES FROM (MINVALUE) TO ('4294967296')" or FROM ('…') TO ('…')
    low_text, high_text = (part.split(")")[0].strip("('") for part in bound.split("(")[1:3])
    low = None if low_text.upper() == "MINVALUE" else int(low_text)
    return Partition(table, name, low, int(high_text))


def drop_older_than(horizon: datetime) -> list[str]:
    """Drops every partition all of whose rows arrived before ``horizon`` (by its newest row),
    except those the sequence has not left yet; returns their names. A partition is detached
    CONCURRENTLY first, so writes to the table never wait for the drop."""
    if not is_partitioned():
        return []
    dropped = []
    with connection.cursor() as cursor:
        for table, arrival in ARRIVAL.items():
            cursor.execute(f"SELECT last_value FROM {table}_id_seq")
            current = cursor.fetchone()[0]
            for partition in partitions(table, cursor):
                if partition.high > current:
                    break  # the partition in use, and those ahead of it
                cursor.execute(f'SELECT {arrival} FROM "{partition.name}" ORDER BY id DESC LIMIT 1')
                newest = cursor.fetchone()
                if newest is not None and newest[0] >= horizon:
                    break  # later partitions are newer still
                cursor.execute(
                    f'ALTER TABLE "{table}" DETACH PARTITION "{partition.name}" CONCURRENTLY'
                )
                cursor.execute(f'DROP TABLE "{partition.name}"')
                dropped.append(partition.name)
    return dropped
