"""Where one ``/v1/batch`` request's time goes, layer by layer (DESIGN §9: measure each layer).

Runs in one process on ``DATABASE_URL`` and ``CELERY_BROKER_URL`` (no HTTP, no concurrency), with
100-message batches like ``bench/ingest.py``::

    python bench/ingest_layers.py [--requests 300]

It times the steps of ``delivery.ingest`` one by one, then whole requests through Django's handler
with the tracking middleware and with the console's full middleware chain instead.
"""

import argparse
import base64
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import bench_source, message


def body(n: int, run: str) -> bytes:
    batch = [message(n * 100 + i, run) for i in range(100)]
    return orjson.dumps({"batch": batch, "sentAt": "2026-01-01T00:00:01.000Z"})


def steps(write_key: str, requests: int) -> dict[str, float]:
    from django.db import transaction

    from delivery import archive
    from delivery.ingest import parse
    from delivery.ingest.messages import Accepted, Arrival, prepare
    from delivery.tasks import queue_routing

    run = f"l{time.time_ns()}"
    bodies = [body(n, run) for n in range(requests)]
    timings: dict[str, list[float]] = {}

    def lap(name, started):
        now = time.perf_counter()
        timings.setdefault(name, []).append(now - started)
        return now

    for raw in bodies:
        t = time.perf_counter()
        data = orjson.loads(raw)
        envelope = parse.envelope(data, None, len(raw))
        t = lap("parse JSON and check limits", t)
        source = parse.source_for(write_key)
        t = lap("write key → source (1 query)", t)
        received_at = datetime.now(UTC)
        arrival = Arrival(received_at=received_at, ip="127.0.0.1", sent_at=envelope.sent_at)
        prepared = [prepare(m, i, arrival) for i, m in enumerate(envelope.messages)]
        accepted = [p for p in prepared if isinstance(p, Accepted)]
        t = lap("check and enrich 100 messages", t)
        with transaction.atomic():
            t = time.perf_counter()
            fresh = archive.claim_message_ids(source.id, accepted, received_at)
            t = lap("dedupe claim (INSERT … ON CONFLICT)", t)
            stored = archive.write_batch(source.id, received_at, fresh, 0, [])
            t = lap("batch row + events (COPY)", t)
        t = lap("commit", t)
        queue_routing(stored.batch_id)
        lap("publish the routing task", t)
    return {name: statistics.median(values) * 1000 for name, values in timings.items()}


def whole_requests(write_key: str, requests: int) -> dict[str, float]:
    from django.conf import settings
    from django.test import Client, override_settings

    auth = "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()
    shortcut = "delivery.ingest.middleware.TrackingApiMiddleware"
    chains = {
        "tracking middleware (production)": settings.MIDDLEWARE,
        "full console middleware chain": [m for m in settings.MIDDLEWARE if m != shortcut],
    }
    results = {}
    for label, middleware in chains.items():
        with override_settings(MIDDLEWARE=middleware):
            client = Client(HTTP_HOST="127.0.0.1")
            run = f"w{time.time_ns()}"
            bodies = [body(n, run) for n in range(requests)]
            durations = []
            for raw in bodies:
                started = time.perf_counter()
                response = client.post(
                    "/v1/batch", raw, content_type="application/json", HTTP_AUTHORIZATION=auth
                )
                durations.append(time.perf_counter() - started)
                assert response.status_code == 200, response.content
            results[label] = statistics.median(durations) * 1000
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    write_key = bench_source()
    print(f"median ms per 100-message request, over {args.requests} requests")
    for name, ms in steps(write_key, args.requests).items():
        print(f"  {name:<40} {ms:6.2f}")
    for name, ms in whole_requests(write_key, args.requests).items():
        print(f"  whole request, {name:<25} {ms:6.2f}")
    from segapp.celery import app

    app.control.purge()


if __name__ == "__main__":
    main()
