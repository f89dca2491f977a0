"""The delivery engine with real Celery workers on Redis, real HTTP sinks and Segment's official
clients: exactly-once fan-out, a worker stopped or killed mid-delivery, one hung destination."""

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime

import orjson
import psycopg
import pytest
import requests
from django.db import connection
from segment.analytics import Client

from connections.instances import set_enabled, set_mode
from delivery.models import DeliveryJob, Event, IngestBatch
from delivery.routing import ROUTING_LEASE
from tests.delivery.conftest import process_env
from tests.factories import make_instance, make_source
from tests.processes import REPO, start, stop, test_database_url, wait_for
from tests.sinks import Reply, Sink

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def source(catalog, workspace):
    return make_source(workspace, "javascript", name="Website")


@pytest.fixture
def sinks():
    made = []

    def make():
        made.append(Sink())
        return made[-1]

    yield make
    for sink in made:
        sink.close()


def worker(tmp_path, broker, concurrency=4, **env):
    """A worker (no beat: workers sweep); the dispatcher and sweepers run every second."""
    environment = process_env(
        CELERY_BROKER_URL=os.environ["CELERY_BROKER_URL"],
        SEGAPP_VAR_DIR=str(tmp_path),
        SEGAPP_EGRESS_ALLOW_PRIVATE="1",
        SEGAPP_ROUTING_SWEEP_INTERVAL="1",
        SEGAPP_ROUTING_SWEEP_GRACE="1",
        SEGAPP_DISPATCH_INTERVAL="1",
        SEGAPP_DELIVERY_RETRY_BASE_DELAY="1",
        **env,
    )
    args = [sys.executable, "-m", "celery", "-A", "segapp", "worker", "--concurrency",
            str(concurrency), "--loglevel", "INFO", "--without-mingle", "--without-gossip"]  # fmt: skip
    return start(args, environment, cwd=REPO)


def hook(source, sink, name):
    instance = make_instance(
        source, "webhooks", name=name, settings={"webhookUrls": [f"{sink.url}/{name}"]}
    )
    return set_enabled(instance, True, None)


def ids(sink) -> list[str]:
    return [orjson.loads(r.body)["messageId"] for r in sink.received]


def test_every_event_reaches_every_enabled_cloud_instance_exactly_once(
    live_server, source, sinks, broker, tmp_path
):
    a, b, off = sinks(), sinks(), sinks()
    hook(source, a, "A")
    hook(source, b, "B")
    make_instance(source, "webhooks", name="Off", settings={"webhookUrls": [f"{off.url}/off"]})
    device = set_enabled(make_instance(source, "amplitude", settings={"apiKey": "k"}), True, None)
    set_mode(device, "device", None)
    key = source.write_keys.get().key
    proc, output = worker(tmp_path, broker)
    try:
        python = Client(key, host=live_server.url, max_queue_size=10000, upload_size=100)
        sent = [
            python.track(user_id=f"py-{n}", event="Python Event", properties={"n": n})[1][
                "messageId"
            ]
            for n in range(500)
        ]
        python.flush()
        python.join()
        node = subprocess.run(["node", "send_many.js", live_server.url, key, "500"], cwd=REPO / "tests/clients",
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert node.returncode == 0, node.stderr
        sent += json.loads(node.stdout.strip().splitlines()[-1])["messageIds"]
        assert len(set(sent)) == 1000
        wait_for(lambda: len(a.received) >= 1000 and len(b.received) >= 1000, timeout=120, interval=0.5,
                 message="1,000 events at both sinks")  # fmt: skip
        time.sleep(3)  # anything extra would arrive now
        assert sorted(ids(a)) == sorted(ids(b)) == sorted(sent)
        assert not off.received
    except AssertionError:
        print("".join(output.lines[-40:]))
        raise
    finally:
        stop(proc, sig=signal.SIGTERM)


def test_a_worker_killed_mid_delivery_loses_nothing(api, source, sinks, broker, tmp_path):
    sink = sinks()
    sink.replies = [Reply(delay=4)]  # the first request hangs while the worker is killed
    hook(source, sink, "A")
    env = {"SEGAPP_DELIVERY_JOB_LEASE": "3", "SEGAPP_DELIVERY_READ_TIMEOUT": "10"}
    proc, _ = worker(tmp_path, broker, **env)
    assert (
        api.batch(
            [{"type": "track", "event": "Paid", "userId": "u", "messageId": "survivor"}]
        ).status_code
        == 200
    )
    wait_for(lambda: sink.received, timeout=60, message="the first delivery attempt")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
    second, _ = worker(tmp_path, broker, **env)
    try:
        wait_for(lambda: DeliveryJob.objects.filter(state="done").exists(), timeout=60, interval=0.5,
                 message="the job delivered by the second worker")  # fmt: skip
        assert set(ids(sink)) == {"survivor"} and len(sink.received) >= 2
    finally:
        stop(second, sig=signal.SIGTERM)


def test_sigterm_lets_the_delivery_in_flight_finish(api, source, sinks, broker, tmp_path):
    """Celery's warm shutdown, as a process manager asks for it (docs/operations.md)."""
    sink = sinks()
    sink.replies = [Reply(delay=3)]  # the request is in flight when the worker is told to stop
    hook(source, sink, "A")
    proc, output = worker(tmp_path, broker, SEGAPP_DELIVERY_READ_TIMEOUT="10")
    message = {"type": "track", "event": "Paid", "userId": "u", "messageId": "in-flight"}
    assert api.batch([message]).status_code == 200
    wait_for(lambda: sink.received, timeout=60, message="the delivery to start")
    proc.send_signal(signal.SIGTERM)
    try:
        assert proc.wait(60) == 0, "".join(output.lines[-40:])
    finally:
        stop(proc, sig=signal.SIGKILL)
    assert DeliveryJob.objects.get().state == "done"
    assert ids(sink) == ["in-flight"]


def test_one_hung_destination_does_not_hold_up_another(api, source, sinks, broker, tmp_path):
    healthy, hung = sinks(), sinks()
    hung.default = Reply(delay=60)
    hook(source, healthy, "Healthy")
    hook(source, hung, "Hung")
    proc, _ = worker(tmp_path, broker, SEGAPP_DELIVERY_READ_TIMEOUT="5")
    try:
        lags = []
        for n in range(20):
            sent_at = time.time()
            assert (
                api.batch(
                    [{"type": "track", "event": "Tick", "userId": "u", "messageId": f"tick-{n}"}]
                ).status_code
                == 200
            )
            wait_for(
                lambda n=n: f"tick-{n}" in ids(healthy),
                timeout=30,
                interval=0.05,
                message=f"tick-{n}",
            )
            lags.append(time.time() - sent_at)
            time.sleep(0.5)
        assert len(hung.received) >= 1  # the hung sink was tried, and held its requests
        assert max(lags) < 6, lags
    finally:
        stop(proc, sig=signal.SIGTERM)


def test_a_worker_killed_mid_job_sends_again_only_what_it_had_in_flight(
    api, source, sinks, broker, tmp_path
):
    """2,000 events to a quick tool, the worker SIGKILLed half-way through and another taking
    over: none is lost, and at most one per worker process (the request it was waiting on, or
    the answer it had not yet written down) arrives twice, that is at most 0.1%."""
    sink = sinks()
    hook(source, sink, "A")
    env = {"SEGAPP_DELIVERY_JOB_LEASE": "3"}
    proc, _ = worker(tmp_path, broker, concurrency=2, **env)
    for first in range(0, 2000, 100):
        batch = [{"type": "track", "event": "Paid", "userId": "u", "messageId": f"m-{n}"}
                 for n in range(first, first + 100)]  # fmt: skip
        assert api.batch(batch).status_code == 200
    wait_for(lambda: len(sink.received) >= 700, timeout=120, interval=0.01,
             message="a third of the deliveries")  # fmt: skip
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
    killed_after = len(sink.received)
    assert killed_after < 2000, "the worker was killed after it had sent everything"
    second, _ = worker(tmp_path, broker, concurrency=2, **env)
    try:
        wait_for(lambda: len(set(ids(sink))) == 2000, timeout=120, interval=0.2,
                 message="every event delivered after the takeover")  # fmt: skip
        time.sleep(2)  # a late second copy would show now
        twice = len(ids(sink)) - 2000
        print(f"killed after {killed_after} deliveries; {twice} of 2,000 events sent twice")
        assert twice <= 2, f"{twice} events were sent twice"
    finally:
        stop(second, sig=signal.SIGTERM)


def cut_connections() -> int:
    """Ends every other session on the test database, as a failover or a restarted pooler
    would; the number ended."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def test_connections_cut_mid_delivery_lose_nothing_and_send_again_at_most_a_few(
    api, source, sinks, broker, tmp_path
):
    """2,000 events to a quick tool while PostgreSQL ends the worker's connections five times:
    none is lost, and at most 0.1% arrive twice (a note the cut connection never took)."""
    sink = sinks()
    hook(source, sink, "A")
    for first in range(0, 2000, 100):
        batch = [{"type": "track", "event": "Paid", "userId": "u", "messageId": f"m-{n}"}
                 for n in range(first, first + 100)]  # fmt: skip
        assert api.batch(batch).status_code == 200
    proc, _ = worker(tmp_path, broker, concurrency=2, SEGAPP_DELIVERY_JOB_LEASE="3")
    try:
        cuts = []
        for step in range(1, 6):
            wait_for(lambda step=step: len(sink.received) >= 300 * step, timeout=120,
                     interval=0.01, message=f"{300 * step} deliveries")  # fmt: skip
            cuts.append((len(sink.received), cut_connections()))
        assert len(sink.received) < 2000, "every event was sent before the last cut"
        wait_for(lambda: len(set(ids(sink))) == 2000, timeout=120, interval=0.2,
                 message="every event delivered after the cuts")  # fmt: skip
        time.sleep(2)  # a late second copy would show now
        twice = len(ids(sink)) - 2000
        print(f"cuts (deliveries so far, sessions ended): {cuts}; {twice} of 2,000 sent twice")
        assert all(ended > 0 for _, ended in cuts)
        assert twice <= 2, f"{twice} events were sent twice"
    finally:
        stop(proc, sig=signal.SIGTERM)


def test_a_routing_task_killed_after_its_claim_is_taken_over_one_lease_later(
    api, source, sinks, broker, tmp_path
):
    """The worker routing a batch is killed after claiming it (its read of the events held up by
    a lock): another worker routes the batch once the dead claim's lease has run out, about 30 s
    later, not minutes, and each event arrives once."""
    sink = sinks()
    hook(source, sink, "A")
    batch = [{"type": "track", "event": "Paid", "userId": "u", "messageId": f"m-{n}"}
             for n in range(10)]  # fmt: skip
    assert api.batch(batch).status_code == 200
    (batch_id,) = IngestBatch.objects.values_list("pk", flat=True)
    lock = psycopg.connect(test_database_url())
    lock.execute(f"LOCK TABLE {Event._meta.db_table} IN ACCESS EXCLUSIVE MODE")
    first, _ = worker(tmp_path, broker, concurrency=1)
    second = None
    try:
        wait_for(lambda: IngestBatch.objects.get(pk=batch_id).lease_until is not None,
                 timeout=60, interval=0.05, message="the batch claimed")  # fmt: skip
        time.sleep(1)  # the claim renewed at least once: the lease counts from its last renewal
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
        killed_at = time.monotonic()
        lock.rollback()
        assert IngestBatch.objects.get(pk=batch_id).routed_at is None
        second, _ = worker(tmp_path, broker, concurrency=1)
        wait_for(lambda: len(sink.received) == 10, timeout=120, interval=0.1,
                 message="the batch routed and delivered by the second worker")  # fmt: skip
        took = time.monotonic() - killed_at
        print(
            f"delivered {took:.1f} s after the kill (lease {ROUTING_LEASE.total_seconds():.0f} s)"
        )
        assert took < 45, "a dead claim must be taken over in about 30 s, not minutes"
        time.sleep(1)  # a late second copy would show now
        assert sorted(ids(sink)) == sorted(m["messageId"] for m in batch)
    finally:
        lock.close()
        stop(first, sig=signal.SIGKILL)
        if second is not None:
            stop(second, sig=signal.SIGTERM)


def latencies_ms(sink, prefix: str) -> list[float]:
    """From each delivered event's receivedAt to its arrival at the sink."""
    out = []
    for received in sink.received:
        body = orjson.loads(received.body)
        if body["messageId"].startswith(prefix):
            stamp = datetime.fromisoformat(body["receivedAt"]).timestamp()
            out.append((received.at - stamp) * 1000)
    return sorted(out)


def test_a_hung_neighbour_leaves_the_healthy_instance_within_twice_its_latency_alone(
    api, source, sinks, broker, tmp_path
):
    """p99 from receivedAt to arrival at a healthy instance, alone and then beside an instance
    whose endpoint hangs 30 s per request, in the same run: the hung one may hold only its own
    slots (``SEGAPP_DELIVERY_INSTANCE_SLOTS``), so the healthy one keeps the rest."""
    healthy, hung = sinks(), sinks()
    hung.default = Reply(delay=30)
    hook(source, healthy, "Healthy")
    proc, _ = worker(tmp_path, broker)

    def p99(prefix: str) -> float:
        for n in range(100):
            event = {"type": "track", "event": "Tick", "userId": "u", "messageId": f"{prefix}-{n}"}
            assert api.batch([event]).status_code == 200
            time.sleep(0.05)
        wait_for(lambda: len(latencies_ms(healthy, prefix)) == 100, timeout=60, interval=0.1,
                 message=f"the {prefix} events at the healthy instance")  # fmt: skip
        values = latencies_ms(healthy, prefix)
        return values[98]

    try:
        event = {"type": "track", "event": "Tick", "userId": "u", "messageId": "warm-up"}
        assert api.batch([event]).status_code == 200
        wait_for(lambda: "warm-up" in ids(healthy), timeout=60, message="the worker to start")
        alone = p99("alone")
        hook(source, hung, "Hung")
        beside = p99("beside")
        assert len(hung.received) >= 1  # the hung endpoint was tried, and held its requests
        print(f"healthy p99 alone {alone:.0f} ms, beside a hung instance {beside:.0f} ms")
        assert beside <= 2 * alone, (alone, beside)
    finally:
        stop(proc, sig=signal.SIGTERM)


def test_a_broker_restart_loses_nothing(source, sinks, tmp_path):
    """A Redis of the test's own, killed (dropping its queued messages, as it keeps nothing on
    disk) and started again while events keep arriving: each still reaches the sink once."""
    from tests.delivery.conftest import start_web
    from tests.processes import free_port

    port = free_port()
    redis_args = [
        "redis-server",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
    ]
    broker_url = f"redis://127.0.0.1:{port}/0"
    redis_proc, _ = start(redis_args, dict(os.environ))
    sink = sinks()
    hook(source, sink, "A")
    key = source.write_keys.get().key
    web, _, base_url = start_web(broker_url)
    env = process_env(CELERY_BROKER_URL=broker_url, SEGAPP_VAR_DIR=str(tmp_path), SEGAPP_EGRESS_ALLOW_PRIVATE="1",
                      SEGAPP_ROUTING_SWEEP_INTERVAL="1", SEGAPP_ROUTING_SWEEP_GRACE="1", SEGAPP_DISPATCH_INTERVAL="1")  # fmt: skip
    args = [sys.executable, "-m", "celery", "-A", "segapp", "worker", "--concurrency", "2",
            "--loglevel", "INFO", "--without-mingle", "--without-gossip"]  # fmt: skip
    worker_proc, output = start(args, env, cwd=REPO)

    def send(ids):
        body = orjson.dumps(
            {
                "writeKey": key,
                "batch": [
                    {"type": "track", "event": "E", "userId": "u", "messageId": i} for i in ids
                ],
            }
        )
        response = requests.post(
            f"{base_url}/v1/batch",
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
        assert response.status_code == 200, response.text

    try:
        send(["before-1", "before-2"])
        wait_for(
            lambda: len(sink.received) >= 2,
            timeout=60,
            interval=0.3,
            message="deliveries before the restart",
        )
        os.killpg(redis_proc.pid, signal.SIGKILL)
        redis_proc.wait(10)
        send(["during-1", "during-2"])  # accepted while the broker is gone
        time.sleep(2)
        redis_proc, _ = start(redis_args, dict(os.environ))
        send(["after-1"])
        expected = {"before-1", "before-2", "during-1", "during-2", "after-1"}
        wait_for(
            lambda: set(ids(sink)) >= expected,
            timeout=90,
            interval=0.5,
            message="every event after the restart",
        )
        time.sleep(3)
        assert sorted(ids(sink)) == sorted(expected)
    except AssertionError:
        print("".join(output.lines[-60:]))
        raise
    finally:
        stop(worker_proc, sig=signal.SIGTERM)
        stop(web, sig=signal.SIGTERM)
        stop(redis_proc, sig=signal.SIGTERM)
