"""Delivery benchmark: events sent to ``/v1/batch`` until they arrive at Webhooks endpoints, against
a sender floor measured in the same run (DESIGN §9, issue 18).

Needs ``DATABASE_URL`` and ``CELERY_BROKER_URL`` (PostgreSQL and Redis on this machine) and Debian's
``nginx-light`` (``apt-get install nginx-light``); starts gunicorn, a Celery worker, nginx and a
Python sink itself, all on 127.0.0.1::

    python bench/delivery.py [--events 20000] [--concurrency 2] [--instances 25]

Phases, one after another:

1. **Sender floor**: as many bare Python processes as the worker has POST the body Segapp sends for
   one event to nginx (answering 200) with a pooled keep-alive ``urllib3`` connection, as fast as
   they can. Nothing Segapp does can beat it on this machine.
2. **One instance**: ``--events`` events through ``/v1/batch`` (100 per request) to one Webhooks
   instance pointed at nginx; events/s from the first request to the last arrival in nginx's log,
   and that rate as a fraction of the floor; and the CPU time each kind of process on the machine
   (worker, gunicorn, PostgreSQL, nginx, …) spent per delivery meanwhile (``cpu.py``).
3. **Many instances**: the same number of deliveries spread over ``--instances`` instances; the
   cost per delivery against phase 2.
4. **Latency at half load**: events at half of phase 2's rate for ``--latency-seconds`` to one
   instance pointed at a Python sink (it saturates near 2,000 requests/s, so it only serves for
   latency), which reads each ``receivedAt``: p50/p95/p99 from ``receivedAt`` to arrival.
"""

import argparse
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import requests
import urllib3

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cpu import CpuShare
from ingest import REPO, bench_source, serve, stop

NGINX = "/usr/sbin/nginx"
BATCH = 100


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Nginx:
    """nginx answering 200 to every request, writing each arrival's time (``$msec``) to a log."""

    def __init__(self):
        if not os.access(NGINX, os.X_OK):
            raise SystemExit("the benchmark's sink is nginx: apt-get install nginx-light")
        self.dir = Path(tempfile.mkdtemp(prefix="segapp-bench-nginx-"))
        self.port = free_port()
        self.log = self.dir / "arrivals.log"
        temp = " ".join(
            f"{kind}_temp_path {self.dir}/{kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (self.dir / "nginx.conf").write_text(
            f"worker_processes 1; daemon off; pid {self.dir}/nginx.pid;"
            f" error_log {self.dir}/error.log warn;"
            " events { worker_connections 4096; }"
            f" http {{ {temp} log_format arrivals '$msec';"
            f" access_log {self.log} arrivals buffer=256k flush=200ms;"
            " keepalive_requests 1000000; keepalive_timeout 120s;"
            f" server {{ listen 127.0.0.1:{self.port}; location / {{ return 200; }} }} }}"
        )
        self.proc = subprocess.Popen(
            [NGINX, "-p", str(self.dir), "-c", str(self.dir / "nginx.conf")],
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        self.url = f"http://127.0.0.1:{self.port}/hook"

    def arrivals(self) -> list[float]:
        if not self.log.exists():
            return []
        return [float(line) for line in self.log.read_text().split()]

    def reset(self) -> None:
        self.log.write_text("")
        self.proc.send_signal(signal.SIGUSR1)  # reopen the log
        time.sleep(0.3)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


class PythonSink:
    """Reads each delivery's ``receivedAt`` for the latency to arrival."""

    def __init__(self):
        self.latencies: list[float] = []
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                now = time.time()
                received = datetime.fromisoformat(orjson.loads(body)["receivedAt"]).timestamp()
                with sink.lock:
                    sink.latencies.append((now - received) * 1000)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def webhook_body() -> bytes:
    """A body like the one Segapp's Webhooks adapter sends for a bench event."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return orjson.dumps(
        {
            "type": "track",
            "event": "Bench",
            "userId": "u1",
            "properties": {},
            "context": {"library": {"name": "bench", "version": "1"}, "ip": "127.0.0.1"},
            "integrations": {},
            "messageId": "api-2f1d0d6a-3c1b-4f5e-9b0e-6a8f1d7c9e21",
            "timestamp": now,
            "sentAt": now,
            "receivedAt": now,
            "originalTimestamp": now,
            "writeKey": "k" * 32,
        }
    )


def _floor_sender(url: str, body: bytes, seconds: float, counts) -> None:
    parsed = urllib3.util.parse_url(url)
    pool = urllib3.HTTPConnectionPool(parsed.host, parsed.port, maxsize=1)
    headers = {"Content-Type": "application/json"}
    sent, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        pool.urlopen("POST", parsed.path, body=body, headers=headers, retries=False).read()
        sent += 1
    counts.put(sent)


def sender_floor(url: str, processes: int, seconds: float) -> tuple[float, str]:
    """Requests/s of the bare senders, and their CPU per request by kind of process."""
    counts = multiprocessing.Queue()
    body = webhook_body()
    senders = [
        multiprocessing.Process(target=_floor_sender, args=(url, body, seconds, counts))
        for _ in range(processes)
    ]
    with CpuShare() as cpu:
        for sender in senders:
            sender.start()
        total = sum(counts.get() for _ in senders)
    for sender in senders:
        sender.join()
    return total / seconds, cpu.per(total, "request")


def add_instances(write_key: str, count: int, url: str, name: str = "Hook") -> list:
    """``count`` enabled Webhooks instances of the write key's source, sending to ``url``."""
    from django.db import connections

    from catalog.models import DestinationMetadata
    from connections.instances import create_instance, set_enabled
    from connections.models import WriteKey

    source = WriteKey.objects.get(key=write_key).source
    webhooks = DestinationMetadata.objects.get(slug="webhooks")
    instances = []
    for n in range(count):
        instance = create_instance(
            source, webhooks, None, name=f"{name} {n}", settings={"webhookUrls": [url]}
        )
        instances.append(set_enabled(instance, True, None))
    connections.close_all()
    return instances


def start_worker(concurrency: int, profile: str | None = None) -> subprocess.Popen:
    """A Celery worker of ``concurrency`` processes, sweeping every second; under py-spy writing
    the collapsed stacks of it and its child processes to ``profile`` (for bench/stacks.py) if
    given. It gets a session of its own, so that ``stop_worker`` can reach its pool processes."""
    env = {**os.environ, "SEGAPP_EGRESS_ALLOW_PRIVATE": "1", "SEGAPP_DISPATCH_INTERVAL": "1"}
    command = [sys.executable, "-m", "celery", "-A", "segapp", "worker", "--concurrency",
               str(concurrency), "--loglevel", "WARNING", "--without-mingle",
               "--without-gossip"]  # fmt: skip
    if profile:
        spy = Path(sys.executable).parent / "py-spy"
        command = [str(spy), "record", "--subprocesses", "--format", "raw", "--rate", "250",
                   "--output", profile, "--", *command]  # fmt: skip
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip


def stop_worker(worker: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 60) -> None:
    """Asks the worker to stop; kills its session if it has not within ``timeout`` seconds (not
    yet reaped, its id still names the session it leads)."""
    worker.send_signal(sig)
    try:
        worker.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


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


def send_events(base: str, key: str, events: int, rate: float | None = None) -> float:
    """Posts ``events`` events in batches of 100 (paced to ``rate`` events/s if given); returns
    when it started."""
    session = requests.Session()
    size = BATCH
    started = time.time()
    for first in range(0, events, size):
        if rate is not None:
            time.sleep(max(0.0, started + first / rate - time.time()))
        batch = [
            {"type": "track", "event": "Bench", "userId": f"u{n}"}
            for n in range(first, min(events, first + size))
        ]
        response = session.post(f"{base}/v1/batch", data=orjson.dumps({"batch": batch, "writeKey": key}),
                                headers={"Content-Type": "application/json"}, timeout=10)  # fmt: skip
        response.raise_for_status()
    return started


def wait_for(count, expected: int, timeout: float = 600) -> None:
    deadline = time.time() + timeout
    while count() < expected and time.time() < deadline:
        time.sleep(0.2)


def throughput(base: str, nginx: Nginx, instances: int, deliveries: int) -> dict:
    events = deliveries // instances
    key = bench_source()
    add_instances(key, instances, nginx.url)
    nginx.reset()
    expected = events * instances
    with CpuShare() as cpu:
        started = send_events(base, key, events)
        wait_for(lambda: len(nginx.arrivals()), expected)
    time.sleep(0.5)  # the log's last buffer
    arrivals = nginx.arrivals()
    elapsed = max(arrivals) - started
    return {
        "instances": instances,
        "events": events,
        "deliveries": len(arrivals),
        "expected": expected,
        "seconds": elapsed,
        "deliveries_per_s": len(arrivals) / elapsed,
        "events_per_s": events / elapsed,
        "ms_per_delivery": elapsed * 1000 / max(len(arrivals), 1),
        "cpu": cpu.per(max(len(arrivals), 1)),
    }


def latency(base: str, rate: float, seconds: float) -> dict:
    sink = PythonSink()
    try:
        key = bench_source()
        add_instances(key, 1, sink.url)
        events = int(rate * seconds)
        send_events(base, key, events, rate=rate)
        wait_for(lambda: len(sink.latencies), events, timeout=120)
        values = list(sink.latencies)
        return {"rate": rate, "events": events, "arrived": len(values),
                **{f"p{p}": percentile(values, p) for p in (50, 95, 99)}}  # fmt: skip
    finally:
        sink.server.shutdown()


def report(result: dict) -> None:
    print(
        f"segapp, {result['instances']} instance(s): {result['deliveries']:,}/{result['expected']:,}"
        f" deliveries in {result['seconds']:.2f}s = {result['deliveries_per_s']:,.0f} deliveries/s"
        f" ({result['events_per_s']:,.0f} events/s), {result['ms_per_delivery']:.3f} ms per delivery",
        flush=True,
    )
    print(f"  {result['cpu']}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--events", type=int, default=20_000, help="deliveries per throughput phase"
    )
    parser.add_argument("--instances", type=int, default=25)
    parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--floor-seconds", type=float, default=5)
    parser.add_argument("--latency-seconds", type=float, default=10)
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--profile", help="write the worker's collapsed stacks (py-spy) here")
    args = parser.parse_args()

    nginx = Nginx()
    try:
        floor, floor_cpu = sender_floor(nginx.url, args.concurrency, args.floor_seconds)
        print(f"{os.cpu_count()} CPUs; worker --concurrency {args.concurrency}", flush=True)
        print(f"sender floor ({args.concurrency} urllib3 processes → nginx): {floor:,.0f} requests/s", flush=True)  # fmt: skip
        print(f"  {floor_cpu}", flush=True)
        bench_source()  # migrates
        refuse_a_backlog()
        worker = start_worker(args.concurrency, args.profile)
        web = serve("segapp.wsgi", args.port, 2)
        base = f"http://127.0.0.1:{args.port}"
        try:
            time.sleep(3)  # the worker connects
            one = throughput(base, nginx, 1, args.events)
            report(one)
            many = throughput(base, nginx, args.instances, args.events)
            report(many)
            half = latency(base, one["events_per_s"] / 2, args.latency_seconds)
        finally:
            stop(web)
            stop_worker(worker, signal.SIGINT if args.profile else signal.SIGTERM)
    finally:
        nginx.close()
    print(
        f"half load ({half['rate']:,.0f} events/s, {half['arrived']:,}/{half['events']:,} arrived):"
        f" latency from receivedAt p50 {half['p50']:.0f} ms, p95 {half['p95']:.0f} ms,"
        f" p99 {half['p99']:.0f} ms (budget < 1,000 ms)"
    )
    print(
        f"one instance: {one['events_per_s']:,.0f} events/s (budget ≥ 3,000) ="
        f" {one['deliveries_per_s'] / floor:.0%} of the sender floor (budget ≥ 60%);"
        f" {args.instances} instances cost {many['ms_per_delivery'] / one['ms_per_delivery']:.2f} times"
        " one instance's per delivery (budget ≤ 1.10)"
    )


if __name__ == "__main__":
    main()
