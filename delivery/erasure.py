"""Carrying out regulations' ``archive`` steps (``privacy.regulations``): deleting end users'
events from the event archive, with what was kept of them elsewhere (rejected messages, the
request samples of delivery errors, replays' records), in the regulation's source or every
source of its workspace.

A step walks each source's events in id order along the (source, id) index, ``SCAN`` rows at a
time. Each chunk's deletions commit together with the step's cursor (``DeletionStep.progress``),
so no transaction holds locks for long, and a worker that dies mid-step costs one chunk, done
again by the next run. The walk ends at the source's last stored event when the step first
reached it: later events are new data, either suppressed or the user's to keep
(``regulations.deletes_until``). A user's events are found by the archive's ``user_id`` column,
the tracking API's copy of each payload's ``userId``.

A job still owing a deleted event sends the rest (``deliveries`` passes over ids the archive no
longer holds), and a replay simply no longer finds the event.
"""

import logging
import time
from datetime import datetime

import orjson
from django.db import connection, transaction
from django.utils import timezone

from connections.models import DestinationInstance
from delivery import archive
from delivery.models import DeliveryError, DeliveryJob, Event, RejectedMessage, ReplayedEvent
from privacy import regulations
from privacy.models import DeletionStep, RegulationStatus

log = logging.getLogger("segapp.delivery")

SCAN = 5000  # archive rows read per chunk
BUDGET = 20.0  # seconds of work per sweep run; the next run resumes
ATTEMPTS = 5  # failed runs before a step is FAILED
# A delivery error keeps the first 50 message ids of the request it samples
# (``deliveries._record_error``): a full list may have left out one of the users' events.
SAMPLED_IDS = 50
_EVENT_COLUMNS = ("pk", "user_id", "received_at", "message_id", "batch_id")


def run(budget: float = BUDGET) -> dict:
    """Works on unfinished archive steps, oldest request first, for ``budget`` seconds."""
    deadline = time.monotonic() + budget
    deleted = steps = 0
    for step in regulations.open_steps(regulations.ARCHIVE):
        deleted += erase(step, deadline)
        steps += 1
        if time.monotonic() > deadline:
            break
    return {"archive_steps": steps, "events_deleted": deleted}


def erase(step: DeletionStep, deadline: float) -> int:
    """Carries the step on until it is done or ``deadline`` passes; the events it deleted."""
    if not regulations.start_step(step):
        return 0  # withdrawn
    regulation = step.regulation
    walk = _Walk(step, set(regulation.subject_ids), regulations.deletes_until(regulation))
    try:
        for source_id in regulations.covered_source_ids(regulation):
            if not walk.source(source_id, deadline):
                return walk.deleted  # out of time: the next run resumes here
    except Exception as error:  # a database error: recorded on the step, tried again next run
        log.exception("archive deletion failed", extra={"step": step.pk})
        if step.attempts + 1 >= ATTEMPTS:
            regulations.end_step(step, RegulationStatus.FAILED, str(error), attempted=True)
        else:
            regulations.retry_step(step, str(error), timezone.now())
        return walk.deleted
    regulations.end_step(step, RegulationStatus.FINISHED)
    return walk.deleted


class _Walk:
    """One step's walk through the archive; ``step.progress`` holds each source's cursors."""

    def __init__(self, step: DeletionStep, subjects: set[str], until: datetime | None):
        self.step, self.subjects, self.until = step, subjects, until
        self.progress = dict(step.progress)
        self.deleted = 0

    def source(self, source_id: str, deadline: float) -> bool:
        """Deletes the users' data of one source; False if time ran out first."""
        state = self.progress.setdefault(source_id, {})
        if state.get("done"):
            return True
        if "through" not in state:
            last_rejected = RejectedMessage.objects.filter(source_id=source_id).order_by("-pk")
            state.update(
                through=archive.stored_through(source_id),
                rejectedThrough=last_rejected.values_list("pk", flat=True).first() or 0,
                events=0,
                rejected=0,
            )
        instances = list(
            DestinationInstance.objects.filter(source_id=source_id).values_list("pk", flat=True)
        )
        while chunk := _events(source_id, state["events"], state["through"]):
            mine = [row for row in chunk if self._is_theirs(row[1], row[2])]
            with transaction.atomic():
                _forget(mine, instances)
                state["events"] = chunk[-1][0]
                self._record(len(mine))
            if time.monotonic() > deadline:
                return False
        while chunk := _rejected(source_id, state["rejected"], state["rejectedThrough"]):
            mine = [
                pk
                for pk, received_at, payload in chunk
                if self._rejected_is_theirs(payload, received_at)
            ]
            with transaction.atomic():
                RejectedMessage.objects.filter(pk__in=mine).delete()
                state["rejected"] = chunk[-1][0]
                self._record(0)
            if time.monotonic() > deadline:
                return False
        state["done"] = True
        self._record(0)
        return True

    def _is_theirs(self, user_id: str, received_at: datetime) -> bool:
        return user_id in self.subjects and (self.until is None or received_at <= self.until)

    def _rejected_is_theirs(self, payload: str, received_at: datetime) -> bool:
        """A rejected message is kept as sent, perhaps not even JSON."""
        try:
            message = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return False
        user = message.get("userId") if isinstance(message, dict) else None
        user = user if isinstance(user, str) else "" if user is None else str(user)
        return self._is_theirs(user, received_at)

    def _record(self, deleted: int) -> None:
        regulations.record_progress(self.step, deleted, self.progress)
        self.deleted += deleted


def _events(source_id: str, after: int, through: int) -> list[tuple]:
    """The source's next chunk of events above ``after`` up to ``through``, in id order."""
    events = Event.objects.filter(source_id=source_id, pk__gt=after, pk__lte=through)
    return _walked(events.order_by("pk").values_list(*_EVENT_COLUMNS)[:SCAN])


def _rejected(source_id: str, after: int, through: int) -> list[tuple]:
    rows = RejectedMessage.objects.filter(source_id=source_id, pk__gt=after, pk__lte=through)
    return _walked(rows.order_by("pk").values_list("pk", "received_at", "payload")[:SCAN])


def _walked(rows) -> list[tuple]:
    """Rows read along the (source, id) index. PostgreSQL, its statistics lagging behind a bulk
    of new rows, may otherwise gather all the source's rows above the cursor and sort them for
    each chunk (see ``archive.events_after``)."""
    if connection.vendor != "postgresql":
        return list(rows)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        return list(rows)


def _forget(events: list[tuple], instance_ids: list[str]) -> None:
    """Deletes these archived events and what was kept of them: the instances' records of
    replaying them, and the delivery errors whose request sample may hold them (errors keep a
    request of one job, and a job carries events of one batch)."""
    if not events:
        return
    ids = [row[0] for row in events]
    Event.objects.filter(pk__in=ids).delete()
    ReplayedEvent.objects.filter(instance_id__in=instance_ids, event_id__in=ids).delete()
    message_ids = {row[3] for row in events}
    jobs = DeliveryJob.objects.filter(
        batch_id__in={row[4] for row in events}, instance_id__in=instance_ids
    ).values("pk")
    samples = DeliveryError.objects.filter(job_id__in=jobs).values_list("pk", "message_ids")
    DeliveryError.objects.filter(
        pk__in=[pk for pk, sampled in samples if _may_hold(sampled, message_ids)]
    ).delete()


def _may_hold(sampled: list, message_ids: set[str]) -> bool:
    return len(sampled) >= SAMPLED_IDS or not message_ids.isdisjoint(sampled)
