"""docs/operations.md's commands, run exactly as written: the upgrade, the two backups and the
restore against scratch PostgreSQL databases, and the key rotation.

Data is made by our real operations and a real tracking request; what a restored database holds
is read back by a ``manage.py shell`` of its own, as an operator's process would read it.
"""

import itertools
import os
import re
import subprocess
import sys

import orjson
import pytest
from cryptography.fernet import Fernet
from django.db import connection

from connections.models import DestinationInstance
from segapp import crypto
from tests import processes
from tests.factories import make_instance, make_one_of_everything, make_source, make_user
from tests.processes import REPO

GUIDE = REPO / "docs" / "operations.md"
SECRET = "s3cr3t-2"  # what make_one_of_everything leaves on its instance
_names = itertools.count(1)

# What an operator would look at after a restore; printed as JSON by the restored deployment.
SNAPSHOT = """
import json
from connections.models import (
    DestinationFilter, DestinationInstance, SettingsVersion, Source, Transformation, WriteKey,
)
from delivery.models import DeliveryCounter, DeliveryJob, Event, IngestBatch, IngestCounter
from segapp.models import ApiToken, AuditEntry, Membership, Workspace
print(json.dumps({
    "workspaces": sorted(Workspace.objects.values_list("name", flat=True)),
    "members": Membership.objects.count(),
    "sources": sorted(Source.objects.values_list("name", flat=True)),
    "write_keys": sorted(WriteKey.objects.values_list("key", flat=True)),
    "filters": list(DestinationFilter.objects.values_list("title", flat=True)),
    "transformations": Transformation.objects.count(),
    "tokens": ApiToken.objects.count(),
    "audit_entries": AuditEntry.objects.count(),
    "secrets": DestinationInstance.objects.get(name="Acme hook").secrets,
    "versions_secrets": [v.secrets for v in SettingsVersion.objects.order_by("number")],
    "events": list(Event.objects.values_list("message_id", flat=True)),
    "batches": IngestBatch.objects.count(),
    "jobs": list(DeliveryJob.objects.values_list("state", flat=True)),
    "counters": DeliveryCounter.objects.count() + IngestCounter.objects.count(),
}))
"""


def guide_block(name: str) -> str:
    """The command block under ``<!-- name -->`` in the guide."""
    found = re.search(rf"<!-- {name} -->\s*```sh\n(.+?)\n```", GUIDE.read_text(), re.S)
    assert found, f"docs/operations.md has no <!-- {name} --> block"
    return found.group(1)


@pytest.fixture
def shell(tmp_path):
    """Runs a guide's block in bash where ``python`` is this interpreter, as in the deployment's
    virtualenv, with the test's environment and the given variables."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    python = bin_dir / "python"
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')  # keeps the virtualenv
    python.chmod(0o755)
    base = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "PYTHONPATH": str(REPO),
        "SEGAPP_VAR_DIR": str(tmp_path / "var"),
    }
    base.pop("SEGAPP_ENCRYPTION_KEYS", None)

    def run(script: str, check: bool = True, **env) -> subprocess.CompletedProcess:
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            env={**base, **env},
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check:
            assert result.returncode == 0, result.stdout + result.stderr
        return result

    run.bin_dir = bin_dir
    return run


@pytest.fixture
def scratch_databases():
    """Makes empty databases on the test server and drops them afterwards; yields their URLs."""
    base = processes.test_database_url().rsplit("/", 1)[0]
    made = []

    def make() -> str:
        name = f"segapp_ops_{os.getpid()}_{next(_names)}"
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
            cursor.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return f"{base}/{name}"

    yield make
    with connection.cursor() as cursor:
        for name in made:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_configuration_and_events(settings) -> None:
    """One of every configuration object, and an event whose delivery was dead-lettered."""
    settings.DELIVERY_RETRY_WINDOW = 0  # the first failed attempt is final
    settings.EGRESS_ALLOW_PRIVATE = True
    made = make_one_of_everything(make_user(), "Acme", "http://127.0.0.1:9/hook")
    assert DestinationInstance.objects.get(pk=made["instance"].pk).secrets == {
        "sharedSecret": SECRET
    }


def snapshot(shell, database_url: str, check: bool = True, **env):
    result = shell(
        f"python manage.py shell -c {_quote(SNAPSHOT)}", check, DATABASE_URL=database_url, **env
    )
    return orjson.loads(result.stdout.strip().splitlines()[-1]) if check else result


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_whole_backup_restores_configuration_events_and_readable_secrets(
    catalog, settings, broker, shell, scratch_databases, tmp_path
):
    make_configuration_and_events(settings)
    source_url = processes.test_database_url()
    before = snapshot(shell, source_url)
    assert before["secrets"] == {"sharedSecret": SECRET} and len(before["versions_secrets"]) == 2
    assert before["events"] and before["jobs"] == ["dead_lettered"] and before["counters"]

    backup = str(tmp_path / "segapp.dump")
    shell(guide_block("backup-whole"), DATABASE_URL=source_url, BACKUP=backup)
    restored = scratch_databases()
    shell(guide_block("restore"), DATABASE_URL=restored, BACKUP=backup)

    assert snapshot(shell, restored) == before
    # Without the keys the backup was made under, the secrets stay sealed, loudly.
    sealed = snapshot(shell, restored, check=False, SEGAPP_SECRET_KEY="another-deployment")
    assert sealed.returncode != 0 and "cannot be decrypted" in sealed.stderr


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_configuration_backup_restores_everything_but_the_archive(
    catalog, settings, broker, shell, scratch_databases, tmp_path
):
    make_configuration_and_events(settings)
    source_url = processes.test_database_url()
    before = snapshot(shell, source_url)

    backup = str(tmp_path / "configuration.dump")
    shell(guide_block("backup-configuration"), DATABASE_URL=source_url, BACKUP=backup)
    restored = scratch_databases()
    shell(guide_block("restore"), DATABASE_URL=restored, BACKUP=backup)

    empty_archive = {"events": [], "batches": 0, "jobs": [], "counters": 0}
    assert snapshot(shell, restored) == {**before, **empty_archive}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_upgrade_commands_back_up_then_migrate_and_collect_static(
    shell, scratch_databases, tmp_path
):
    # pip is the one step not run: a stand-in notes its arguments and whether the backup existed.
    log = tmp_path / "pip.log"
    pip = shell.bin_dir / "pip"
    pip.write_text(
        f'#!/bin/sh\ntest -s "$BACKUP" && echo "backed up" >> {log}\necho "$@" >> {log}\n'
    )
    pip.chmod(0o755)
    database = scratch_databases()
    backup = tmp_path / "before-upgrade.dump"

    shell(guide_block("upgrade-commands"), DATABASE_URL=database, BACKUP=str(backup))

    assert backup.stat().st_size > 0
    assert log.read_text().splitlines() == ["backed up", "install --upgrade ."]
    shell("python manage.py migrate --check", DATABASE_URL=database)
    catalog_rows = shell(
        "python manage.py shell -c 'from catalog.models import DestinationMetadata as D; "
        "print(D.objects.count())'",
        DATABASE_URL=database,
    )
    assert int(catalog_rows.stdout.split()[-1]) > 0
    assert (tmp_path / "var" / "static" / "admin" / "css" / "base.css").exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_key_rotation_commands_leave_secrets_readable_with_the_new_key_alone(
    catalog, workspace, shell, monkeypatch
):
    # A deployment that never set SEGAPP_ENCRYPTION_KEYS: its secrets use the derived key.
    monkeypatch.delenv("SEGAPP_ENCRYPTION_KEYS", raising=False)
    crypto._fernet.cache_clear()
    hook = make_instance(
        make_source(workspace), "webhooks", name="Hook", settings={"sharedSecret": SECRET}
    )
    sealed_before = DestinationInstance.objects.get(pk=hook.pk).encrypted_secrets

    script = "\n".join([guide_block("rotate-keys"), 'echo "$SEGAPP_ENCRYPTION_KEYS"'])
    result = shell(script, DATABASE_URL=processes.test_database_url())
    assert "Re-encrypted the secrets of 1 destination instances" in result.stdout
    keys = result.stdout.strip().splitlines()[-1].split(",")
    assert len(keys) == 1  # the new key; the derived one is not listed

    monkeypatch.setenv("SEGAPP_ENCRYPTION_KEYS", keys[0])  # the old key dropped
    crypto._fernet.cache_clear()
    try:
        rotated = DestinationInstance.objects.get(pk=hook.pk)
        assert rotated.encrypted_secrets != sealed_before
        assert Fernet(keys[0].encode()).decrypt(rotated.encrypted_secrets.encode())
        assert rotated.secrets == {"sharedSecret": SECRET}
    finally:
        monkeypatch.delenv("SEGAPP_ENCRYPTION_KEYS")
        crypto._fernet.cache_clear()
