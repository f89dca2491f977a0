from django.db import migrations, models


def unlogged(apps, schema_editor):
    """See DeliveryAck: its rows are only worth keeping while the server runs."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE delivery_deliveryack SET UNLOGGED")


class Migration(migrations.Migration):
    dependencies = [
        ("delivery", "0004_ingest_batch_source_received"),
    ]

    operations = [
        migrations.CreateModel(
            name="DeliveryAck",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("job_id", models.BigIntegerField(db_index=True)),
                ("event_id", models.BigIntegerField()),
            ],
        ),
        migrations.RunPython(unlogged, migrations.RunPython.noop),
    ]
