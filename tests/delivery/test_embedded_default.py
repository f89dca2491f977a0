"""The tracking API on the embedded default: SQLite and the filesystem broker, as README's run
command starts them (the archive's hand-written SQL must work there too)."""

import os
import sqlite3
import subprocess
import sys
import time

import orjson
import pytest
from segment.analytics import Client

from tests.processes import REPO, free_port, start, stop, wait_for

CREATE_SOURCE = """
from catalog.models import SourceMetadata
from connections.sources import create_source
from segapp.models import Workspace
source = create_source(Workspace.objects.get(slug="demo"), SourceMetadata.objects.get(slug="python"), None, name="Embedded")
from catalog.models import DestinationMetadata
from connections.instances import create_instance, set_enabled
hook = create_instance(source, DestinationMetadata.objects.get(slug="webhooks"), None,
                       settings={"webhookUrls": ["SINK_URL/embedded"]})
set_enabled(hook, True, None)
print(source.write_keys.get().key)
"""


@pytest.mark.slow
def test_embedded_default_stores_dedupes_routes_and_delivers_events(tmp_path, sink):
    unset = ("DATABASE_URL", "CELERY_BROKER_URL", "SEGAPP_EGRESS_ALLOW_PRIVATE")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(SEGAPP_VAR_DIR=str(tmp_path), SEGAPP_SECRET_KEY="embedded-test")
    port = free_port()
    proc, output = start([sys.executable, "manage.py", "run", "--port", str(port)], env)
    try:
        output.wait_for_match(r"running at (http://\S+)/", timeout=120)
        write_key = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", CREATE_SOURCE.replace("SINK_URL", sink.url)],
            cwd=REPO, env=env, capture_output=True, text=True, check=True, timeout=60,
        ).stdout.strip().splitlines()[-1]  # fmt: skip

        errors = []
        client = Client(write_key, host=f"http://127.0.0.1:{port}", sync_mode=True,
                        on_error=lambda error, batch: errors.append(error))  # fmt: skip
        client.track("u1", "Signed Up", message_id="m-1")
        client.track("u1", "Signed Up", message_id="m-1")  # a retry: stored once
        client.identify("u1", {"plan": "pro"}, message_id="m-2")
        assert errors == []

        database = sqlite3.connect(tmp_path / "segapp.sqlite3", timeout=20)
        rows = database.execute("SELECT message_id, type FROM delivery_event ORDER BY id")
        assert rows.fetchall() == [("m-1", "track"), ("m-2", "identify")]

        def all_routed():
            query = "SELECT COUNT(*) FROM delivery_ingestbatch WHERE routed_at IS NULL"
            return database.execute(query).fetchone()[0] == 0

        wait_for(all_routed, timeout=30, interval=0.3, message="the worker to route the batches")
        assert database.execute("SELECT COUNT(*) FROM delivery_ingestbatch").fetchone()[0] == 3
        # ...and the worker delivers each event once to the Webhooks instance (no egress guard
        # in the embedded default, so a local tool works).
        wait_for(
            lambda: len(sink.received) >= 2, timeout=30, interval=0.3, message="webhook deliveries"
        )
        time.sleep(2)
        assert sorted(orjson.loads(r.body)["messageId"] for r in sink.received) == ["m-1", "m-2"]
    except AssertionError:
        print("".join(output.lines[-60:]))
        raise
    finally:
        assert stop(proc) == 0, "".join(output.lines[-40:])
