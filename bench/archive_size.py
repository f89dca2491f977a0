"""Disk per million events: stores analytics.js-sized track events through the real archive path
and reports what the archive tables grew by, scaled to one million events.

Needs ``DATABASE_URL`` (a scratch PostgreSQL database: it migrates it and adds a workspace) and
``CELERY_BROKER_URL``; no server or worker is started::

    createdb -h 127.0.0.1 -U postgres segapp_size
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/segapp_size CELERY_BROKER_URL=redis://127.0.0.1:6379/14 \\
      SEGAPP_SECRET_KEY=bench python bench/archive_size.py [--events 100000]

Each request of 100 messages goes through ``intake.accept`` (what ``/v1/batch`` calls after
reading the body), then ``routing.route_batch`` to one enabled Webhooks instance, as a worker
would. Jobs are measured as routing leaves them (their events still owed, the largest a job row
gets); nothing is sent. The counter tables are left out: they grow by the minute, per source and
instance, whatever the traffic. Sizes are ``pg_total_relation_size`` (table, TOAST and indexes).
"""

import argparse
import os
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parent.parent
TABLES = [
    "delivery_event",
    "delivery_ingestbatch",
    "delivery_deliveryjob",
    "delivery_seenmessage",
]  # the counters grow per minute and instance, not per event
BATCH = 100


def track(n: int, now: str) -> dict:
    """A track call as analytics.js (analytics-next) sends it: Segment's "Product Added" spec
    properties, the page context and the browser's user agent."""
    return {
        "type": "track",
        "event": "Product Added",
        "properties": {
            "product_id": "507f1f77bcf86cd799439011",
            "sku": "G-32",
            "category": "Games",
            "name": "Monopoly: 3rd Edition",
            "brand": "Hasbro",
            "variant": "200 pieces",
            "price": 18.99,
            "quantity": 1,
            "coupon": "MAYDEALS",
            "position": 3,
            "url": "https://www.example.com/product/path",
            "image_url": "https://www.example.com/product/path.jpg",
        },
        "anonymousId": str(uuid.uuid4()),
        "userId": f"user-{n % 50000}",
        "messageId": f"ajs-next-{uuid.uuid4().hex}",
        "timestamp": now,
        "context": {
            "library": {"name": "analytics.js", "version": "npm:next-1.70.0"},
            "page": {
                "path": "/product/path",
                "referrer": "https://www.google.com/",
                "search": "",
                "title": "Monopoly: 3rd Edition - Example Store",
                "url": "https://www.example.com/product/path",
            },
            "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
            "userAgentData": {
                "brands": [
                    {"brand": "Not_A Brand", "version": "8"},
                    {"brand": "Chromium", "version": "120"},
                    {"brand": "Google Chrome", "version": "120"},
                ],
                "mobile": False,
                "platform": "Windows",
            },
            "locale": "en-US",
            "timezone": "Europe/Paris",
        },
        "integrations": {},
    }


def setup():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segapp.settings")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.core.management import call_command

    from catalog.models import DestinationMetadata, SourceMetadata
    from connections.instances import create_instance
    from connections.sources import create_source
    from segapp.models import User
    from segapp.workspaces import create_workspace

    call_command("migrate", verbosity=0)
    owner, _ = User.objects.get_or_create(email="bench@segapp.local")
    workspace = create_workspace(owner, f"Size {time.time_ns()}")
    source = create_source(workspace, SourceMetadata.objects.get(slug="javascript"), None)
    create_instance(
        source,
        DestinationMetadata.objects.get(slug="webhooks"),
        None,
        settings={"webhookUrls": ["http://127.0.0.1:9/hook"]},  # never called: nothing is sent
        enabled=True,
    )
    return source


def sizes() -> dict[str, int]:
    from django.db import connection

    # A partitioned table's own size is nothing: its partitions hold the rows.
    found = {}
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(
                "SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree(%s)", [table]
            )
            found[table] = int(cursor.fetchone()[0] or 0)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    source = setup()

    from django.db import connection

    from delivery import routing
    from delivery.ingest import intake, parse
    from delivery.models import IngestBatch
    from segapp.celery import app

    assert connection.vendor == "postgresql", "measure on PostgreSQL (set DATABASE_URL)"
    ref = parse.SourceRef(source.pk, source.workspace_id)
    before = sizes()
    first_batch = IngestBatch.objects.order_by("-id").values_list("id", flat=True).first() or 0
    started = time.perf_counter()
    payload_bytes = 0
    for start in range(0, args.events, BATCH):
        now = datetime.now(UTC).isoformat()
        body = {"batch": [track(n, now) for n in range(start, min(start + BATCH, args.events))]}
        raw = orjson.dumps(body)
        payload_bytes += len(raw)
        outcome = intake.accept(
            ref, body, body_size=len(raw), single_type=None, received_at=datetime.now(UTC),
            ip="203.0.113.7",
        )  # fmt: skip
        assert outcome.accepted == len(body["batch"]), outcome.as_json()
        routing.route_batch(outcome.batch_id)
    elapsed = time.perf_counter() - started
    app.control.purge()  # the routing tasks intake queued; routing ran here instead
    after = sizes()
    batches = IngestBatch.objects.filter(id__gt=first_batch).count()

    print(f"{args.events:,} events in {batches:,} requests of {BATCH} ({elapsed:.0f} s);")
    print(f"request body {payload_bytes / args.events:,.0f} bytes per event (JSON)")
    scale = 1_000_000 / args.events
    total = 0
    for table in TABLES:
        grown = (after.get(table, 0) - before.get(table, 0)) * scale
        total += grown if table != "delivery_seenmessage" else 0
        print(f"{table:<28} {grown / 2**20:>9,.0f} MiB per million events")
    print(f"{'archive (without seenmessage)':<28} {total / 2**20:>9,.0f} MiB per million events")
    print("delivery_seenmessage holds the last 24 hours only: count it per million events a day.")


if __name__ == "__main__":
    main()
