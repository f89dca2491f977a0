"""Leases this process holds, renewed while their work runs.

A worker takes a batch to route or a job to send by setting the row's ``lease_until``; another
worker may take the row once that time has passed. A background thread renews the leases of the
work still running here, so a lease can be short (tens of seconds) however long the work takes:
a worker that dies stops renewing, and its work is taken over one lease later.
"""

import logging
import os
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

from django.db import close_old_connections, connection
from django.utils import timezone

logger = logging.getLogger(__name__)

_held: dict[tuple, list] = {}  # (model, pk) → [lease seconds, when last renewed]
_lock = threading.Lock()
_renewer_pid: int | None = None


@contextmanager
def held(model, pk, seconds: float):
    """Keeps renewing the lease of ``model`` row ``pk`` for ``seconds`` at a time until the block
    ends. Only rows whose lease is set are renewed: finishing the work clears it, and a renewal
    racing with that never brings it back."""
    _start_renewer()
    key = (model, pk)
    with _lock:
        _held[key] = [seconds, time.monotonic()]
    try:
        yield
    finally:
        with _lock:
            _held.pop(key, None)


def _start_renewer() -> None:
    """One thread per process, started after the fork (threads do not survive one)."""
    global _renewer_pid
    with _lock:
        if _renewer_pid == os.getpid():
            return
        _renewer_pid = os.getpid()
        _held.clear()  # inherited from the parent: its work, not ours
    threading.Thread(target=_renew_forever, name="lease-renewer", daemon=True).start()


def _renew_forever() -> None:
    while True:
        time.sleep(0.5)
        try:
            if renew_due(time.monotonic()) is not None:
                connection.close()  # a round every few seconds needs no connection kept open
        except Exception:  # the database went away for a moment: the next round tries again
            logger.warning("leases could not be renewed", exc_info=True)
            close_old_connections()


def renew_due(clock: float) -> int | None:
    """Renews every held lease a third of whose length has passed since it was last renewed;
    returns how many rows it renewed, None if none was due (and the database was not used)."""
    due: dict[tuple, list] = {}
    with _lock:
        for (model, pk), entry in _held.items():
            seconds, renewed = entry
            if clock - renewed >= seconds / 3:
                due.setdefault((model, seconds), []).append(pk)
                entry[1] = clock
    if not due:
        return None
    renewed = 0
    for (model, seconds), pks in due.items():
        renewed += model.objects.filter(pk__in=pks, lease_until__isnull=False).update(
            lease_until=timezone.now() + timedelta(seconds=seconds)
        )
    return renewed
