# The archive's tables take writes all the time: on PostgreSQL the index is built CONCURRENTLY
# (outside a transaction), so ingest keeps writing while it builds; SQLite builds it as usual.

from django.db import migrations, models

INDEX = models.Index(fields=["source", "received_at"], name="batch_source_received")


def add_index(apps, schema_editor):
    model = apps.get_model("delivery", "IngestBatch")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            'CREATE INDEX CONCURRENTLY IF NOT EXISTS "batch_source_received" '
            'ON "delivery_ingestbatch" ("source_id", "received_at")'
        )
    else:
        schema_editor.add_index(model, INDEX)


def remove_index(apps, schema_editor):
    schema_editor.execute('DROP INDEX IF EXISTS "batch_source_received"')


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("connections", "0003_settings_versions"),
        ("delivery", "0003_counters_columns_ingest_counters_redeliveries"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="ingestbatch", index=INDEX)],
            database_operations=[migrations.RunPython(add_index, remove_index)],
        ),
    ]
