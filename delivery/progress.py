"""Progress within one attempt at a job: the events its tool has acknowledged so far.

Each acknowledged event is noted (``DeliveryAck``) as its answer comes, so a worker that dies
half-way through a job costs at most the request it was waiting on: the worker that takes the
job over sends only the events not noted, and counts the others as delivered when it finishes.

A note must not wait for its own round trip, or an event would take two round trips instead of
one. On PostgreSQL each process hands its notes to the server on a connection of its own and
reads the answer just before the next note, by when it has long arrived. A note handed over
sits in the server's socket buffer, which the server reads even if this process dies right
after, so the bound above holds; were a note lost (the server itself crashing), that event
would only be sent twice.
"""

import logging
import os
import select
from contextlib import suppress

import psycopg
from django.db import connection

from delivery.counters import Tally
from delivery.models import DeliveryAck, DeliveryJob, Outcome

logger = logging.getLogger(__name__)

_INSERT = f"INSERT INTO {DeliveryAck._meta.db_table} (job_id, event_id) VALUES "
_NOTE = (_INSERT + "($1, $2)").encode()


class Progress:
    def __init__(self, job: DeliveryJob):
        self.job_id, self.instance_id = job.pk, job.instance_id
        noted = set(DeliveryAck.objects.filter(job_id=job.pk).values_list("event_id", flat=True))
        self.before = noted & set(job.event_ids)  # by attempts whose worker died
        self.owed = [event_id for event_id in job.event_ids if event_id not in noted]
        self.needed = True  # a job of one request is settled by finishing it

    def delivered(self, event_ids) -> None:
        if self.needed:
            for event_id in event_ids:
                _note(self.job_id, event_id)

    def settle(self, tally: Tally, at) -> None:
        """Counts what dead attempts delivered and forgets the notes: part of the job's last
        write, in its transaction."""
        _notes_written()
        if self.before:
            tally.add(self.instance_id, at, Outcome.DELIVERED, count=len(self.before))
        DeliveryAck.objects.filter(job_id=self.job_id).delete()


class _Notes:
    """This process's connection for notes (autocommit: each note commits on its own)."""

    def __init__(self):
        self.pid = os.getpid()
        self.connection = connection.get_new_connection(connection.get_connection_params())
        self.connection.autocommit = True
        self.connection.execute("SET synchronous_commit TO off")  # see delivery/redoable.py
        self.pgconn = self.connection.pgconn
        self.unanswered: tuple[int, int] | None = None

    def send(self, note: tuple[int, int]) -> None:
        self.read_answer()
        self.pgconn.send_query_params(_NOTE, [str(n).encode() for n in note])
        while self.pgconn.flush():  # what the socket could not take at once
            select.select([], [self.pgconn.socket], [])
        self.unanswered = note

    def read_answer(self) -> None:
        if self.unanswered is None:
            return
        while self.pgconn.is_busy():
            select.select([self.pgconn.socket], [], [])
            self.pgconn.consume_input()
        while (result := self.pgconn.get_result()) is not None:
            if result.status != psycopg.pq.ExecStatus.COMMAND_OK:
                raise psycopg.OperationalError(self.pgconn.get_error_message())
        self.unanswered = None


_notes: _Notes | None = None


def _note(job_id: int, event_id: int) -> None:
    if connection.vendor != "postgresql":  # SQLite: a local write, nothing to wait for
        DeliveryAck.objects.create(job_id=job_id, event_id=event_id)
        return
    note = (job_id, event_id)
    _on_notes(lambda notes: notes.send(note), note)


def _notes_written() -> None:
    """Waits for the last note's answer, so reads on Django's connection see every note."""
    if _notes is not None and _notes.pid == os.getpid():
        _on_notes(_Notes.read_answer)


def _on_notes(action, note: tuple[int, int] | None = None) -> None:
    """Runs ``action`` on this process's notes connection. Should the connection break (the
    server restarted, a failover, a pooler ending it), the note whose answer had not come may
    never have been taken: it is written again, with ``note``, on a new connection (a note
    written twice is harmless), and the attempt goes on. Were the database out of reach, the
    attempt ends and its events not noted are sent again."""
    global _notes
    if _notes is None or _notes.pid != os.getpid():  # made after the fork
        _notes = _Notes()
    try:
        action(_notes)
    except psycopg.Error as error:
        logger.warning("acknowledgements' connection broke", extra={"error": str(error)})
        unsure = [n for n in (_notes.unanswered, note) if n is not None]
        with suppress(psycopg.Error):
            _notes.connection.close()
        _notes = None
        fresh = _Notes()
        for job_id, event_id in unsure:
            fresh.connection.execute(_INSERT + "(%s, %s)", [job_id, event_id])
        _notes = fresh


def close_notes() -> None:
    """Closes this process's notes connection, if it has one (a worker process stopping)."""
    global _notes
    if _notes is not None and _notes.pid == os.getpid():
        _notes.connection.close()
    _notes = None
