# Delivery jobs take writes all the time: on PostgreSQL the new indexes are built CONCURRENTLY
# (outside a transaction), and the live jobs' new unique index exists before the old one goes, so
# routing stays idempotent throughout; SQLite builds them as usual.

from django.db import migrations, models

REPLAY_INDEX = models.Index(
    fields=["replay_id", "state"], condition=~models.Q(replay_id=""), name="job_replay_state"
)
LIVE_UNIQUE = models.UniqueConstraint(
    fields=["batch", "instance_id"],
    condition=models.Q(replay_id=""),
    name="one_live_job_per_batch_instance",
)
OLD_UNIQUE = models.UniqueConstraint(
    fields=["batch", "instance_id"], name="one_job_per_batch_instance"
)
TABLE = "delivery_deliveryjob"


def forwards(apps, schema_editor):
    model = apps.get_model("delivery", "DeliveryJob")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "job_replay_state" ON "{TABLE}"'
            """ ("replay_id", "state") WHERE NOT ("replay_id" = '')"""
        )
        schema_editor.execute(
            f'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "one_live_job_per_batch_instance"'
            f""" ON "{TABLE}" ("batch_id", "instance_id") WHERE "replay_id" = ''"""
        )
        schema_editor.execute(
            f'ALTER TABLE "{TABLE}" DROP CONSTRAINT IF EXISTS "one_job_per_batch_instance"'
        )
    else:
        schema_editor.add_index(model, REPLAY_INDEX)
        schema_editor.add_constraint(model, LIVE_UNIQUE)
        schema_editor.remove_constraint(model, OLD_UNIQUE)


def backwards(apps, schema_editor):
    model = apps.get_model("delivery", "DeliveryJob")
    schema_editor.add_constraint(model, OLD_UNIQUE)
    schema_editor.remove_constraint(model, LIVE_UNIQUE)
    schema_editor.remove_index(model, REPLAY_INDEX)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("delivery", "0007_replays"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveConstraint(
                    model_name="deliveryjob", name="one_job_per_batch_instance"
                ),
                migrations.AddIndex(model_name="deliveryjob", index=REPLAY_INDEX),
                migrations.AddConstraint(model_name="deliveryjob", constraint=LIVE_UNIQUE),
            ],
            database_operations=[migrations.RunPython(forwards, backwards)],
        ),
    ]
