# Delivery jobs take writes all the time: on PostgreSQL the index is built CONCURRENTLY (outside a
# transaction), so routing and sending go on while it builds; SQLite builds it as usual.

from django.db import migrations, models

INDEX = models.Index(
    fields=["instance_id", "lease_until"],
    condition=models.Q(lease_until__isnull=False),
    name="job_instance_leased",
)


def add_index(apps, schema_editor):
    model = apps.get_model("delivery", "DeliveryJob")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            'CREATE INDEX CONCURRENTLY IF NOT EXISTS "job_instance_leased" ON'
            ' "delivery_deliveryjob" ("instance_id", "lease_until") WHERE "lease_until" IS NOT NULL'
        )
    else:
        schema_editor.add_index(model, INDEX)


def remove_index(apps, schema_editor):
    schema_editor.execute('DROP INDEX IF EXISTS "job_instance_leased"')


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("delivery", "0005_job_progress_and_slots"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="deliveryjob", index=INDEX)],
            database_operations=[migrations.RunPython(add_index, remove_index)],
        ),
    ]
