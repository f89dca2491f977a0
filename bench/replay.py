"""Replay benchmark: live traffic's delivery latency from ``receivedAt`` with and without a replay
of archived events running beside it, and the replay's throughput (DESIGN §7: replay throttled
beside live traffic; target: live p99 within 1.5 times while replaying).

Needs ``DATABASE_URL`` and ``CELERY_BROKER_URL`` (PostgreSQL and Redis on this machine, a scratch
database of its own), ``SEGAPP_ENDPOINT_EXTRA_HOSTS=127.0.0.1`` (the sinks' address) and
``SEGAPP_EGRESS_ALLOW_PRIVATE=1``; starts gunicorn, a Celery worker and two Python sinks itself,
all on 127.0.0.1, and stops them on the way out, Ctrl-C and SIGTERM included::

    python bench/replay.py [--events 50000] [--replay-rate N] [--live-rate N] [--seconds 30]

Setup: a workspace on the Business plan, a source, Webhooks instance A for live traffic and
instance B for the replay, each sending to a sink in a process of its own (so that B's load never
queues A's arrivals behind one interpreter lock); B drops the live traffic by a filter, so the
two kinds of delivery stay apart. ``--events`` events are archived through the tracking API's
intake as if received ``--days-back`` days ago, 100 a batch, and routed before A and B exist.

Phases, one after the other:

0. **Most**: ``--capacity-events`` events at once through ``/v1/batch`` (100 a request) to A:
   events/s until the last arrives. The live rate is half of it unless ``--live-rate`` says.
1. **Live alone**: the live rate for ``--seconds``, paced; p50/p95/p99 from ``receivedAt`` to
   arrival at A's sink, and the cores busy meanwhile by kind of process (``cpu.py``).
2. **Live + replay**: a replay of the archived range to B at ``--replay-rate`` events/s
   (``settings.REPLAY_RATE`` unless given) through ``delivery.replays``, and once B receives, the
   same live traffic for the same time: A's latency again, and the replay's events/s over the
   phase from its row's ``sent`` and at B's sink. The replay is cancelled after the phase; it
   must outlast it (``--events`` at least rate times seconds), or the run says so. Once the worker
   has stopped, the replay's ``sent`` and B's arrivals must be equal.

A Python sink answers about 2,000 requests/s here, so replay rates near that measure the sink.
The CPU shares count every process on the box: others' work on it shows as ``other``, the sinks
and the load as ``benchmark``.
"""

import argparse
import multiprocessing
import os
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

# The repository on the path, to import bench/delivery.py as ``bench.delivery``: as plain
# ``delivery`` it would hide the app of that name.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from cpu import CpuShare
from ingest import bench_source, message, serve, stop

from bench.delivery import (
    BATCH,
    PythonSink,
    add_instances,
    free_port,
    percentile,
    refuse_a_backlog,
    send_events,
    start_worker,
    stop_worker,
    wait_for,
)

WEB_WORKERS = 2


def _serve_sink(commands) -> None:
    """A sink's process: answers ``count`` and ``take`` (the latencies since the last take)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the benchmark stops it, also after Ctrl-C
    sink = PythonSink()
    commands.send(sink.url)
    while True:
        command = commands.recv()
        with sink.lock:
            if command == "take":
                commands.send(sink.latencies)
                sink.latencies = []
            else:
                commands.send(len(sink.latencies))


class SinkProcess:
    """A ``PythonSink`` in a process of its own, forked before Django opens any connection."""

    def __init__(self):
        fork = multiprocessing.get_context("fork")
        self._commands, theirs = fork.Pipe()
        self.process = fork.Process(target=_serve_sink, args=(theirs,), daemon=True)
        self.process.start()
        self.url = self._commands.recv()

    def count(self) -> int:
        self._commands.send("count")
        return self._commands.recv()

    def take(self) -> list[float]:
        """The latencies (ms) of the arrivals since the last take."""
        self._commands.send("take")
        return self._commands.recv()

    def close(self) -> None:
        self.process.terminate()
        self.process.join(5)


def archive_history(source, events: int, received_at: datetime) -> None:
    """Archives ``events`` events through the tracking API's intake, 100 a batch and one batch a
    second from ``received_at`` on, and routes them here and now, while no instance would get
    them (the queued routing tasks then find them routed)."""
    from django.db import transaction

    from delivery import routing
    from delivery.ingest import intake, parse
    from segapp.celery import app

    ref = parse.SourceRef(source.pk, source.workspace_id)
    run = f"history-{time.time_ns()}"
    batch_ids = []
    for first in range(0, events, BATCH):
        body = {"batch": [message(n, run) for n in range(first, min(events, first + BATCH))]}
        with transaction.atomic():
            outcome = intake.accept(
                ref, body, body_size=len(orjson.dumps(body)), single_type=None,
                received_at=received_at + timedelta(seconds=len(batch_ids)), ip="127.0.0.1",
            )  # fmt: skip
        batch_ids.append(outcome.batch_id)
    for batch_id in batch_ids:
        routing.route_batch(batch_id)
    app.control.purge()  # those routing tasks: nothing left for them to do


def set_up(args, live_url: str, replay_url: str) -> dict:
    """The Business workspace's source with its archive, and instances A (live) and B (replay)."""
    key = bench_source()  # migrates
    refuse_a_backlog()
    from django.db import connections

    from connections.filters import create_filter
    from connections.models import WriteKey
    from segapp.models import Plan, Workspace

    source = WriteKey.objects.select_related("source").get(key=key).source
    Workspace.objects.filter(pk=source.workspace_id).update(plan=Plan.BUSINESS)
    history_from = datetime.now(UTC) - timedelta(days=args.days_back)
    started = time.monotonic()
    archive_history(source, args.events, history_from)
    took = time.monotonic() - started
    print(f"archived {args.events:,} events through the intake in {took:.1f} s", flush=True)
    add_instances(key, 1, live_url, name="Live")
    (target,) = add_instances(key, 1, replay_url, name="Replay")
    # The live traffic (``send_events``: "Bench") goes to A only, so that the replay's
    # deliveries and the live ones stay apart (the archive's are "Order Completed").
    create_filter(target, None, title="No live traffic", condition='event = "Bench"',
                  actions=[{"type": "DROP"}])  # fmt: skip
    connections.close_all()
    return {"key": key, "target": target, "history_from": history_from}


def capacity(base: str, key: str, sink: SinkProcess, events: int) -> float:
    """Events/s the box delivers to the live instance: ``events`` sent at once, until the last
    arrives. Also the run's warm-up."""
    sink.take()
    started = time.monotonic()
    send_events(base, key, events)
    while sink.count() < events and time.monotonic() < started + 120:
        time.sleep(0.02)
    return sink.count() / (time.monotonic() - started)


def live_traffic(base: str, key: str, sink: SinkProcess, rate: float, seconds: float,
                 observe=lambda: None) -> dict:  # fmt: skip
    """Sends ``rate`` events/s for ``seconds``, calling ``observe`` every second meanwhile, then
    waits for them at the sink: their latencies, and the cores busy while they were sent."""
    events = int(rate * seconds)
    sink.take()  # what arrived before this phase is not its own
    with CpuShare() as cpu, ThreadPoolExecutor(1) as pool:
        started = time.monotonic()
        sending = pool.submit(send_events, base, key, events, rate)
        observe()
        while not sending.done():
            time.sleep(1)
            observe()
        sending.result()
        elapsed = time.monotonic() - started
    wait_for(sink.count, events, timeout=120)
    latencies = sink.take()
    percentiles = {f"p{p}": percentile(latencies, p) for p in (50, 95, 99)}
    return {"events": events, "arrived": len(latencies), "cpu": cpu.cores(elapsed), **percentiles}


def start_replay(setup: dict, rate: int):
    """A replay of the whole archived range to instance B, its first slice queued."""
    from delivery import replays, tasks

    start = setup["history_from"] - timedelta(minutes=1)
    replay = replays.start_replay(setup["target"], None, start=start,
                                  end=start + timedelta(days=1), rate=rate)  # fmt: skip
    tasks.queue_replay(replay.pk)
    return replay


def replay_throughput(samples: list[tuple]) -> dict:
    """Events/s from the replay row's ``sent`` and at B's sink, over the samples (time, sent,
    status, arrived at B) up to the first that found the replay finished."""
    from delivery.models import UNFINISHED_REPLAY

    end = next((i for i, s in enumerate(samples) if s[2] not in UNFINISHED_REPLAY), None)
    window = samples if end is None else samples[: end + 1]
    (t0, sent0, _, arrived0), (t1, sent1, _, arrived1) = window[0], window[-1]
    seconds = max(t1 - t0, 1e-9)
    return {"sent": sent1 - sent0, "seconds": seconds, "sent_per_s": (sent1 - sent0) / seconds,
            "arrived_per_s": (arrived1 - arrived0) / seconds, "outlasted": end is None}  # fmt: skip


def live_and_replay(base: str, setup: dict, sinks: dict, args) -> tuple[dict, dict]:
    """Phase 2: the live traffic again, once the replay has begun to arrive at B."""
    from delivery import replays
    from delivery.models import Replay

    replay = start_replay(setup, args.replay_rate)
    wait_for(sinks["target"].count, 1, timeout=30)
    if not sinks["target"].count():
        raise SystemExit("the replay sent nothing to instance B within 30 s")
    samples = []

    def observe():
        row = Replay.objects.values_list("sent", "status").get(pk=replay.pk)
        samples.append((time.monotonic(), *row, sinks["target"].count()))

    live = live_traffic(base, setup["key"], sinks["live"], args.live_rate, args.seconds, observe)
    cancelled = not Replay.objects.get(pk=replay.pk).is_finished
    if cancelled:
        replays.cancel_replay(replay, None)  # the worker would go on sending it while it stops
    return live, {"id": replay.pk, "cancelled": cancelled, **replay_throughput(samples)}


def settled(replay_id: str, sink: SinkProcess) -> dict:
    """What the replay counts as sent in all, and what B's sink received: read once the worker
    has stopped, they must be equal (more at the sink would be events sent twice)."""
    from delivery.models import Replay

    replay = Replay.objects.get(pk=replay_id)
    return {"total": replay.total, "sent_in_all": replay.sent, "received_in_all": sink.count()}


def report_live(label: str, result: dict) -> None:
    print(
        f"{label}: {result['arrived']:,}/{result['events']:,} arrived; latency from receivedAt"
        f" p50 {result['p50']:.0f} ms, p95 {result['p95']:.0f} ms, p99 {result['p99']:.0f} ms",
        flush=True,
    )
    print(f"  {result['cpu']}", flush=True)


def report_replay(args, replay: dict) -> None:
    ended = "cancelled after the phase" if replay["cancelled"] else "finished"
    print(
        f"replay: {replay['sent']:,} events sent in {replay['seconds']:.1f} s ="
        f" {replay['sent_per_s']:,.0f} events/s (rate asked {args.replay_rate:,}),"
        f" {replay['arrived_per_s']:,.0f} events/s at B's sink; {ended}:"
        f" {replay['sent_in_all']:,}/{replay['total']:,} sent in all,"
        f" {replay['received_in_all']:,} received at B's sink",
        flush=True,
    )
    if not replay["outlasted"]:
        print("  the replay finished before the live traffic did: raise --events")


def report_ratio(args, most: float, alone: dict, replaying: dict) -> None:
    asked = args.live_rate + args.replay_rate
    print(f"live + replay rates asked: {asked:,.0f} events/s = {asked / most:.0%} of the most"
          " delivered to one instance")  # fmt: skip
    ratio = replaying["p99"] / alone["p99"]
    verdict = "within" if ratio <= 1.5 else "beyond"
    print(f"live p99 while replaying / alone: {ratio:.2f} ({verdict} the 1.5 target)")


def _stop_on_sigterm(signum, frame):
    raise SystemExit(128 + signum)  # through every ``finally`` that stops a process


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50_000, help="archived events to replay")
    parser.add_argument("--days-back", type=float, default=3, help="when they were received")
    parser.add_argument("--live-rate", type=float, help="live events/s (default: half of most)")
    parser.add_argument("--capacity-events", type=int, default=10_000, help="to measure the most")
    parser.add_argument("--replay-rate", type=int, help="default: settings.REPLAY_RATE")
    parser.add_argument("--seconds", type=float, default=30, help="live traffic per phase")
    parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes")
    return parser.parse_args()


def main() -> None:
    args = arguments()
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    sinks = {"live": SinkProcess(), "target": SinkProcess()}
    worker = web = None
    try:
        setup = set_up(args, sinks["live"].url, sinks["target"].url)
        from django.conf import settings

        args.replay_rate = args.replay_rate or settings.REPLAY_RATE
        print(f"{os.cpu_count()} CPUs; worker --concurrency {args.concurrency}; gunicorn"
              f" --workers {WEB_WORKERS}; replay at {args.replay_rate:,} events/s"
              f" (REPLAY_WAITING_JOBS {settings.REPLAY_WAITING_JOBS})", flush=True)  # fmt: skip
        worker = start_worker(args.concurrency)
        port = free_port()
        web = serve("segapp.wsgi", port, WEB_WORKERS)
        base = f"http://127.0.0.1:{port}"
        most = capacity(base, setup["key"], sinks["live"], args.capacity_events)
        args.live_rate = args.live_rate or most / 2
        print(f"most delivered to the live instance ({args.capacity_events:,} events at once):"
              f" {most:,.0f} events/s; live traffic {args.live_rate:,.0f} events/s for"
              f" {args.seconds:.0f} s a phase", flush=True)  # fmt: skip
        alone = live_traffic(base, setup["key"], sinks["live"], args.live_rate, args.seconds)
        report_live("live alone", alone)
        replaying, replay = live_and_replay(base, setup, sinks, args)
        report_live("live + replay", replaying)
        stop_worker(worker)  # its jobs in flight finish, so the counts below settle
        worker = None
        report_replay(args, replay | settled(replay["id"], sinks["target"]))
        report_ratio(args, most, alone, replaying)
    finally:
        if web is not None:
            stop(web)
        if worker is not None:
            stop_worker(worker)
        for sink in sinks.values():
            sink.close()


if __name__ == "__main__":
    main()
