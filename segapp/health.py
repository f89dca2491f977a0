"""Liveness and readiness for load balancers and Kubernetes probes.

``/healthz`` says only that this process answers (no dependency is touched, so a database outage
does not get every web process restarted). ``/readyz`` runs the checks below, each with its own
time budget (django-health-check), and answers JSON: 200 when every check passes, 503 otherwise.
"""

import dataclasses
import datetime
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import async_to_sync
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from health_check.base import HealthCheck
from health_check.checks import Database
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView

from segapp import sweeps


def healthz(request):
    return JsonResponse({"status": "ok"})


@dataclasses.dataclass
class Broker(HealthCheck):
    """The Celery broker accepts a connection (the embedded filesystem broker always does)."""

    timeout = datetime.timedelta(seconds=3)

    def run(self):
        from segapp.celery import app

        try:
            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
        except Exception as exc:  # kombu raises its transports' own errors
            raise ServiceUnavailable(f"broker unreachable ({type(exc).__name__})") from None


@dataclasses.dataclass
class Migrations(HealthCheck):
    """Every migration of this release is applied (a web process started before ``migrate``)."""

    def run(self):
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            raise ServiceUnavailable("migrations not applied: run manage.py migrate")


@dataclasses.dataclass
class Catalog(HealthCheck):
    """The destination catalog is loaded (``migrate`` loads it)."""

    def run(self):
        from catalog.models import DestinationMetadata

        if not DestinationMetadata.objects.exists():
            raise ServiceUnavailable("the catalog is empty: run manage.py migrate")


@dataclasses.dataclass
class Sweeps(HealthCheck):
    """Retries and lost-task recovery are running: every sweep finished recently."""

    def run(self):
        if stopped := sweeps.late():
            names = ", ".join(name.rsplit(".", 1)[-1] for name, _ in stopped)
            raise ServiceUnavailable(f"sweeps stopped: {names}; is a Celery worker running?")


@dataclasses.dataclass
class Workers(HealthCheck):
    """At least one Celery worker has sent its heartbeat recently."""

    def run(self):
        if not sweeps.live_workers():
            raise ServiceUnavailable("no Celery worker heartbeat: start celery -A segapp worker")


class ReadinessView(HealthCheckView):
    checks = (Database, Broker, Migrations, Catalog, Sweeps, Workers)

    def render_to_response(self, context, **kwargs):
        # Probes and people alike get JSON, whatever they accept.
        return self.render_to_response_json(kwargs.get("status", 200))

    def render_to_response_json(self, status):
        results = {
            type(result.check).__name__.lower(): "ok" if not result.error else result.error.message
            for result in self.results
        }
        ready = status == 200
        return JsonResponse(
            {"status": "ready" if ready else "not ready", "checks": results},
            status=200 if ready else 503,
        )


_readiness = async_to_sync(ReadinessView.as_view())


def readyz(request):
    """The library's view is async (its checks run side by side, each within its time budget);
    it runs on a thread of its own, where no event loop is already running."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="readyz") as pool:
        return pool.submit(_readiness, request).result()


class ProbeMiddleware:
    """Answers ``/healthz``, ``/readyz`` and ``/metrics`` ahead of the host check, sessions and CSRF:
    probes and scrapers call a machine by its address, which ``SEGAPP_ALLOWED_HOSTS`` need not
    list, and they carry no session."""

    def __init__(self, get_response):
        from segapp.prometheus import metrics_view

        self.get_response = get_response
        self.probes = {"/healthz": healthz, "/readyz": readyz, "/metrics": metrics_view}

    def __call__(self, request):
        probe = self.probes.get(request.path_info)
        return probe(request) if probe else self.get_response(request)
