"""Several workers and no beat: the sweeps they share dispatch each due job once, and stopping web
and worker processes with SIGTERM in the middle of the traffic loses nothing."""

import os
import signal
import sys
import threading
import time
from collections import Counter

import orjson
import pytest
import requests
from segment.analytics import Client

from connections.instances import set_enabled
from tests.delivery.conftest import process_env, start_web
from tests.delivery.test_engine_workers import cut_connections
from tests.factories import make_instance, make_source
from tests.processes import REPO, start, stop, wait_for
from tests.sinks import Reply, Sink

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def source(catalog, workspace):
    return make_source(workspace, "javascript", name="Website")


def hook(source, sink, name):
    instance = make_instance(
        source, "webhooks", name=name, settings={"webhookUrls": [f"{sink.url}/{name}"]}
    )
    return set_enabled(instance, True, None)


def worker(tmp_path, name, **env):
    environment = process_env(
        CELERY_BROKER_URL=os.environ["CELERY_BROKER_URL"],
        SEGAPP_VAR_DIR=str(tmp_path / name),
        SEGAPP_EGRESS_ALLOW_PRIVATE="1",
        SEGAPP_DISPATCH_INTERVAL="1",
        SEGAPP_DELIVERY_RETRY_BASE_DELAY="1",
        **env,
    )
    args = ["celery", "-A", "segapp", "worker", "--concurrency", "2", "--hostname", f"{name}@%h",
            "--loglevel", "INFO", "--without-mingle", "--without-gossip"]  # fmt: skip
    return start([sys.executable, "-m", *args], environment, cwd=REPO)


def deliver_job_runs(*outputs) -> int:
    return sum(
        '"task": "delivery.tasks.deliver_job"' in line for out in outputs for line in out.lines
    )


def ids(sink) -> list[str]:
    return [orjson.loads(r.body)["messageId"] for r in sink.received if r.body]


def test_two_workers_dispatch_each_due_retry_once(source, broker, tmp_path):
    # Ten instances (one breaker each), every first request refused: each job fails once and
    # is due again a second later, when the shared dispatcher must send it exactly once.
    sink = Sink()
    names = [f"hook-{n}" for n in range(10)]
    sink.replies = [Reply(500)] * len(names)
    for name in names:
        hook(source, sink, name)
    env = {"SEGAPP_ROUTING_SWEEP_GRACE": "60"}  # only retries are due; no task is "lost" here
    (a, out_a), (b, out_b) = worker(tmp_path, "a", **env), worker(tmp_path, "b", **env)
    web, _, base = start_web(os.environ["CELERY_BROKER_URL"])
    try:
        body = {"writeKey": source.write_keys.get().key, "batch": [
            {"type": "track", "event": "Paid", "userId": "u", "messageId": "m-1"}]}  # fmt: skip
        assert requests.post(f"{base}/v1/batch", data=orjson.dumps(body), timeout=10).ok
        wait_for(lambda: len(sink.received) >= 20, timeout=60, message="every retry delivered")
        time.sleep(3)  # dispatcher ticks on both workers; nothing more may be sent
        paths = Counter(r.path for r in sink.received)
        assert paths == Counter({f"/{name}": 2 for name in names})
        # Ten first attempts from routing, ten retries from the dispatcher: never a second one.
        assert deliver_job_runs(out_a, out_b) == 20
    finally:
        for proc in (web, a, b):
            stop(proc, sig=signal.SIGTERM)
        sink.close()


def test_sigterm_to_web_and_worker_during_traffic_loses_nothing(source, broker, tmp_path):
    sink = Sink()
    sink.default = Reply(delay=0.2)  # deliveries are in flight when the worker is told to stop
    hook(source, sink, "hook")
    key = source.write_keys.get().key
    webs = [start_web(os.environ["CELERY_BROKER_URL"], workers=2) for _ in range(2)]
    first, _ = worker(tmp_path, "first")
    accepted: list[str] = []
    sending = threading.Event()
    sending.set()

    def traffic():
        n = 0
        while sending.is_set() and n < 400:
            batch = [{"type": "track", "event": "E", "userId": "u", "messageId": f"m-{n + i}"}
                     for i in range(5)]  # fmt: skip
            body = orjson.dumps({"writeKey": key, "batch": batch})
            # A client retries a request whose server went away on another server, as
            # Segment's libraries do; only a 200 means the events were accepted.
            for _, _, base in webs:
                try:
                    if requests.post(f"{base}/v1/batch", data=body, timeout=10).ok:
                        accepted.extend(m["messageId"] for m in batch)
                        break
                except requests.ConnectionError:
                    continue
            n += 5
            time.sleep(0.02)

    loader = threading.Thread(target=traffic)
    loader.start()
    second = None
    try:
        wait_for(lambda: len(sink.received) >= 20, timeout=60, message="deliveries under way")
        stop(webs[0][0], sig=signal.SIGTERM)  # graceful: requests in progress are answered
        stop(first, sig=signal.SIGTERM)  # warm shutdown while deliveries are in flight
        second, _ = worker(tmp_path, "second")
        loader.join(120)
        assert not loader.is_alive()
        assert len(accepted) >= 300
        wait_for(
            lambda: set(accepted) <= set(ids(sink)), timeout=120, interval=0.5,
            message="every accepted event delivered",
        )  # fmt: skip
        delivered = Counter(ids(sink))
        assert set(delivered) == set(accepted)
        # At least once, and a re-send only where a stopped process could not record a send.
        assert sum(delivered.values()) - len(delivered) <= len(delivered) // 100
    finally:
        sending.clear()
        loader.join(30)
        for proc, *_ in webs:
            stop(proc, sig=signal.SIGTERM)
        for proc in (first, second):
            if proc is not None:
                stop(proc, sig=signal.SIGTERM)
        sink.close()


def test_connections_cut_during_ingest_and_delivery_lose_nothing_and_send_twice_at_most_a_few(
    source, broker, tmp_path
):
    """3,000 events from Segment's Python library through gunicorn to a quick tool, while
    PostgreSQL ends every session of the web and worker processes ten times: the library's
    retries and the tracking API's dedupe keep each event once, and at most 0.1% arrive twice."""
    sink = Sink()
    hook(source, sink, "hook")
    proc, _, base_url = start_web(os.environ["CELERY_BROKER_URL"], workers=2)
    first, _ = worker(tmp_path, "first", SEGAPP_DELIVERY_JOB_LEASE="3")
    cuts: list[int] = []
    client = Client(source.write_keys.get().key, host=base_url, upload_size=100,
                    upload_interval=0.05, max_queue_size=10_000, max_retries=20)  # fmt: skip
    try:
        sent = []
        for n in range(3000):  # for about three seconds, a cut every 0.3 s
            sent.append(
                client.track(user_id="u", event="Paid", properties={"n": n})[1]["messageId"]
            )
            if n % 100 == 99:
                time.sleep(0.1)
                if n % 300 == 299:
                    cuts.append(cut_connections())
        client.flush()
        client.join()
        wait_for(lambda: set(ids(sink)) >= set(sent), timeout=180, interval=0.5,
                 message="every event delivered")  # fmt: skip
        time.sleep(2)  # a late second copy would show now
        delivered = Counter(ids(sink))
        twice = sum(delivered.values()) - len(delivered)
        print(f"sessions ended per cut: {cuts}; {twice} of 3,000 sent twice")
        assert set(delivered) == set(sent)
        assert sum(cuts) >= 10, "the cuts ended too few sessions to test anything"
        assert twice <= 3, f"{twice} events were sent twice"
    finally:
        client.shutdown()
        for process in (proc, first):
            stop(process, sig=signal.SIGTERM)
        sink.close()
