"""Structured logs: one JSON line per HTTP request and one per Celery task.

Lines carry ids, paths and timings only; query strings, bodies and headers are never logged, so a
token or a write key in them cannot leak.
"""

import logging
import time

from celery import signals
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from segapp import prometheus

request_log = logging.getLogger("segapp.request")
task_log = logging.getLogger("segapp.task")


class JsonFormatter(_JsonFormatter):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("fmt", "%(asctime)s %(levelname)s %(name)s %(message)s")
        kwargs.setdefault(
            "rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"}
        )
        super().__init__(*args, **kwargs)


class RequestLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        prometheus.observe_request(request.path, response.status_code, started)
        user = getattr(request, "user", None)
        workspace = getattr(request, "workspace", None)
        request_log.info(
            "request",
            extra={
                "method": request.method,
                "path": logged_path(request),
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "user_id": getattr(user, "pk", None),
                "workspace_id": getattr(workspace, "pk", None),
            },
        )
        return response


# URL captures that are credentials: a page whose route captures one is logged by its route
# (``/invitations/<str:token>/``), never by the path that holds the value.
SECRET_URL_KWARGS = frozenset({"token", "uidb64", "write_key"})

# Paths that carry a credential but are not resolved by the URL conf (answered by middleware
# first, or unknown): everything after the prefix is hidden, or only the next segment.
_REDACTED_TAILS = ("/reset/", "/invitations/")
_REDACTED_SEGMENTS = ("/v1/projects/",)


def logged_path(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None and SECRET_URL_KWARGS & match.kwargs.keys():
        return "/" + match.route
    return redact_path(request.path)


def redact_path(path: str) -> str:
    for prefix in _REDACTED_TAILS:
        if path.startswith(prefix):
            return prefix + "***"
    for prefix in _REDACTED_SEGMENTS:
        if path.startswith(prefix):
            rest = path[len(prefix) :].split("/", 1)
            return prefix + "***" + ("/" + rest[1] if len(rest) > 1 else "")
    return path


_task_started: dict[str, float] = {}


@signals.task_prerun.connect
def _task_prerun(task_id=None, **_):
    _task_started[task_id] = time.perf_counter()


@signals.task_postrun.connect
def _task_postrun(task_id=None, task=None, state=None, **_):
    started = _task_started.pop(task_id, None)
    task_log.info(
        "task",
        extra={
            "task": task.name if task else None,
            "task_id": task_id,
            "state": state,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
        },
    )


@signals.task_failure.connect
def _task_failure(task_id=None, sender=None, exception=None, **_):
    task_log.error(
        "task failed",
        extra={
            "task": sender.name if sender else None,
            "task_id": task_id,
            "error": type(exception).__name__,
        },
    )


@signals.setup_logging.connect
def _use_django_logging(**_):
    """Tell Celery to leave logging alone: Django's LOGGING setting already configured it."""
