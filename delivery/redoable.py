"""Commits that need not wait for the disk.

What routing and sending write is done again if it is lost: a batch not marked routed is routed
again (its jobs are unique per instance), a job not marked done or a progress note not kept is
sent again (at-least-once; the per-job progress only saves duplicates). So these writes may
commit without waiting for PostgreSQL to flush its log: a crash of PostgreSQL itself (not of a
worker) can lose the last moment of them, which costs duplicates, never an event. The events
themselves are stored by the tracking API with the server's normal, durable commits.
"""

from contextlib import contextmanager

from django.db import connection


@contextmanager
def redoable_writes():
    """Within the block, this connection's commits do not wait for the disk (PostgreSQL)."""
    if connection.vendor != "postgresql":  # SQLite in WAL mode with synchronous=NORMAL already
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")
