"""Warehouse loading benchmark: a source's archived events loaded into a PostgreSQL warehouse by
Segapp's sync, against a bare COPY of the same rows into the same database (issue 17: the ratio
should be at least 0.5).

Needs ``DATABASE_URL`` (a scratch PostgreSQL database on 127.0.0.1: it migrates it and adds a
workspace) and ``CELERY_BROKER_URL``; no server or worker is started::

    createdb -h 127.0.0.1 -U postgres segapp_whbench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/segapp_whbench \\
      CELERY_BROKER_URL=redis://127.0.0.1:6379/13 SEGAPP_SECRET_KEY=bench \\
      python bench/warehouse.py [--events 100000] [--profile]

1. Stores ``--events`` calls shaped like analytics.js's (``bench/fixtures/warehouse_messages.json``:
   mostly track events of six names with nested objects and arrays, plus identify, page and group)
   through the real archive path, 100 per request, for a new source.
2. Creates a second database on the same server as the customer's warehouse, connects the source
   and times ``syncs.run`` until the sync is done: reading the archive, making rows, creating
   tables and columns, COPY into staging tables and the merge on ``id``, chunk by chunk.
3. Times the floor: the same tables created beforehand in another schema of that database, and the
   same rows (read back from Segapp's tables, as the text COPY takes) written with psycopg's COPY
   in one transaction, with nothing else.

Rows are the rows in the warehouse afterwards (``users`` holds one per user, however many
identify calls it took). The warehouse database is dropped at the end. With ``--profile`` the
sync runs under cProfile and the functions taking the most time are printed.
"""

import argparse
import contextlib
import cProfile
import os
import pstats
import random
import secrets
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "warehouse_messages.json"
BATCH = 100
USERS = 5_000
BARE_SCHEMA = "bare_copy"


class Messages:
    """Varied copies of the fixture's calls: about 80% track, 8% identify, 8% page, 4% group."""

    def __init__(self, seed: int = 17):
        fixture = orjson.loads(FIXTURE.read_bytes())
        context = fixture["context"]
        self.templates = {
            "track": [orjson.dumps({**t, "type": "track", "context": context}) for t in fixture["track"]],
            "identify": orjson.dumps({**fixture["identify"], "type": "identify", "context": context}),
            "page": orjson.dumps({**fixture["page"], "type": "page", "context": context}),
            "group": orjson.dumps({**fixture["group"], "type": "group", "context": context}),
        }  # fmt: skip
        self.rng = random.Random(seed)

    def make(self, n: int, now: datetime) -> dict:
        rng = self.rng
        draw = rng.random()
        if draw < 0.80:
            message = orjson.loads(rng.choice(self.templates["track"]))
        elif draw < 0.88:
            message = orjson.loads(self.templates["identify"])
        elif draw < 0.96:
            message = orjson.loads(self.templates["page"])
        else:
            message = orjson.loads(self.templates["group"])
        for key in ("properties", "traits"):
            if key in message:
                message[key] = self._vary(message[key], n)
        message["messageId"] = f"ajs-next-{uuid.uuid4().hex}"
        message["anonymousId"] = str(uuid.uuid4())
        if message["type"] == "identify" or rng.random() < 0.7:
            message["userId"] = f"user-{rng.randrange(USERS)}"
        moment = now - timedelta(milliseconds=rng.randrange(50, 5_000))
        message["timestamp"] = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        message["context"]["page"]["search"] = f"?utm_content={n % 97}"
        return message

    def _vary(self, value, n: int):
        rng = self.rng
        if isinstance(value, dict):
            return {
                key: (f"{inner[:12]}{n}" if key.endswith("_id") and isinstance(inner, str)
                      else self._vary(inner, n))
                for key, inner in value.items()
            }  # fmt: skip
        if isinstance(value, list):
            return [self._vary(inner, n) for inner in value]
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, float):
            return round(value * rng.uniform(0.5, 2.0), 2)
        if isinstance(value, int):
            return value + rng.randrange(10)
        return value


def setup():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segapp.settings")
    # The warehouse is a database on 127.0.0.1, which the egress policy refuses unless told.
    os.environ.setdefault("SEGAPP_EGRESS_ALLOW_PRIVATE", "1")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from catalog.models import SourceMetadata
    from connections.sources import create_source
    from segapp.models import User
    from segapp.workspaces import create_workspace

    if connection.vendor != "postgresql":
        raise SystemExit("measure on PostgreSQL: set DATABASE_URL=postgres://…")
    call_command("migrate", verbosity=0)
    if not SourceMetadata.objects.filter(slug="javascript").exists():
        call_command("load_catalog", verbosity=0)
    owner, _ = User.objects.get_or_create(email="bench@segapp.local")
    workspace = create_workspace(owner, f"Warehouse {time.time_ns()}")
    source = create_source(workspace, SourceMetadata.objects.get(slug="javascript"), None)
    return owner, source


def archive(source, events: int) -> dict[str, int]:
    """Stores the events as ``/v1/batch`` does after reading its body; returns counts by type."""
    from django.db import transaction

    from delivery.archive import store_batch
    from delivery.ingest.messages import Accepted, Arrival, prepare

    messages = Messages()
    kinds: dict[str, int] = {}
    for start in range(0, events, BATCH):
        now = datetime.now(UTC)
        arrival = Arrival(received_at=now, ip="203.0.113.7", sent_at=now.isoformat())
        batch = [messages.make(n, now) for n in range(start, min(start + BATCH, events))]
        accepted = [prepare(message, i, arrival) for i, message in enumerate(batch)]
        assert all(isinstance(a, Accepted) for a in accepted)
        with transaction.atomic():
            stored = store_batch(source.pk, now, accepted, [])
        assert stored.event_count == len(batch)
        for message in batch:
            kinds[message["type"]] = kinds.get(message["type"], 0) + 1
    return kinds


def server() -> dict:
    from django.db import connection

    s = connection.settings_dict
    host = s["HOST"] or "127.0.0.1"
    if host not in ("127.0.0.1", "localhost"):
        raise SystemExit("the benchmark only uses a PostgreSQL server on 127.0.0.1")
    return {
        "hostname": "127.0.0.1",
        "port": int(s["PORT"] or 5432),
        "username": s["USER"] or "postgres",
        "password": s["PASSWORD"] or "unused",
    }


def admin(options: dict, dbname: str = "postgres"):
    import psycopg

    return psycopg.connect(
        host=options["hostname"], port=options["port"], user=options["username"],
        password=options["password"], dbname=dbname, autocommit=True,
    )  # fmt: skip


def checkpoint(options: dict) -> None:
    """Each load starts with no dirty pages left by the one before."""
    import psycopg

    with (
        admin(options, options["database"]) as conn,
        contextlib.suppress(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("CHECKPOINT")


def load_with_segapp(owner, source, options: dict, profile: bool) -> float:
    """Seconds for Segapp's sync of the source, from start to its last chunk committed."""
    from catalog.models import DestinationMetadata
    from warehouses import operations, syncs
    from warehouses.models import Sync, SyncStatus, SyncTrigger

    warehouse = operations.create_warehouse(
        source.workspace, DestinationMetadata.objects.get(slug="postgres"), owner,
        settings=options,
    )  # fmt: skip
    connected = operations.connect_source(warehouse, source, owner)
    checkpoint(options)
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    sync, _ = syncs.start(connected, SyncTrigger.MANUAL)
    while syncs.run(sync.pk):
        pass
    if profiler:
        profiler.disable()
    elapsed = time.perf_counter() - started
    sync = Sync.objects.get(pk=sync.pk)
    if sync.status != SyncStatus.SUCCESS:
        raise SystemExit(f"the sync failed: {sync.error} {sync.hint}")
    if profiler:
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(25)
    return elapsed


def warehouse_rows(conn, schema: str) -> dict[str, tuple[list[str], list[tuple]]]:
    """{table: (columns, rows)} as the loader left them, each value as COPY's text (the loader's
    own ``uuid_ts`` and ``loaded_at`` are left to their defaults)."""
    tables = {}
    found = conn.execute(
        "SELECT table_name, array_agg(column_name::text ORDER BY ordinal_position)"
        " FROM information_schema.columns WHERE table_schema = %s GROUP BY table_name",
        [schema],
    ).fetchall()
    for table, columns in found:
        columns = [c for c in columns if c not in ("uuid_ts", "loaded_at")]
        names = ", ".join(f'"{c}"' for c in columns)
        with conn.cursor().copy(
            f'COPY (SELECT {names} FROM "{schema}"."{table}") TO STDOUT'
        ) as copy:
            tables[table] = (columns, list(copy.rows()))
    return tables


def load_with_bare_copy(options: dict, schema: str) -> tuple[float, int]:
    """Seconds to COPY the rows Segapp loaded into identical, already created tables."""
    with admin(options, options["database"]) as conn:
        tables = warehouse_rows(conn, schema)
        conn.execute(f"CREATE SCHEMA {BARE_SCHEMA}")
        for table in tables:
            conn.execute(
                f'CREATE TABLE {BARE_SCHEMA}."{table}" (LIKE "{schema}"."{table}" INCLUDING ALL)'
            )
    checkpoint(options)
    with admin(options, options["database"]) as conn:
        conn.autocommit = False
        started = time.perf_counter()
        for table, (columns, rows) in tables.items():
            names = ", ".join(f'"{c}"' for c in columns)
            with conn.cursor().copy(f'COPY {BARE_SCHEMA}."{table}" ({names}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
        conn.commit()
        elapsed = time.perf_counter() - started
    return elapsed, sum(len(rows) for _, rows in tables.values())


def count_rows(options: dict, schema: str) -> dict[str, int]:
    with admin(options, options["database"]) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", [schema]
        ).fetchall()
        return {
            table: conn.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()[0]
            for (table,) in tables
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--profile", action="store_true", help="profile Segapp's sync")
    args = parser.parse_args()
    owner, source = setup()

    from warehouses.naming import schema_name

    started = time.perf_counter()
    kinds = archive(source, args.events)
    mix = ", ".join(f"{count:,} {kind}" for kind, count in sorted(kinds.items()))
    print(f"{args.events:,} events archived ({mix}) in {time.perf_counter() - started:.0f} s")

    database = f"segapp_whbench_{secrets.token_hex(4)}"
    options = {**server(), "database": database, "sslMode": "disable"}
    with admin(options) as conn:
        conn.execute(f'CREATE DATABASE "{options["database"]}"')
    try:
        schema = schema_name("", source.slug)
        segapp_s = load_with_segapp(owner, source, options, args.profile)
        tables = count_rows(options, schema)
        rows = sum(tables.values())
        bare_s, bare_rows = load_with_bare_copy(options, schema)
        assert bare_rows == rows, (bare_rows, rows)
    finally:
        from django.db import connections

        connections.close_all()
        with admin(options) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{options["database"]}" WITH (FORCE)')

    largest_first = sorted(tables.items(), key=lambda item: -item[1])
    print(
        f"{rows:,} rows in {len(tables)} tables: "
        + ", ".join(f"{t} {n:,}" for t, n in largest_first)
    )
    print(f"{'segapp sync':<12} {rows:>9,} rows {segapp_s:>7.2f} s {rows / segapp_s:>9,.0f} rows/s"
          f" {args.events / segapp_s:>9,.0f} events/s")  # fmt: skip
    print(f"{'bare COPY':<12} {rows:>9,} rows {bare_s:>7.2f} s {rows / bare_s:>9,.0f} rows/s")
    print(f"segapp / bare COPY: {bare_s / segapp_s:.2f} (target ≥ 0.5)")


if __name__ == "__main__":
    main()
