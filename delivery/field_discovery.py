"""Field discovery's sweep: samples the events archived since its last run for the Privacy Inbox
(``privacy.discovery`` does the rest), so the tracking API's requests never pay for it.

Each run reads at most ``EVENTS_PER_SOURCE`` of each source's newest new events, and at most
``EVENTS_PER_RUN`` in all, then moves the cursor past everything archived so far: a backlog is
skipped, not caught up on, because a field that matters keeps coming. When the run's budget is
spent before every source had its turn, the next run starts with the first source left out.

An event whose transaction commits after a run has read past its id is not sampled either; its
fields come again in the next events of its kind.
"""

from datetime import UTC, datetime

import orjson
from django.db import connection, transaction
from django.utils import timezone

from connections.models import Source
from delivery.models import Event
from privacy import discovery
from privacy.models import DiscoveryCursor

EVENTS_PER_SOURCE = 50
EVENTS_PER_RUN = 2000
CURSOR = "archive"
TURN = "source-turn"  # its ``read_through``: where in the list of sources the next run starts


def run() -> dict:
    """One sweep: returns what it read and recorded, for the log."""
    cursor, _ = DiscoveryCursor.objects.get_or_create(name=CURSOR)
    after = cursor.read_through
    through = Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    if through <= after:
        return {"events": 0}
    sources = list(Source.objects.order_by("pk").values_list("pk", "workspace_id"))
    turn = DiscoveryCursor.objects.filter(name=TURN).values_list("read_through", flat=True)
    start = (turn.first() or 0) % max(len(sources), 1)
    tally, read, visited = discovery.Tally(), 0, 0
    with transaction.atomic():
        _prefer_index_order()
        for source_id, workspace_id in sources[start:] + sources[:start]:
            if read >= EVENTS_PER_RUN:
                break
            visited += 1
            limit = min(EVENTS_PER_SOURCE, EVENTS_PER_RUN - read)
            for received_at, payload in newest_events(source_id, after, through, limit):
                tally.add(workspace_id, source_id, _message(payload), received_at)
                read += 1
    new_fields = sightings = 0
    for workspace_id in tally.workspaces():
        recorded = discovery.record(
            workspace_id, tally.seen(workspace_id), tally.values(workspace_id)
        )
        new_fields += recorded.new_fields
        sightings += recorded.sightings
    now = timezone.now()
    DiscoveryCursor.objects.filter(name=CURSOR).update(read_through=through, updated_at=now)
    if visited < len(sources):  # the budget ran out before some sources had their turn
        DiscoveryCursor.objects.update_or_create(
            name=TURN, defaults={"read_through": start + visited, "updated_at": now}
        )
    return {"events": read, "new_fields": new_fields, "sightings": sightings}


def _prefer_index_order() -> None:
    """For the rest of the transaction: the (source, id) index holds each source's events in
    order, read backwards from ``through``. Left to its estimates PostgreSQL may instead gather
    every event above ``after`` and sort them, which on a first run is a source's whole archive
    (``archive.events_after`` says the same)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            cursor.execute("SET LOCAL enable_sort = off")


_NEWEST = (
    f"SELECT {{epoch}}, payload FROM {Event._meta.db_table}"
    " WHERE source_id = %s AND id > %s AND id <= %s ORDER BY id DESC LIMIT %s"
)
_EPOCH = {
    "postgresql": "EXTRACT(EPOCH FROM received_at)::float8",
    "sqlite": "(julianday(received_at) - 2440587.5) * 86400.0",
}


def newest_events(source_id: str, after: int, through: int, limit: int) -> list[tuple]:
    """(received_at, payload) of the source's newest ``limit`` events in (after, through]. One
    statement per source, written once: a run asks it of every source."""
    sql = _NEWEST.format(epoch=_EPOCH[connection.vendor])
    with connection.cursor() as cursor:
        cursor.execute(sql, [source_id, after, through, limit])
        rows = cursor.fetchall()
    return [(datetime.fromtimestamp(epoch, UTC), payload) for epoch, payload in rows]


def _message(payload: str) -> dict:
    message = orjson.loads(payload)
    return message if isinstance(message, dict) else {}
