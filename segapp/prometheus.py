"""Prometheus metrics at ``/metrics``.

Counters and histograms are kept by each process (``prometheus-client``); with
``PROMETHEUS_MULTIPROC_DIR`` set for gunicorn and the Celery workers of a machine, a scrape adds up
all of that machine's processes. Gauges that describe the whole deployment (backlogs, dead
letters, breakers, sweeps) are read from the database at scrape time by collectors the apps
register here, so any web process answers them alike.

The endpoint answers a bearer token (``SEGAPP_METRICS_TOKEN``), or, with no token set, clients on
this machine only.
"""

import hmac
import os
import time

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

LOOPBACK = {"127.0.0.1", "::1"}

HTTP_REQUESTS = Counter(
    "segapp_http_requests",
    "HTTP requests answered, by surface (tracking, api, console) and status code",
    ["surface", "status"],
)
HTTP_DURATION = Histogram(
    "segapp_http_request_duration_seconds",
    "Time to answer an HTTP request, by surface; tracking is the ingest latency",
    ["surface"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

_collectors: list = []


def register_collector(collector) -> None:
    """Adds a scrape-time collector (an object with ``collect()``) to every scrape."""
    _collectors.append(collector)


def surface(path: str) -> str:
    if path.startswith("/v1/"):
        return "tracking"
    if path.startswith("/api/"):
        return "api"
    if path.startswith(("/static/", "/healthz", "/readyz", "/metrics")):
        return "infrastructure"
    return "console"


def observe_request(path: str, status: int, started: float) -> None:
    kind = surface(path)
    HTTP_REQUESTS.labels(kind, str(status)).inc()
    HTTP_DURATION.labels(kind).observe(time.perf_counter() - started)


class SweepCollector:
    def collect(self):
        from segapp import sweeps
        from segapp.models import Sweep

        now = timezone.now()
        age = GaugeMetricFamily(
            "segapp_sweep_age_seconds",
            "Seconds since each periodic sweep last finished (-1: never)",
            labels=["sweep"],
        )
        finished = dict(
            Sweep.objects.filter(name__in=settings.SWEEPS).values_list("name", "last_finished_at")
        )
        for name in settings.SWEEPS:
            at = finished.get(name)
            age.add_metric([name], (now - at).total_seconds() if at else -1)
        yield age
        yield GaugeMetricFamily(
            "segapp_workers_live", "Celery workers with a recent heartbeat",
            value=len(sweeps.live_workers(now)),
        )  # fmt: skip


register_collector(SweepCollector())


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_Default())
    for collector in _collectors:
        registry.register(collector)
    return registry


class _Default:
    """This process's own metrics, when processes do not share a metrics folder."""

    def collect(self):
        yield from REGISTRY.collect()


def _allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        sent = request.headers.get("Authorization", "")
        return hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())
    # Not X-Forwarded-For: a proxy in front would make every client look local.
    return request.META.get("REMOTE_ADDR") in LOOPBACK


def metrics_view(request):
    if not _allowed(request):
        return HttpResponse(
            "Forbidden: send the metrics token\n", status=403, content_type="text/plain"
        )
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
