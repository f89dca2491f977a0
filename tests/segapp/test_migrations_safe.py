"""Migrations never rewrite or long-lock the event archive (docs/operations.md, "Migrations that
keep the archive writable").

Web processes keep inserting events while ``migrate`` runs during an upgrade. A statement that
takes an ACCESS EXCLUSIVE lock and then rewrites or scans a table of millions of rows stops the
tracking API for as long as it runs. Every migration's SQL, as ``manage.py sqlmigrate`` prints it
on PostgreSQL, is checked here for such statements on the archive tables.
"""

import io
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from tests.processes import REPO

# Tables that grow with traffic: a row per event, per request or per (request, instance), and the
# per-minute counters. docs/operations.md names the same tables as the event archive.
ARCHIVE_TABLES = {
    "delivery_event",
    "delivery_ingestbatch",
    "delivery_deliveryjob",
    "delivery_seenmessage",
    "delivery_rejectedmessage",
    "delivery_deliverycounter",
    "delivery_ingestcounter",
}

# Migrations that do it anyway, and why that was acceptable when they were written. An entry whose
# migration no longer needs it fails the test, so the list only shrinks.
ALLOWED = {
    ("delivery", "0003_counters_columns_ingest_counters_redeliveries"): (
        "adds the latency histogram's columns to delivery_deliverycounter; each is a "
        "PositiveBigIntegerField whose CHECK (>= 0) is verified by a scan under ACCESS EXCLUSIVE. "
        "It predates the first release (no deployment held counter rows), and the table is "
        "compacted to one row per instance, hour and outcome after two days"
    ),
}

VOLATILE = (
    r"\b(random|clock_timestamp|timeofday|gen_random_uuid|uuid_generate_v[14]\w*|nextval)\s*\("
)

# (pattern on one ALTER TABLE statement, why it locks), matched ignoring case.
ALTER_RULES = [
    (r"\bALTER COLUMN \S+ (SET DATA )?TYPE\b", "ALTER COLUMN TYPE rewrites the table"),
    (r"\bALTER COLUMN \S+ SET NOT NULL\b", "SET NOT NULL scans the whole table under lock"),
    (r"\bADD COLUMN\b.*\bDEFAULT\b.*" + VOLATILE, "a volatile DEFAULT rewrites the table"),
    (r"\bADD COLUMN\b.*\bGENERATED ALWAYS AS\b.*\bSTORED\b", "a stored column rewrites the table"),
    (r"\bADD COLUMN\b.*\b(SERIAL|BIGSERIAL|IDENTITY|PRIMARY KEY)\b", "this column rewrites it"),
    (r"\bADD COLUMN\b.*\b(CHECK|REFERENCES)\b", "a column's constraint scans the table under lock"),
    (r"\bADD COLUMN\b.*\bUNIQUE\b", "a UNIQUE column builds its index under lock"),
    (r"\bSET TABLESPACE\b", "SET TABLESPACE rewrites the table"),
]


def _add_constraint_locks(statement: str) -> str | None:
    if not re.search(r"\bADD CONSTRAINT\b", statement):
        return None
    if re.search(r"\bNOT VALID\b", statement) or re.search(r"\bUSING INDEX\b", statement):
        return None
    return "ADD CONSTRAINT without NOT VALID (or USING INDEX) scans or indexes under lock"


def statements(sql: str) -> list[str]:
    """sqlmigrate's output as single-line statements, comments dropped."""
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return [" ".join(s.split()) for s in re.split(r";\s*$", "\n".join(lines), flags=re.M)]


def locking_statements(sql: str, tables=ARCHIVE_TABLES) -> list[tuple[str, str]]:
    """(statement, why) for each statement of ``sql`` that would rewrite or long-lock one of
    ``tables``. A table created by the same SQL is empty, so anything goes on it."""
    created = set(re.findall(r'CREATE TABLE "?(\w+)"?', sql, re.I))
    guarded = set(tables) - created
    found = []
    for statement in statements(sql):
        upper = statement.upper()
        if match := re.match(r'(CREATE (UNIQUE )?INDEX|REINDEX)\b(.*?)\bON (ONLY )?"?(\w+)', upper):
            if match.group(5).lower() in guarded and "CONCURRENTLY" not in match.group(3):
                found.append((statement, "an index built without CONCURRENTLY blocks writes"))
        elif match := re.match(r'ALTER TABLE (ONLY )?(IF EXISTS )?"?(\w+)"?', upper):
            if match.group(3).lower() not in guarded:
                continue
            reasons = [why for pattern, why in ALTER_RULES if re.search(pattern, upper, re.I)]
            reasons += [why] if (why := _add_constraint_locks(upper)) else []
            found += [(statement, why) for why in reasons]
        elif (match := re.match(r"(CLUSTER|VACUUM FULL|LOCK TABLE|LOCK)\b", upper)) and any(
            f'"{table.upper()}"' in upper for table in guarded
        ):
            found.append((statement, f"{match.group(1)} holds the table's strongest lock"))
    return found


def our_migrations() -> list[tuple[str, str]]:
    ours = {app.label for app in apps.get_app_configs() if REPO in Path(app.path).parents}
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    return sorted(key for key in loader.disk_migrations if key[0] in ours)


def sqlmigrate(app_label: str, name: str) -> str:
    out = io.StringIO()
    call_command("sqlmigrate", app_label, name, stdout=out)
    return out.getvalue()


def test_no_migration_rewrites_or_long_locks_an_archive_table(db):
    assert connection.vendor == "postgresql", "the archive's locks are PostgreSQL's"
    migrations = our_migrations()
    assert ("delivery", "0001_initial") in migrations
    offenders, allowed_but_clean = [], []
    for key in migrations:
        found = locking_statements(sqlmigrate(*key))
        if found and key not in ALLOWED:
            offenders += [f"{key[0]}.{key[1]}: {why}: {statement}" for statement, why in found]
        if not found and key in ALLOWED:
            allowed_but_clean.append(key)
    assert not offenders, "\n".join(offenders)
    assert not allowed_but_clean, f"drop these from ALLOWED: {allowed_but_clean}"


def test_the_allowed_migration_is_allowed_for_its_counter_columns_only(db):
    found = locking_statements(
        sqlmigrate("delivery", "0003_counters_columns_ingest_counters_redeliveries")
    )
    assert {why for _, why in found} == {"a column's constraint scans the table under lock"}
    assert all('"delivery_deliverycounter"' in statement for statement, _ in found)


LOCKING = [
    'CREATE INDEX "event_user" ON "delivery_event" ("user_id");',
    'CREATE UNIQUE INDEX "job_x" ON "delivery_deliveryjob" ("batch_id", "state");',
    'ALTER TABLE "delivery_event" ADD COLUMN "token" uuid DEFAULT gen_random_uuid() NOT NULL;',
    'ALTER TABLE "delivery_event" ADD COLUMN "at" timestamp with time zone '
    "DEFAULT (CLOCK_TIMESTAMP()) NOT NULL;",
    'ALTER TABLE "delivery_event" ALTER COLUMN "type" TYPE varchar(32);',
    'ALTER TABLE "delivery_ingestbatch" ALTER COLUMN "lease_until" SET NOT NULL;',
    'ALTER TABLE "delivery_event" ADD COLUMN "size" integer DEFAULT 0 NOT NULL CHECK ("size" >= 0);',
    'ALTER TABLE "delivery_event" ADD CONSTRAINT "event_type" CHECK ("type" <> \'\');',
    'ALTER TABLE "delivery_deliveryjob" ADD CONSTRAINT "job_fk" FOREIGN KEY ("batch_id") '
    'REFERENCES "delivery_ingestbatch" ("id") DEFERRABLE INITIALLY DEFERRED;',
    'ALTER TABLE "delivery_event" ADD CONSTRAINT "u" UNIQUE ("message_id");',
]

SAFE = [
    'CREATE INDEX CONCURRENTLY "event_user" ON "delivery_event" ("user_id");',
    'ALTER TABLE "delivery_event" ADD COLUMN "note" varchar(20) DEFAULT \'\' NOT NULL;',
    'ALTER TABLE "delivery_event" ALTER COLUMN "note" DROP DEFAULT;',
    # Django's default=timezone.now: one value, computed once (no rewrite since PostgreSQL 11).
    'ALTER TABLE "delivery_event" ADD COLUMN "at" timestamp with time zone '
    "DEFAULT '2026-01-01T00:00:00+00:00'::timestamptz NOT NULL;",
    # db_default=Now(): a stable function, evaluated once.
    'ALTER TABLE "delivery_event" ADD COLUMN "at" timestamp with time zone '
    "DEFAULT (STATEMENT_TIMESTAMP()) NOT NULL;",
    'ALTER TABLE "delivery_event" ADD COLUMN "seen_at" timestamp with time zone NULL;',
    'ALTER TABLE "delivery_event" ADD CONSTRAINT "event_type" CHECK ("type" <> \'\') NOT VALID;',
    'ALTER TABLE "delivery_event" VALIDATE CONSTRAINT "event_type";',
    'ALTER TABLE "delivery_event" ADD CONSTRAINT "u" UNIQUE USING INDEX "event_message_id";',
    'ALTER TABLE "delivery_event" DROP COLUMN "note" CASCADE;',
    'CREATE INDEX "segapp_thing" ON "segapp_auditentry" ("at");',  # not an archive table
    # A table made in the same migration is empty.
    'CREATE TABLE "delivery_event" ("id" bigint NOT NULL);\nCREATE INDEX "e" ON "delivery_event" ("id");',
]


@pytest.mark.parametrize("sql", LOCKING)
def test_a_locking_statement_is_found(sql):
    assert len(locking_statements(sql)) == 1


@pytest.mark.parametrize("sql", SAFE)
def test_a_safe_statement_passes(sql):
    assert locking_statements(sql) == []
