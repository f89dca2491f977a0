"""Settings endpoint benchmark: ``GET /v1/projects/{writeKey}/settings``, full render vs 304.

DESIGN §9 asks for the 304 path (a browser revalidating with ``If-None-Match``) to be at least 5x
faster than a full render. This migrates, creates a web source with device-mode and cloud-mode
instances through the real operations, starts gunicorn on 127.0.0.1 and drives it from several
processes, first without ``If-None-Match`` (every request renders the document), then with the
current ETag (every request is a 304). It prints the numbers and asserts nothing::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/segapp_bench CELERY_BROKER_URL=redis://127.0.0.1:6379/14 \\
      SEGAPP_SECRET_KEY=bench .venv/bin/python bench/settings_endpoint.py [--instances 20]

On a 2-core machine the load processes, gunicorn and PostgreSQL share the cores: compare the two
numbers of one run rather than numbers from different runs.
"""

import argparse
import http.client
import multiprocessing
import os
import socket
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.ingest import serve, stop  # noqa: E402


def bench_source(instances: int) -> str:
    """A fresh web source with ``instances`` enabled device-mode instances and as many enabled
    cloud-mode ones; returns its write key."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segapp.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from catalog.models import DestinationMetadata, SourceMetadata
    from connections import instances as operations
    from connections.sources import create_source
    from segapp.models import Plan, User, Workspace
    from segapp.workspaces import create_workspace
    from tests.factories import required_settings

    call_command("migrate", verbosity=0)
    call_command("load_catalog", verbosity=0)
    workspace = Workspace.objects.filter(slug="bench").first()
    if workspace is None:
        owner, _ = User.objects.get_or_create(email="bench@segapp.local")
        workspace = create_workspace(owner, "Bench", Plan.BUSINESS)
    source = create_source(
        workspace, SourceMetadata.objects.get(slug="javascript"), None, name=f"Web {time.time_ns()}"
    )
    browser_entries = [
        entry
        for entry in DestinationMetadata.objects.filter(connection_modes__contains=["device"])
        if any(c.get("type") == "BROWSER" for c in entry.components)
    ][:instances]
    for entry in browser_entries:
        instance = operations.create_instance(
            source, entry, None, settings=required_settings(entry), enabled=True
        )
        if instance.mode != "device":
            operations.set_mode(instance, "device", None)
    webhooks = DestinationMetadata.objects.get(slug="webhooks")
    for n in range(instances):
        operations.create_instance(
            source,
            webhooks,
            None,
            name=f"Hook {n}",
            settings=required_settings(webhooks),
            enabled=True,
        )
    key = source.write_keys.get().key
    connections.close_all()  # no connection may cross the fork into the load processes
    return key


def drive(port, path, headers, duration, warmup, results):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    start = time.perf_counter()
    measure_from, deadline = start + warmup, start + warmup + duration
    latencies, statuses = [], {}
    while True:
        sent = time.perf_counter()
        if sent >= deadline:
            break
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        done = time.perf_counter()
        if response.getheader("Connection", "").lower() == "close":
            connection.close()  # gunicorn's sync workers close; the next request reconnects
        if sent >= measure_from:
            latencies.append(done - sent)
            statuses[response.status] = statuses.get(response.status, 0) + 1
    results.put((latencies, statuses))


def run_load(port, path, headers, processes, duration, warmup=1.0) -> dict:
    results = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=drive, args=(port, path, headers, duration, warmup, results))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get() for _ in workers]
    for worker in workers:
        worker.join()
    latencies = sorted(lat for lats, _ in outcomes for lat in lats)
    statuses = {}
    for _, counts in outcomes:
        for status, count in counts.items():
            statuses[status] = statuses.get(status, 0) + count
    return {
        "requests_per_s": len(latencies) / duration,
        "mean_ms": statistics.fmean(latencies) * 1000,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
        "statuses": statuses,
    }


def report(label: str, result: dict) -> None:
    print(
        f"{label:<14} {result['requests_per_s']:>8,.0f} req/s  mean {result['mean_ms']:.2f} ms  "
        f"p50 {result['p50_ms']:.2f} ms  p99 {result['p99_ms']:.2f} ms  statuses {result['statuses']}",
        flush=True,
    )


def server_time(host: str, path: str, headers: dict, rounds: int = 300) -> tuple[float, int]:
    """Mean milliseconds inside Django's WSGI handler (middleware included), with no network and
    no load generator beside it: the server's own cost of each path."""
    from django.db import connections
    from django.test import Client

    client = Client(headers={"Host": host, **headers})
    status = client.get(path).status_code
    started = time.perf_counter()
    for _ in range(rounds):
        client.get(path)
    elapsed = (time.perf_counter() - started) / rounds * 1000
    connections.close_all()
    return elapsed, status


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=20, help="device-mode and cloud-mode each")
    parser.add_argument("--processes", type=int, default=2, help="load-generating processes")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("needs DATABASE_URL=postgres://… (and CELERY_BROKER_URL)")

    key = bench_source(args.instances)
    path = f"/v1/projects/{key}/settings"
    port = free_port()
    server = serve("segapp.wsgi", port, args.web_workers)
    try:
        probe = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        probe.request("GET", path)
        first = probe.getresponse()
        body, tag = first.read(), first.getheader("ETag")
        probe.close()
        print(
            f"{os.cpu_count()} CPUs; gunicorn --workers {args.web_workers}; {args.processes} load "
            f"processes; {args.instances} device-mode + {args.instances} cloud-mode instances; "
            f"document {len(body):,} bytes",
            flush=True,
        )
        full = run_load(port, path, {}, args.processes, args.duration)
        report("full render", full)
        revalidated = run_load(port, path, {"If-None-Match": tag}, args.processes, args.duration)
        report("304", revalidated)
        print(
            f"304 vs full render: {revalidated['requests_per_s'] / full['requests_per_s']:.1f}x "
            f"the requests/s, {full['mean_ms'] / revalidated['mean_ms']:.1f}x lower mean latency",
            flush=True,
        )
    finally:
        stop(server)
    # The same Host as over HTTP: it is part of the document, and so of the ETag.
    host = f"127.0.0.1:{port}"
    full_ms, full_status = server_time(host, path, {})
    revalidated_ms, revalidated_status = server_time(host, path, {"If-None-Match": tag})
    print(
        f"in process (Django test client, no network): full render {full_ms:.2f} ms "
        f"({full_status}), 304 {revalidated_ms:.2f} ms ({revalidated_status}), "
        f"{full_ms / revalidated_ms:.1f}x faster",
        flush=True,
    )


if __name__ == "__main__":
    main()
