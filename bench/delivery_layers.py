"""Where one delivered event's time goes, step by step (issue 18: profile before you change).

Runs in one process on ``DATABASE_URL`` (no Celery, no HTTP server of Segapp's): stores
``--batches`` batches of 100 events through Django's test client, routes them, then runs each
job's delivery task in this process against nginx answering 200 (as ``bench/delivery.py``),
timing the steps of ``delivery.deliveries`` one by one::

    python bench/delivery_layers.py [--batches 20]

Each step's time is wrapped around the function that does it, so nested steps (``send`` within
``request chain``) are included in their parent's line; "other" is what no step covers.
"""

import argparse
import base64
import importlib.util
import sys
import time
from collections import Counter
from functools import wraps
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from ingest import bench_source  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_delivery", HERE / "delivery.py")
bench_delivery = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_delivery)

# (module, function, label): what is timed, outermost first.
STEPS = [
    ("delivery.deliveries", "claim", "claim the job"),
    ("delivery.deliveries", "_breaker_wait", "breaker check"),
    ("delivery.deliveries", "adapter_of", "adapter and settings"),
    ("delivery.deliveries", "build", "build requests"),
    ("delivery.deliveries", "_chain", "request chain (send + read answer)"),
    ("delivery.sender", "_exchange", "  of which HTTP exchange"),
    ("delivery.progress", "_note", "note the acknowledgement"),
    ("delivery.deliveries", "_update_breaker", "breaker update"),
    ("delivery.deliveries", "_finish", "finish (job row, counters)"),
    ("delivery.deliveries", "_waiting_for_a_slot", "hand the slot on"),
]


def timed(totals: Counter, label: str, function):
    @wraps(function)
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            totals[label] += time.perf_counter() - started

    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=20)
    args = parser.parse_args()
    nginx = bench_delivery.Nginx()
    try:
        key = bench_source()
        bench_delivery.add_instances(key, 1, nginx.url)
        from django.conf import settings
        from django.test import Client

        from connections.models import WriteKey
        from delivery import tasks
        from delivery.models import DeliveryJob, IngestBatch

        settings.EGRESS_ALLOW_PRIVATE = True
        settings.ALLOWED_HOSTS = ["*"]
        auth = {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}
        client = Client()
        for n in range(args.batches):
            batch = [{"type": "track", "event": "Bench", "userId": f"u{n}-{i}"} for i in range(100)]
            response = client.post("/v1/batch", orjson.dumps({"batch": batch}),
                                   "application/json", headers=auth)  # fmt: skip
            assert response.status_code == 200, response.content
        source_id = WriteKey.objects.get(key=key).source_id
        for batch_id in IngestBatch.objects.filter(source_id=source_id).values_list(
            "pk", flat=True
        ):
            tasks.route_batch.run(batch_id)
        jobs = list(DeliveryJob.objects.filter(source_id=source_id).values_list("pk", flat=True))

        totals: Counter = Counter()
        for module_name, name, label in STEPS:
            try:
                module = importlib.import_module(module_name)
            except ImportError:  # steps an older release does not have are left out
                continue
            if hasattr(module, name):
                setattr(module, name, timed(totals, label, getattr(module, name)))
        started = time.perf_counter()
        for job_id in jobs:
            tasks.deliver_job.run(job_id)
        elapsed = time.perf_counter() - started
    finally:
        nginx.close()
    events = len(jobs) * 100
    print(f"{events:,} events in {elapsed:.2f}s: {events / elapsed:,.0f} events/s in one process,")
    print(f"{elapsed / events * 1e6:.0f} µs per delivered event, of which:")
    covered = 0.0
    for _, _, label in STEPS:
        if label in totals:
            print(f"  {totals[label] / events * 1e6:6.0f} µs  {label}")
            if not label.startswith("  "):
                covered += totals[label]
    print(
        f"  {(elapsed - covered) / events * 1e6:6.0f} µs  other (events read, transformed, verdicts)"
    )


if __name__ == "__main__":
    main()
