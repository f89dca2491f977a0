"""Console pages and Public API lists at size: server time and queries of each, for a workspace
of 200 sources and 2,000 destination instances whose main source has a million archived events
and a week of per-minute delivery counters (issue 18: < 100 ms each, queries that do not grow).

Needs ``DATABASE_URL`` (a scratch PostgreSQL database: it migrates it and fills it) and
``CELERY_BROKER_URL``; pages are asked for in this process through Django's test client, so the
times are the server's alone::

    createdb -h 127.0.0.1 -U postgres segapp_console
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/segapp_console \\
      CELERY_BROKER_URL=redis://127.0.0.1:6379/14 SEGAPP_SECRET_KEY=bench \\
      python bench/console_size.py [--events 1000000]

Rows are written in bulk (the operations that make them are tested elsewhere; here only their
number matters). The query counts against one source and one instance are in
``tests/connections/test_query_counts.py`` and ``tests/api/test_query_counts.py``.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOURCES, PER_SOURCE = 200, 10
BUDGET_MS = 100


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segapp.settings")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]


def fill(events: int):
    """The workspace, its sources, instances, a warehouse, archived events and counters."""
    from django.core.management import call_command
    from django.db import connection

    from catalog.models import DestinationMetadata, SourceMetadata
    from connections.instances import create_instance, set_enabled
    from connections.models import DestinationInstance, Source, WriteKey
    from connections.sources import create_source
    from delivery.models import LATENCY_FIELDS
    from segapp import tokens
    from segapp.models import Plan, Role, User
    from segapp.workspaces import create_workspace
    from warehouses import operations as warehouse_operations

    call_command("migrate", verbosity=0)
    if not SourceMetadata.objects.filter(slug="javascript").exists():
        call_command("load_catalog", verbosity=0)
    owner = User.objects.create_user(f"owner-{time.time_ns()}@segapp.local", "pw")
    workspace = create_workspace(owner, f"Size {time.time_ns()}", plan=Plan.BUSINESS)
    javascript = SourceMetadata.objects.get(slug="javascript")
    webhooks = DestinationMetadata.objects.get(slug="webhooks")
    main = create_source(workspace, javascript, owner, name="Main site")
    instance = set_enabled(
        create_instance(main, webhooks, owner, name="Main hook",
                        settings={"webhookUrls": ["https://hooks.example.com/in"]}),
        True, owner,
    )  # fmt: skip
    others = Source.objects.bulk_create(
        Source(workspace=workspace, metadata=javascript, name=f"Site {i}", slug=f"site-{i}")
        for i in range(SOURCES - 1)
    )
    WriteKey.objects.bulk_create(WriteKey(source=s) for s in others)
    DestinationInstance.objects.bulk_create(
        DestinationInstance(workspace=workspace, source=s, metadata=webhooks, name=f"Hook {n}")
        for s in [main, *others]
        for n in range(PER_SOURCE - (s is main))
    )
    warehouse = warehouse_operations.create_warehouse(
        workspace, DestinationMetadata.objects.get(slug="postgres"), owner,
        settings={"hostname": "warehouse.example.com", "port": 5432, "database": "analytics",
                  "username": "loader", "password": "secret", "sslMode": "require"},
    )  # fmt: skip
    with connection.cursor() as cursor:
        # Events of the main source, in batches of 100, over the last week.
        cursor.execute(
            "INSERT INTO delivery_event (source_id, batch_id, message_id, type, event_name,"
            " user_id, anonymous_id, timestamp, received_at, payload)"
            " SELECT %s, n / 100, 'm-' || n, 'track', 'Order ' || (n %% 20), 'u-' || (n %% 5000),"
            " '', now() - (n || ' seconds')::interval * 0.6, now() - (n || ' seconds')::interval"
            ' * 0.6, \'{"type": "track", "event": "Order", "properties": {}}\''
            " FROM generate_series(1, %s) AS n",
            [main.pk, events],
        )
        # A week of per-minute counters for every instance of the main source.
        cursor.execute(
            "INSERT INTO delivery_deliverycounter (instance_id, minute, outcome, reason, count,"
            f" latency_ms_sum, {', '.join(LATENCY_FIELDS)})"
            " SELECT i.id, date_trunc('minute', now()) - (m || ' minutes')::interval, 'delivered',"
            f" '', 100, 5000, {', '.join(['50'] * 2 + ['0'] * (len(LATENCY_FIELDS) - 2))}"
            " FROM connections_destinationinstance i, generate_series(0, 7 * 24 * 60) AS m"
            " WHERE i.source_id = %s",
            [main.pk],
        )
        cursor.execute("ANALYZE")
    _, raw = tokens.create_token(workspace, "bench", Role.OWNER, actor=None)
    return owner, workspace, main, instance, warehouse, raw


def measure(client, path: str, headers: dict, runs: int = 5) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(path, headers=headers)
    assert response.status_code == 200, (path, response.status_code)
    times = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            client.get(path, headers=headers)
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), len(queries.captured_queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    setup_django()
    from django.test import Client
    from django.urls import reverse

    started = time.perf_counter()
    owner, workspace, source, instance, warehouse, token = fill(args.events)
    print(f"{SOURCES} sources, {SOURCES * PER_SOURCE:,} instances, {args.events:,} events"
          f" (filled in {time.perf_counter() - started:.0f}s)", flush=True)  # fmt: skip
    ws, src, inst, wh = workspace.slug, source.pk, instance.pk, warehouse.pk
    pages = {
        "workspace overview": reverse("segapp:workspace-overview", args=[ws]),
        "settings": reverse("segapp:settings-general", args=[ws]),
        "members": reverse("segapp:member-list", args=[ws]),
        "tokens": reverse("segapp:token-list", args=[ws]),
        "audit trail": reverse("segapp:audit-trail", args=[ws]),
        "catalog: destinations": reverse("catalog:catalog", args=[ws, "destinations"]),
        "catalog: warehouses": reverse("catalog:catalog", args=[ws, "warehouses"]),
        "sources": reverse("connections:source-list", args=[ws]),
        "source": reverse("connections:source-detail", args=[ws, src]),
        "add destination to source": reverse("connections:source-add-destination", args=[ws, src]),
        "transformations": reverse("connections:transformations", args=[ws, src]),
        "destinations": reverse("connections:instance-list", args=[ws]),
        "destination": reverse("connections:instance-detail", args=[ws, inst]),
        "settings history": reverse("connections:instance-settings-history", args=[ws, inst]),
        "new destination: pick source": reverse("connections:instance-confirm-source", args=[ws, "webhooks"]),
        "debugger": reverse("delivery:debugger", args=[ws, src]),
        "delivery overview": reverse("delivery:delivery-overview", args=[ws, src]),
        "event delivery": reverse("delivery:event-delivery", args=[ws, inst]),
        "event tester": reverse("delivery:event-tester", args=[ws, inst]),
        "routing preview": reverse("delivery:routing-preview", args=[ws, src]),
        "warehouses": reverse("warehouses:list", args=[ws]),
        "warehouse": reverse("warehouses:detail", args=[ws, wh]),
    }  # fmt: skip
    lists = {
        "GET /api/sources": "/api/sources?pagination.count=200",
        "GET /api/destinations": "/api/destinations?pagination.count=200",
        "GET /api/sources/{id}/connected-destinations": f"/api/sources/{src}/connected-destinations?pagination.count=200",
        "GET /api/warehouses": "/api/warehouses?pagination.count=200",
        "GET /api/catalog/destinations": "/api/catalog/destinations?pagination.count=200",
        "GET /api/destination/{id}/filters": f"/api/destination/{inst}/filters?pagination.count=200",
    }  # fmt: skip
    console = Client()
    console.force_login(owner)
    api = Client()
    bearer = {"Authorization": f"Bearer {token}"}
    over = 0
    print(f"{'page or list':<46} {'ms':>7} {'queries':>8}")
    for label, path, client, headers in [
        *((label, path, console, {}) for label, path in pages.items()),
        *((label, path, api, bearer) for label, path in lists.items()),
    ]:
        ms, queries = measure(client, path, headers)
        over += ms >= BUDGET_MS
        flag = "" if ms < BUDGET_MS else f"  over {BUDGET_MS} ms"
        print(f"{label:<46} {ms:7.1f} {queries:8d}{flag}", flush=True)
    print(f"{over} of {len(pages) + len(lists)} over {BUDGET_MS} ms")


if __name__ == "__main__":
    main()
