# On PostgreSQL, makes delivery_event, delivery_ingestbatch and delivery_deliveryjob partitioned by
# day of arrival (RANGE of id, delivery/partitions.py) without copying a row or stopping writes for
# longer than a few catalog changes: each table becomes the first partition of a new partitioned
# table of the same name, holding every id below the next day's first. A CHECK constraint
# validated beforehand (which scans, but lets writes go on) spares the attach its own scan, and
# every index of the old table is attached to the new one's instead of being built again.
# The models do not change: ``id`` stays the primary key. SQLite keeps plain tables.

from datetime import UTC, date, datetime

from django.db import migrations

DAY_IDS = 2**32
TABLES = ["delivery_event", "delivery_ingestbatch", "delivery_deliveryjob"]
# A unique index PostgreSQL cannot have on a partitioned table (it lacks the key): it stays on the
# first partition, and delivery/partitions.py makes one on each new partition.
PER_PARTITION = {"one_live_job_per_batch_instance"}


def _boundary() -> int:
    tomorrow = (datetime.now(UTC).date() - date(1970, 1, 1)).days + 1
    return tomorrow * DAY_IDS


def _partition(cursor, table: str, boundary: int) -> None:
    first = f"{table}_first"
    check = f"{table}_first_ids"
    cursor.execute(
        "SELECT count(*) FROM pg_partitioned_table WHERE partrelid = %s::regclass", [table]
    )
    if cursor.fetchone()[0]:
        return
    cursor.execute(
        f'ALTER TABLE "{table}" ADD CONSTRAINT "{check}" CHECK (id < {boundary}) NOT VALID'
    )
    cursor.execute(f'ALTER TABLE "{table}" VALIDATE CONSTRAINT "{check}"')
    cursor.execute("BEGIN")
    cursor.execute(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE')
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname <> %s",
        [table, f"{table}_pkey"],
    )
    indexes = cursor.fetchall()
    cursor.execute(f"SELECT pg_get_serial_sequence('{table}', 'id')")
    sequence = cursor.fetchone()[0]
    cursor.execute(f"SELECT last_value, is_called FROM {sequence}")
    last_value, is_called = cursor.fetchone()
    cursor.execute(f'ALTER TABLE "{table}" RENAME TO "{first}"')
    cursor.execute(f'ALTER TABLE "{first}" RENAME CONSTRAINT "{table}_pkey" TO "{first}_pkey"')
    for name, _ in indexes:
        cursor.execute(f'ALTER INDEX "{name}" RENAME TO "{name[:56]}_first"')
    cursor.execute(f'ALTER TABLE "{first}" ALTER COLUMN id DROP IDENTITY')
    cursor.execute(
        f'CREATE TABLE "{table}" (LIKE "{first}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS'
        " INCLUDING STORAGE) PARTITION BY RANGE (id)"
    )
    cursor.execute(f'ALTER TABLE ONLY "{table}" DROP CONSTRAINT "{check}"')
    cursor.execute(f'CREATE SEQUENCE "{table}_id_seq" OWNED BY "{table}".id')
    cursor.execute(f"SELECT setval('{table}_id_seq', %s, %s)", [last_value, is_called])
    cursor.execute(
        f"""ALTER TABLE "{table}" ALTER COLUMN id SET DEFAULT nextval('{table}_id_seq')"""
    )
    cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{table}_pkey" PRIMARY KEY (id)')
    for name, definition in indexes:
        if name not in PER_PARTITION:
            cursor.execute(definition)  # "CREATE INDEX name ON public.<table> …": the new table
    cursor.execute(
        f'ALTER TABLE "{table}" ATTACH PARTITION "{first}" FOR VALUES FROM (MINVALUE) TO ({boundary})'
    )
    cursor.execute(f'ALTER TABLE "{first}" DROP CONSTRAINT "{check}"')
    cursor.execute("COMMIT")


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    boundary = _boundary()
    with schema_editor.connection.cursor() as cursor:
        for table in TABLES:
            _partition(cursor, table, boundary)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("delivery", "0009_deleted_sources"),
    ]

    # Back to 0009 the tables stay partitioned: the models read and write them the same way.
    operations = [migrations.RunPython(partition, migrations.RunPython.noop)]
