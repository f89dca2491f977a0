"""Delivery benchmark: events sent to ``/v1/batch`` until they arrive at a local webhook sink,
with 1 and 25 Webhooks instances (DESIGN §9).

Needs ``DATABASE_URL`` and ``CELERY_BROKER_URL`` (PostgreSQL and Redis on this machine); starts
gunicorn, a Celery worker with its beat scheduler and a sink itself. Only 127.0.0.1 is used::

    python bench/delivery.py [--events 3000] [--instances 1 25] [--concurrency 4]

Prints deliveries per second (first request sent → last delivery arrived) and the latency from
``receivedAt`` to arrival at the sink (p50/p95/p99).
"""

import argparse
import os
import subprocess
import sys
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import REPO, bench_source, serve, stop


class Sink:
    """Counts deliveries and their latency from receivedAt."""

    def __init__(self):
        self.arrivals: list[tuple[float, float]] = []  # (arrival time, latency seconds)
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                now = time.time()
                received = datetime.fromisoformat(orjson.loads(body)["receivedAt"]).timestamp()
                with sink.lock:
                    sink.arrivals.append((now, now - received))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def add_instances(write_key: str, count: int, url: str) -> None:
    from django.db import connections

    from catalog.models import DestinationMetadata
    from connections.instances import create_instance, set_enabled
    from connections.models import WriteKey

    source = WriteKey.objects.get(key=write_key).source
    webhooks = DestinationMetadata.objects.get(slug="webhooks")
    for n in range(count):
        instance = create_instance(
            source, webhooks, None, name=f"Hook {n}", settings={"webhookUrls": [url]}
        )
        set_enabled(instance, True, None)
    connections.close_all()


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))] if values else float("nan")


def refuse_a_backlog() -> None:
    """Batches left unrouted in this database (``bench/ingest.py --compare`` runs no worker) would
    be routed first and counted in this run: measure on a database without them."""
    from delivery.models import IngestBatch

    backlog = IngestBatch.objects.filter(routed_at__isnull=True).count()
    if backlog:
        sys.exit(
            f"{backlog} batches in this database wait for routing (left by another benchmark): "
            "run on a fresh database (createdb) for a measurement of this run alone."
        )


def run(instances: int, events: int, concurrency: int, port: int) -> None:
    sink = Sink()
    key = bench_source()
    refuse_a_backlog()
    add_instances(key, instances, sink.url)
    env = {**os.environ, "SEGAPP_EGRESS_ALLOW_PRIVATE": "1", "SEGAPP_DISPATCH_INTERVAL": "1"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "segapp", "worker", "--concurrency", str(concurrency),
         "--loglevel", "WARNING", "--without-mingle", "--without-gossip"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    web = serve("segapp.wsgi", port, 2)
    try:
        time.sleep(3)  # the worker connects
        session = requests.Session()
        started = time.time()
        for first in range(0, events, 100):
            batch = [
                {"type": "track", "event": "Bench", "userId": f"u{n}"}
                for n in range(first, min(events, first + 100))
            ]
            response = session.post(f"http://127.0.0.1:{port}/v1/batch", data=orjson.dumps({"batch": batch, "writeKey": key}),
                                    headers={"Content-Type": "application/json"}, timeout=10)  # fmt: skip
            response.raise_for_status()
        expected = events * instances
        deadline = time.time() + 600
        while len(sink.arrivals) < expected and time.time() < deadline:
            time.sleep(0.2)
        arrivals = list(sink.arrivals)
        elapsed = max(t for t, _ in arrivals) - started
        latencies = [lat * 1000 for _, lat in arrivals]
        print(
            f"{instances:>2} instance(s): {len(arrivals)}/{expected} deliveries in {elapsed:.1f}s = "
            f"{len(arrivals) / elapsed:,.0f} deliveries/s ({events / elapsed:,.0f} events/s); "
            f"latency from receivedAt p50 {percentile(latencies, 50):.0f} ms, "
            f"p95 {percentile(latencies, 95):.0f} ms, p99 {percentile(latencies, 99):.0f} ms; "
            f"{elapsed * 1000 / max(len(arrivals), 1):.3f} ms per delivery",
            flush=True,
        )
    finally:
        stop(web)
        worker.terminate()
        worker.wait(30)
        sink.server.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--instances", type=int, nargs="+", default=[1, 25])
    parser.add_argument("--concurrency", type=int, default=4, help="Celery worker processes")
    parser.add_argument("--port", type=int, default=8791)
    args = parser.parse_args()
    for count in args.instances:
        run(
            count,
            args.events if count == 1 else max(args.events // count, 200),
            args.concurrency,
            args.port,
        )


if __name__ == "__main__":
    main()
