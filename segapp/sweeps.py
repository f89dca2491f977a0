"""Periodic sweeps (retries due, lost routing and delivery tasks, counter upkeep) that keep running
whatever processes an operator starts, with exactly one acting at a time.

Every Celery worker runs a small ticker thread (``Ticker``, started when the worker is ready). Each
second it asks the database which sweeps are due; for each, a conditional UPDATE lets one ticker
in the whole deployment send the sweep's task. The task itself runs only under a lease
(``claim``/``finish``), so a separate ``celery beat``, several of them, or a ticker and a beat
together still make one sweep act once per interval.

``settings.SWEEPS`` maps each sweep's task name to its interval in seconds; ``late`` tells readiness
and the console which sweeps have not run for three intervals.
"""

import functools
import logging
import os
import socket
import threading
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections
from django.db.models import Q
from django.utils import timezone

from segapp.models import Sweep, WorkerHeartbeat

log = logging.getLogger("segapp.sweeps")

# A sweep counts as stopped once it has not finished for this many intervals.
LATE_AFTER_INTERVALS = 3
# A run may start a little before its interval is over, so tickers' second-long ticks and a
# beat's schedule do not skip every other interval.
EARLY = 0.8
TICK_SECONDS = 1.0
HEARTBEAT_SECONDS = 10.0


def _interval(name: str) -> timedelta:
    return timedelta(seconds=settings.SWEEPS[name])


def _ensure_rows() -> None:
    Sweep.objects.bulk_create([Sweep(name=name) for name in settings.SWEEPS], ignore_conflicts=True)


def claim(name: str, lease: timedelta) -> bool:
    """True for the one caller that may run sweep ``name`` now: its interval has passed since
    the last run started, and no run holds a live lease."""
    now = timezone.now()
    claimable = (
        Sweep.objects.filter(name=name)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .filter(
            Q(last_started_at__isnull=True) | Q(last_started_at__lte=now - _interval(name) * EARLY)
        )
    )
    won = claimable.update(lease_until=now + lease, last_started_at=now, holder=_holder())
    if not won and not Sweep.objects.filter(name=name).exists():
        _ensure_rows()  # a new database, or a sweep this release added
        won = claimable.update(lease_until=now + lease, last_started_at=now, holder=_holder())
    return won == 1


def finish(name: str) -> None:
    Sweep.objects.filter(name=name).update(lease_until=None, last_finished_at=timezone.now())


def exclusive(lease_seconds: int):
    """Makes a sweep task act only when it wins ``claim``; a second sender's run returns at once.
    The sweep's name is its task's name (``module.function``, as Celery names shared tasks)."""

    def decorate(function):
        name = f"{function.__module__}.{function.__name__}"

        @functools.wraps(function)
        def run(*args, **kwargs):
            if not claim(name, timedelta(seconds=lease_seconds)):
                return None
            try:
                return function(*args, **kwargs)
            finally:
                finish(name)

        return run

    return decorate


def due_to_send(now=None) -> list[str]:
    """Sweeps whose task this caller should send now: one caller wins each, per interval."""
    now = now or timezone.now()
    queued = dict(Sweep.objects.values_list("name", "queued_at"))
    if len(queued) < len(settings.SWEEPS):
        _ensure_rows()
    won = []
    for name in settings.SWEEPS:
        since = now - _interval(name) * EARLY
        if queued.get(name) is not None and queued[name] > since:
            continue
        sent = (
            Sweep.objects.filter(name=name)
            .filter(Q(queued_at__isnull=True) | Q(queued_at__lte=since))
            .update(queued_at=now)
        )
        if sent:
            won.append(name)
    return won


def late(now=None) -> list[tuple[str, datetime | None]]:
    """(sweep, when it last finished, or None if never) for sweeps that stopped."""
    now = now or timezone.now()
    finished = dict(Sweep.objects.values_list("name", "last_finished_at"))
    stopped = []
    for name in settings.SWEEPS:
        at = finished.get(name)
        if at is None or at < now - _interval(name) * LATE_AFTER_INTERVALS:
            stopped.append((name, at))
    return stopped


def beat(hostname: str, now=None) -> None:
    """Records that the worker ``hostname`` is alive."""
    now = now or timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        hostname=hostname, defaults={"pid": os.getpid(), "seen_at": now}
    )


def live_workers(now=None) -> list[WorkerHeartbeat]:
    now = now or timezone.now()
    since = now - timedelta(seconds=HEARTBEAT_SECONDS * LATE_AFTER_INTERVALS)
    return list(WorkerHeartbeat.objects.filter(seen_at__gte=since))


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Ticker(threading.Thread):
    """Runs in each worker's main process: sends due sweeps' tasks and the worker's heartbeat."""

    def __init__(self, app, hostname: str):
        super().__init__(name="segapp-sweeps", daemon=True)
        self.app, self.hostname = app, hostname
        self.stopping = threading.Event()

    def run(self):
        last_beat = 0.0
        while True:  # the first tick at once: a worker that is ready is seen alive
            try:
                close_old_connections()
                now = timezone.now()
                if now.timestamp() - last_beat >= HEARTBEAT_SECONDS:
                    beat(self.hostname, now)
                    last_beat = now.timestamp()
                for name in due_to_send(now):
                    self.app.send_task(name)
            except Exception:  # the database or broker is away: the next tick tries again
                log.exception("sweep tick failed")
            if self.stopping.wait(TICK_SECONDS):
                break
        close_old_connections()

    def stop(self):
        self.stopping.set()
