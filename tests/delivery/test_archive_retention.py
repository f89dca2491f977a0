"""The archive at scale: daily partitions on PostgreSQL dropped whole by retention, shorter
retentions and SQLite deleting rows in small batches, deleted sources leaving nothing, and the
migration that partitions an existing archive without losing an event."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from connections.instances import set_enabled
from connections.sources import delete_source
from delivery import partitions, replays, retention
from delivery.models import (
    DeletedSource,
    DeliveryCounter,
    DeliveryJob,
    Event,
    IngestBatch,
    IngestCounter,
)
from tests.delivery.replay_archive import archive_days
from tests.factories import make_instance, make_source
from tests.processes import REPO, test_database_url

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def source(business_website):
    return business_website


def partition_of(event_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM delivery_event WHERE id = %s", [event_id]
        )
        return cursor.fetchone()[0]


def day_events(day) -> list[int]:
    return list(Event.objects.filter(batch_id__in=day.batch_ids).values_list("pk", flat=True))


def test_each_day_lands_in_its_partition_and_retention_drops_whole_old_days(source):
    now = timezone.now()
    days = []
    for k in (1, 2, 3):  # three days ahead of now, each opened by the scheduler
        partitions.prepare(now + timedelta(days=k))
        days += archive_days(source, per_day=20, days=1, until=now + timedelta(days=k + 1))
    names = [{partition_of(e) for e in day_events(day)} for day in days]
    assert names == [{f"delivery_event_d{d.start:%Y%m%d}"} for d in days]

    later = days[2].start + timedelta(days=30)  # the first two days are past 30 days' retention
    removed = retention.run(later)

    dropped = set(removed["partitions_dropped"])
    assert {f"delivery_event_d{d.start:%Y%m%d}" for d in days[:2]} <= dropped
    assert {f"delivery_ingestbatch_d{d.start:%Y%m%d}" for d in days[:2]} <= dropped
    assert not day_events(days[0]) and not day_events(days[1])
    assert len(day_events(days[2])) == 20
    assert not IngestBatch.objects.filter(pk__in=days[0].batch_ids).exists()
    # Replay then offers only what is kept.
    instance = set_enabled(make_instance(source, "webhooks", name="New",
                           settings={"webhookUrls": ["http://127.0.0.1:9/"]}), True, None)  # fmt: skip
    refused = replays.refuse(instance, days[0].start, days[2].end, now=later)
    assert (refused.rule, refused.field) == ("replay-range", "startTime")
    kept = retention.kept_from(source.workspace, later)
    assert replays.refuse(instance, kept, days[2].end, now=later) is None
    assert replays.matching_events(source.pk, kept, days[2].end).count() == 20


def test_a_workspace_keeping_less_has_its_older_rows_deleted(source):
    source.workspace.retention_days = 7
    source.workspace.save(update_fields=["retention_days"])
    now = timezone.now()
    old = archive_days(source, per_day=30, days=1, until=now - timedelta(days=9), per_batch=7)[0]
    recent = archive_days(source, per_day=30, days=1, until=now - timedelta(days=2))[0]
    removed = retention.run(now)
    assert removed["batches_deleted"] == len(old.batch_ids) == 5
    assert not day_events(old) and len(day_events(recent)) == 30
    assert IngestBatch.objects.filter(source=source).count() == len(recent.batch_ids)


def test_deleting_a_source_leaves_no_rows_after_the_next_run(source, sink):
    instance = set_enabled(make_instance(source, "webhooks", name="Hook",
                           settings={"webhookUrls": [f"{sink.url}/hook"]}), True, None)  # fmt: skip
    days = archive_days(source, per_day=25, days=2, until=timezone.now())
    assert DeliveryJob.objects.filter(instance_id=instance.pk).exists()
    assert IngestCounter.objects.filter(source_id=source.pk).exists()
    other = make_source(source.workspace, "javascript", name="Other")
    kept = archive_days(other, per_day=5, days=1, until=timezone.now())[0]

    source_id, instance_id = source.pk, instance.pk
    delete_source(source, None)
    assert DeletedSource.objects.filter(source_id=source_id).exists()
    assert not DeliveryCounter.objects.filter(instance_id=instance_id).exists()
    retention.run(timezone.now())

    for model in (Event, IngestBatch, DeliveryJob, IngestCounter):
        assert not model.objects.filter(source_id=source_id).exists(), model.__name__
    assert not DeletedSource.objects.exists()
    assert len(day_events(kept)) == 5 and days


def test_deleting_a_workspace_leaves_no_rows_after_the_next_run(source):
    archive_days(source, per_day=10, days=1, until=timezone.now())
    source_id = source.pk
    source.workspace.delete()
    retention.run(timezone.now())
    assert not Event.objects.filter(source_id=source_id).exists()
    assert not IngestBatch.objects.filter(source_id=source_id).exists()


def manage(env: dict, *args: str) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


ARCHIVE = """
from datetime import timedelta
from django.utils import timezone
from catalog.models import SourceMetadata
from connections.sources import create_source
from segapp.models import User
from segapp.workspaces import create_workspace
from tests.delivery.replay_archive import archive_days
owner, _ = User.objects.get_or_create(email="owner@example.com")
workspace = create_workspace(owner, "Acme {tag}")
source = create_source(workspace, SourceMetadata.objects.get(slug="javascript"), None)
archive_days(source, per_day=150, days=2, until=timezone.now() - timedelta(days={ago}))
"""
COUNT = (
    "from delivery.models import Event, IngestBatch; "
    "print(Event.objects.count(), IngestBatch.objects.count(), "
    "Event.objects.order_by('-pk').values_list('pk', flat=True).first())"
)


def scratch_database(name: str) -> str:
    url = test_database_url().rsplit("/", 1)[0] + "/" + name
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    return url


def test_the_migration_partitions_an_existing_archive_without_losing_an_event(tmp_path):
    name = f"{connection.settings_dict['NAME']}_partition"
    env = {**os.environ, "DATABASE_URL": scratch_database(name), "SEGAPP_VAR_DIR": str(tmp_path)}
    try:
        for app in ("catalog", "segapp", "connections"):  # the catalog first: it loads it
            manage(env, "migrate", app, "-v0")
        manage(env, "migrate", "delivery", "0009", "-v0")
        manage(env, "shell", "-c", ARCHIVE.format(tag=1, ago=1))
        before = manage(env, "shell", "-c", COUNT).split()
        assert before[:2] == ["300", "16"]  # 150 events a day, 20 a request
        manage(env, "migrate", "-v0")
        assert manage(env, "shell", "-c", COUNT).split() == before
        check = "from delivery import partitions; print(partitions.is_partitioned())"
        assert manage(env, "shell", "-c", check).strip() == "True"
        manage(env, "shell", "-c", ARCHIVE.format(tag=2, ago=0))
        events, batches, newest = manage(env, "shell", "-c", COUNT).split()
        assert (events, batches) == ("600", "32") and int(newest) > int(before[2])
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_sqlite_deletes_what_the_workspace_no_longer_keeps(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    env["SEGAPP_VAR_DIR"] = str(tmp_path)
    manage(env, "migrate", "-v0")
    manage(env, "shell", "-c", ARCHIVE.format(tag=1, ago=40))  # older than 30 days
    manage(env, "shell", "-c", ARCHIVE.format(tag=2, ago=3))
    run = "from django.utils import timezone; from delivery import retention as r; print(r.run(timezone.now()))"
    assert "'batches_deleted': 16" in manage(env, "shell", "-c", run)
    assert manage(env, "shell", "-c", COUNT).split()[:2] == ["300", "16"]
