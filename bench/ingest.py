"""Ingest benchmark: ``/v1/batch`` with 100-message batches from several processes, for a fixed time.

Drive a running server::

    python bench/ingest.py --url http://127.0.0.1:8000 --write-key KEY [--rate EVENTS_PER_S]

or let it run the whole comparison of DESIGN §9 on this machine (needs ``DATABASE_URL`` and
``CELERY_BROKER_URL``; it migrates, creates a bench source, and starts and stops gunicorn itself)::

    python bench/ingest.py --compare

which measures Segapp at full load, the bare WSGI + COPY baseline (``bench/baseline_copy.py``) at
full load, and Segapp again at half its full-load rate for latency. Only 127.0.0.1 is used.

``--discovery`` measures what field discovery (the Privacy Inbox's sweep) costs ingest: full load
spread over ``--sources`` sources, in rounds without and with a Celery worker running the sweep
beside it at its interval, then both rates and their ratio (budget: at most 5% fewer events/s).
"""

import argparse
import base64
import http.client
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parent.parent


def message(n: int, run: str) -> dict:
    """A track call shaped like analytics-python's."""
    return {
        "type": "track",
        "event": "Order Completed",
        "userId": f"user-{n % 5000}",
        "properties": {"orderId": f"o-{n}", "revenue": 42.5, "currency": "USD", "items": 3},
        "context": {"library": {"name": "analytics-python", "version": "2.4.0"}},
        "timestamp": "2026-01-01T00:00:00.000Z",
        "messageId": f"{run}-{n}",
    }


def drive(url, write_key, batch_size, duration, warmup, rate, index, run, results):
    parsed = urllib.parse.urlsplit(url)
    # Several comma-separated write keys take turns, one request each (``--discovery``).
    auths = ["Basic " + base64.b64encode(f"{k}:".encode()).decode() for k in write_key.split(",")]
    headers = {"Content-Type": "application/json"}
    start = time.perf_counter()
    measure_from, deadline = start + warmup, start + warmup + duration
    interval = batch_size / rate if rate else 0.0
    next_at = start
    accepted = errors = 0
    latencies = []
    n = 0
    while True:
        now = time.perf_counter()
        if now >= deadline:
            break
        if interval:
            # Open loop: latency counts from when the request was due, so a slow server cannot
            # hide its queue by slowing the generator down.
            if next_at > now:
                time.sleep(next_at - now)
            sent = next_at
            next_at += interval
        else:
            sent = now
        batch = [message(n + i, f"{run}-{index}") for i in range(batch_size)]
        n += batch_size
        body = orjson.dumps({"batch": batch, "sentAt": "2026-01-01T00:00:01.000Z"})
        headers["Authorization"] = auths[n // batch_size % len(auths)]
        connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
        try:
            connection.request("POST", "/v1/batch", body, headers)
            response = connection.getresponse()
            data = response.read()
            ok = response.status == 200
        except OSError:
            ok = False
        finally:
            connection.close()
        done = time.perf_counter()
        if done < measure_from:
            continue
        if ok:
            accepted += orjson.loads(data).get("accepted", batch_size)
            latencies.append(done - sent)
        else:
            errors += 1
    results.put((accepted, errors, latencies))


def run_load(url, write_key, processes, duration, warmup=2.0, rate=None, batch_size=100):
    results = multiprocessing.Queue()
    run = f"r{time.time_ns()}"
    per_process = rate / processes if rate else None
    workers = [
        multiprocessing.Process(
            target=drive,
            args=(url, write_key, batch_size, duration, warmup, per_process, i, run, results),
        )
        for i in range(processes)
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get() for _ in workers]
    for worker in workers:
        worker.join()
    latencies = sorted(lat for _, _, lats in outcomes for lat in lats)
    accepted = sum(a for a, _, _ in outcomes)
    return {
        "events_per_s": accepted / duration,
        "requests_per_s": len(latencies) / duration,
        "errors": sum(e for _, e, _ in outcomes),
        "p50_ms": _percentile(latencies, 50),
        "p90_ms": _percentile(latencies, 90),
        "p99_ms": _percentile(latencies, 99),
    }


def _percentile(sorted_values, p) -> float:
    if not sorted_values:
        return float("nan")
    if len(sorted_values) == 1:
        return sorted_values[0] * 1000
    return statistics.quantiles(sorted_values, n=100, method="inclusive")[p - 1] * 1000


def report(label: str, result: dict) -> None:
    print(
        f"{label:<28} {result['events_per_s']:>9,.0f} events/s "
        f"({result['requests_per_s']:,.0f} req/s)  p50 {result['p50_ms']:.1f} ms  "
        f"p90 {result['p90_ms']:.1f} ms  p99 {result['p99_ms']:.1f} ms  errors {result['errors']}",
        flush=True,
    )


def bench_source() -> str:
    """Migrates, loads the catalog if needed, and creates a fresh source; returns its write key."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segapp.settings")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.core.management import call_command

    from catalog.models import SourceMetadata
    from connections.sources import create_source
    from segapp.models import Workspace
    from segapp.workspaces import create_workspace

    call_command("migrate", verbosity=0)
    if not SourceMetadata.objects.filter(slug="http-api").exists():
        call_command("load_catalog", verbosity=0)
    workspace = Workspace.objects.filter(slug="bench").first()
    if workspace is None:
        from segapp.models import User

        owner, _ = User.objects.get_or_create(email="bench@segapp.local")
        workspace = create_workspace(owner, "Bench")
    metadata = SourceMetadata.objects.get(slug="http-api")
    source = create_source(workspace, metadata, None, name=f"Bench {time.time_ns()}")
    key = source.write_keys.get().key
    from django.db import connections

    connections.close_all()  # no connection may cross the fork into the load processes
    return key


def serve(app: str, port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    args = [sys.executable, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}"]
    args += ["--workers", str(workers), "--log-level", "warning"]
    proc = subprocess.Popen(args, cwd=REPO, env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("OPTIONS", "/v1/batch")
            connection.getresponse().read()
            connection.close()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit(f"{app} did not start on port {port}")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(20)


def compare(args) -> None:
    if not (os.environ.get("DATABASE_URL", "").startswith("postgres")):
        raise SystemExit("--compare needs DATABASE_URL=postgres://… and CELERY_BROKER_URL")
    key = bench_source()
    print(
        f"{os.cpu_count()} CPUs; gunicorn --workers {args.web_workers}; {args.processes} load "
        f"processes; {args.duration:.0f}s per phase; 100 messages per request",
        flush=True,
    )
    port = 18000 + os.getpid() % 1000
    url = f"http://127.0.0.1:{port}"

    web = serve("segapp.wsgi", port, args.web_workers)
    try:
        full = run_load(url, key, args.processes, args.duration)
        report("segapp, full load", full)
    finally:
        stop(web)
    baseline_server = serve("bench.baseline_copy:application", port, args.web_workers)
    try:
        baseline = run_load(url, key, args.processes, args.duration)
        report("baseline (WSGI + COPY)", baseline)
    finally:
        stop(baseline_server)
    web = serve("segapp.wsgi", port, args.web_workers)
    try:
        half = run_load(url, key, args.processes, args.duration, rate=full["events_per_s"] / 2)
        report("segapp, half load", half)
    finally:
        stop(web)
    from segapp.celery import app

    app.control.purge()  # the routing tasks no worker took during the run
    ratio = full["events_per_s"] / baseline["events_per_s"]
    print(f"segapp / baseline: {ratio:.0%} (budget ≥ 80%); p99 at half load {half['p99_ms']:.1f} ms"
          " (budget < 50 ms)")  # fmt: skip


# Field discovery beside ingest (``--discovery``).

DISCOVERY_QUEUE = "bench-discovery"


def _sources(count: int) -> list[str]:
    """``count`` fresh bench sources (the first one sets the database up); their write keys."""
    keys = [bench_source()]
    from catalog.models import SourceMetadata
    from connections.sources import create_source
    from segapp.models import Workspace

    workspace = Workspace.objects.get(slug="bench")
    metadata = SourceMetadata.objects.get(slug="http-api")
    for i in range(count - 1):
        source = create_source(workspace, metadata, None, name=f"Bench {time.time_ns()} {i}")
        keys.append(source.write_keys.get().key)
    from django.db import connections

    connections.close_all()  # no connection may cross the fork into the load processes
    return keys


def _session_cpu(session: int) -> float:
    """CPU seconds so far of every process in ``session`` (a worker and its pool)."""
    total = 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[3]) == session:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _sweep_runs(log: Path) -> list[dict]:
    """What each acting discovery run logged (``delivery.tasks.discover_fields``), with its
    duration from the task line that follows it (the worker runs one task at a time)."""
    runs = []
    for line in log.read_text(errors="replace").splitlines():
        if '"fields discovered"' in line:
            runs.append(orjson.loads(line))
        elif runs and '"duration_ms"' in line and "discover_fields" in line:
            runs[-1].setdefault("duration_ms", orjson.loads(line)["duration_ms"])
    return runs


class SweepSender:
    """Sends the discovery sweep's task to the bench worker's queue every second while on; the
    sweep's own lease lets it act once per its interval (``settings.SWEEPS``), as in a deployment."""

    def __init__(self):
        import threading

        from segapp.celery import app

        self.app, self.on, self.stopping = app, threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._send, daemon=True)
        self.thread.start()

    def _send(self):
        while not self.stopping.wait(1.0):
            if self.on.is_set():
                self.app.send_task("delivery.tasks.discover_fields", queue=DISCOVERY_QUEUE)

    def stop(self):
        self.stopping.set()
        self.thread.join()


def discovery(args) -> None:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("--discovery needs DATABASE_URL=postgres://… and CELERY_BROKER_URL")
    import tempfile

    from django.conf import settings

    keys = ",".join(_sources(args.sources))
    interval = settings.SWEEPS["delivery.tasks.discover_fields"]
    print(
        f"{os.cpu_count()} CPUs; gunicorn --workers {args.web_workers}; {args.processes} load "
        f"processes; {args.duration:.0f}s per phase, {args.rounds} rounds; 100 messages per "
        f"request over {args.sources} sources; discovery every {interval}s in a worker",
        flush=True,
    )
    log = Path(tempfile.mkstemp(prefix="bench-discovery-", suffix=".log")[1])
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "segapp", "worker", "-Q", DISCOVERY_QUEUE,
         "--concurrency", "1", "--loglevel", "INFO", "--without-mingle", "--without-gossip"],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=log.open("w"),
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    port = 18000 + os.getpid() % 1000
    url = f"http://127.0.0.1:{port}"
    web = serve("segapp.wsgi", port, args.web_workers)
    sender = SweepSender()
    rates = {False: [], True: []}
    cpu = {False: 0.0, True: 0.0}
    try:
        time.sleep(5)  # the worker is up and its ticker running
        for round_ in range(1, args.rounds + 1):
            for on in (False, True):
                (sender.on.set if on else sender.on.clear)()
                before = _session_cpu(worker.pid)
                result = run_load(url, keys, args.processes, args.duration)
                cpu[on] += _session_cpu(worker.pid) - before
                rates[on].append(result["events_per_s"])
                report(f"{'with' if on else 'without'} discovery, round {round_}", result)
    finally:
        sender.stop()
        stop(web)
        worker.terminate()
        worker.wait(30)
    from segapp.celery import app

    app.control.purge()  # the routing tasks and sweeps no worker took during the run
    runs = _sweep_runs(log)
    log.unlink()
    without, with_ = (statistics.mean(rates[on]) for on in (False, True))
    # Each round's two phases ran back to back: their ratio is the least disturbed by whatever
    # else the machine was doing meanwhile.
    paired = statistics.median(w / wo for wo, w in zip(rates[False], rates[True], strict=True))
    seconds = args.rounds * args.duration
    read = sum(r.get("events", 0) for r in runs)
    took = [r["duration_ms"] for r in runs if r.get("duration_ms") is not None]
    print(f"discovery ran {len(runs)} times, read {read:,} events, "
          f"{statistics.mean(took) if took else float('nan'):,.0f} ms a run; its worker used "
          f"{cpu[True]:.1f} CPU s in {seconds:.0f}s with discovery ({cpu[True] / seconds:.1%} of a "
          f"core), {cpu[False]:.1f} CPU s without")  # fmt: skip
    print(f"ingest without discovery {without:,.0f} events/s, with {with_:,.0f} events/s: "
          f"with / without {with_ / without:.3f}, median of the rounds' ratios {paired:.3f} "
          "(budget ≥ 0.95)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running server, e.g. http://127.0.0.1:8000")
    parser.add_argument("--write-key")
    parser.add_argument("--compare", action="store_true", help="run the full comparison here")
    parser.add_argument("--processes", type=int, default=6, help="load-generating processes")
    parser.add_argument("--duration", type=float, default=15, help="seconds measured per phase")
    parser.add_argument("--rate", type=float, help="target events/s (default: as fast as it goes)")
    parser.add_argument("--web-workers", type=int, default=4, help="gunicorn workers (--compare)")
    parser.add_argument("--discovery", action="store_true", help="ingest with and without field discovery")  # fmt: skip
    parser.add_argument("--sources", type=int, default=40, help="sources the load is spread over (--discovery)")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=2, help="rounds without and with (--discovery)")  # fmt: skip
    args = parser.parse_args()
    if args.compare:
        compare(args)
    elif args.discovery:
        discovery(args)
    elif args.url and args.write_key:
        host = urllib.parse.urlsplit(args.url).hostname
        if host not in ("127.0.0.1", "localhost"):
            raise SystemExit("the benchmark only drives servers on 127.0.0.1")
        report(
            "load",
            run_load(args.url, args.write_key, args.processes, args.duration, rate=args.rate),
        )
    else:
        parser.error("give --url and --write-key, --compare or --discovery")


if __name__ == "__main__":
    main()
