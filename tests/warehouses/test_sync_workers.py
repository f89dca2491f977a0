"""Syncs on real Celery workers: a worker killed in the middle of a sync loses and duplicates
nothing once another takes over, and a warehouse that hangs holds up no webhook delivery."""

import os
import signal
import socket

import pytest

from connections.instances import set_enabled
from delivery.tasks import publish
from tests.delivery.test_engine_workers import worker as delivery_worker
from tests.factories import make_instance
from tests.processes import stop, wait_for
from tests.sinks import Sink
from tests.warehouses.conftest import send
from warehouses import operations
from warehouses.models import ConnectedSource, Sync, SyncStatus
from warehouses.tasks import run_sync

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def worker(tmp_path, broker, **env):
    """The delivery tests' worker, with the warehouse sweep every second too."""
    return delivery_worker(tmp_path, broker, SEGAPP_WAREHOUSE_SWEEP_INTERVAL="1", **env)


def sync_now(warehouse, owner) -> Sync:
    ((sync, new),) = operations.sync_now(warehouse, owner)
    assert new and publish(run_sync, sync.pk)
    return sync


def test_a_sync_killed_halfway_then_resumed_loses_and_duplicates_nothing(
    live_server, source, warehouse, reader, owner, broker, tmp_path
):
    total = 40_000
    for start_at in range(0, total, 500):
        send(live_server.url, source, [
            {"type": "track", "userId": f"u{n % 97}", "event": "Order Completed",
             "messageId": f"m-{n}", "properties": {"n": n, "total": n / 10}}
            for n in range(start_at, start_at + 500)
        ])  # fmt: skip
    env = {"SEGAPP_WAREHOUSE_SYNC_LEASE": "3"}
    first, _ = worker(tmp_path, broker, **env)
    try:
        sync = sync_now(warehouse, owner)
        link = ConnectedSource.objects.filter(warehouse=warehouse)
        wait_for(lambda: link.get().loaded_through > 0, timeout=120, interval=0.02,
                 message="the first chunk committed")  # fmt: skip
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
    finally:
        stop(first, sig=signal.SIGKILL)
    sync.refresh_from_db()
    assert sync.status == SyncStatus.RUNNING, "the sync ended before the kill: nothing was tested"

    second, _ = worker(tmp_path, broker, **env)
    try:
        wait_for(lambda: Sync.objects.get(pk=sync.pk).is_finished, timeout=180, interval=0.5,
                 message="the sync finished by the second worker")  # fmt: skip
    finally:
        stop(second, sig=signal.SIGTERM)
    sync.refresh_from_db()
    assert sync.status == SyncStatus.SUCCESS, sync.error
    for table in ("tracks", "order_completed"):
        assert reader.query(f"SELECT count(*), count(DISTINCT id) FROM backend.{table}") == [
            (total, total)
        ]
    assert sync.rows == 2 * total  # each row counted once, however often its chunk was loaded
    assert reader.query("SELECT sum(n) FROM backend.order_completed") == [
        (total * (total - 1) // 2,)
    ]


def test_a_hung_warehouse_holds_up_no_webhook_delivery(
    live_server, source, warehouse, owner, broker, tmp_path
):
    sink = Sink()
    hook = make_instance(source, "webhooks", name="Hook", settings={"webhookUrls": [sink.url]})
    set_enabled(hook, True, None)
    silent = socket.socket()  # accepts connections and never answers, like a hung server
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    operations.update_warehouse(warehouse, owner, settings={"port": silent.getsockname()[1]})
    proc, _ = worker(tmp_path, broker, SEGAPP_WAREHOUSE_CONNECT_TIMEOUT="20")
    try:
        sync = sync_now(warehouse, owner)
        wait_for(lambda: Sync.objects.get(pk=sync.pk).status == SyncStatus.RUNNING, timeout=30,
                 message="the sync waiting on the warehouse")  # fmt: skip
        send(live_server.url, source, [
            {"type": "track", "userId": "u", "event": "Signed Up", "messageId": f"hook-{n}"}
            for n in range(20)
        ])  # fmt: skip
        wait_for(lambda: len(sink.received) >= 20, timeout=60, message="every webhook delivery")
        delivered_by = max(r.at for r in sink.received)
        assert not Sync.objects.get(pk=sync.pk).is_finished  # still waiting on the warehouse
        wait_for(lambda: Sync.objects.get(pk=sync.pk).is_finished, timeout=60,
                 message="the sync giving up")  # fmt: skip
    finally:
        stop(proc, sig=signal.SIGTERM)
        silent.close()
        sink.close()
    sync.refresh_from_db()
    assert sync.status == SyncStatus.FAILED and "timeout" in sync.error.lower()
    assert sync.hint.startswith("The server did not answer in time")
    assert delivered_by < sync.finished_at.timestamp()
