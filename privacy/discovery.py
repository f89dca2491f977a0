"""Field discovery: which fields a workspace's events carry, where they come from, and what the
matchers suggest for the new ones.

The archive is ``delivery``'s, so its sweep (``delivery/field_discovery.py``) samples newly
archived events, tallies their fields here (``Tally``, no Django) and hands each workspace's
tally to ``record`` as plain data. ``record`` writes only what is new, plus one bounded update
of counts and last-seen times per run: a few statements whatever the number of events sampled.
Sample values are shown to the matchers and never stored.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction

from privacy import matchers
from privacy.custom_matchers import matchers_for
from privacy.models import Field, FieldSighting

# Fields live under these objects of a message (Segment's Privacy Portal scans the same).
ROOTS = ("properties", "traits", "context")
# Segments in a path, the root's included: an object deeper than this is one field.
MAX_DEPTH = 6
MAX_FIELDS_PER_MESSAGE = 200
MAX_PATH_LENGTH = Field._meta.get_field("path").max_length
MAX_EVENT_LENGTH = FieldSighting._meta.get_field("event").max_length
VALUES_PER_FIELD = 3  # sample values per field and run, for the value matchers
# A field's last-seen time is rewritten at most this often: the Inbox shows the last 7 days.
LAST_SEEN_STEP = timedelta(minutes=10)
UPSERT_ROWS = 500


def fields_of(message: dict):
    """(path, value) of each field of a message: dotted paths under ``properties``, ``traits``
    and ``context`` (``traits.address.city``, ``context.device.id``, ``context.traits.email``).
    An array is a field itself; so is an object at the depth limit."""
    found = 0
    stack = [(root, message[root], 1) for root in reversed(ROOTS) if isinstance(message.get(root), dict)]  # fmt: skip
    while stack:
        prefix, obj, depth = stack.pop()
        for key, value in obj.items():
            path = f"{prefix}.{key}"
            if not key or len(path) > MAX_PATH_LENGTH:
                continue
            if isinstance(value, dict) and value and depth + 1 < MAX_DEPTH:
                stack.append((path, value, depth + 1))
                continue
            yield path, value
            found += 1
            if found >= MAX_FIELDS_PER_MESSAGE:
                return


def event_label(message: dict) -> str:
    """How the Inbox names the event a field came in: ``track Order Completed``, ``identify``,
    ``page Pricing``."""
    kind = str(message.get("type") or "unknown")
    name = message.get("event") if kind == "track" else None
    if kind in ("page", "screen"):
        name = message.get("name")
    label = f"{kind} {name}" if isinstance(name, str) and name else kind
    return label[:MAX_EVENT_LENGTH]


def sample_values(value) -> list[str]:
    """What value matchers may look at: strings and whole numbers (a card number sent as a
    number), and the first few of an array's."""
    items = value[:VALUES_PER_FIELD] if isinstance(value, list) else [value]
    shown = []
    for item in items:
        if isinstance(item, str):
            shown.append(item[: matchers.MAX_VALUE_LENGTH])
        elif isinstance(item, int) and not isinstance(item, bool):
            shown.append(str(item))
    return shown


@dataclass(frozen=True)
class Seen:
    """A field seen in sampled events of one source and event, ``count`` times."""

    path: str
    source_id: str
    event: str
    count: int
    first_seen_at: datetime
    last_seen_at: datetime


class Tally:
    """The fields of sampled events, per workspace."""

    def __init__(self):
        # workspace → (path, source, event) → [count, first, last]
        self._seen = defaultdict(dict)
        # workspace → path → a few distinct sample values
        self._values = defaultdict(lambda: defaultdict(list))

    def add(self, workspace_id: str, source_id: str, message: dict, received_at: datetime):
        event = event_label(message)
        seen, values = self._seen[workspace_id], self._values[workspace_id]
        for path, value in fields_of(message):
            key = (path, source_id, event)
            if (entry := seen.get(key)) is None:
                seen[key] = [1, received_at, received_at]
            else:
                entry[0] += 1
                entry[1], entry[2] = min(entry[1], received_at), max(entry[2], received_at)
            kept = values[path]
            if len(kept) < VALUES_PER_FIELD:
                kept.extend(v for v in sample_values(value) if v not in kept)
                del kept[VALUES_PER_FIELD:]

    def workspaces(self) -> list[str]:
        return list(self._seen)

    def seen(self, workspace_id: str) -> list[Seen]:
        return [
            Seen(path, source_id, event, count, first, last)
            for (path, source_id, event), (count, first, last) in self._seen[workspace_id].items()
        ]

    def values(self, workspace_id: str) -> dict[str, list[str]]:
        return dict(self._values[workspace_id])


@dataclass(frozen=True)
class Recorded:
    new_fields: int
    sightings: int


def record(workspace_id: str, seen: list[Seen], values: dict[str, list[str]]) -> Recorded:
    """Writes what a sample of the workspace's events showed: new fields with the matchers'
    suggestion, a stricter suggestion for an Inbox field whose new values call for one, the
    last-seen time of fields not seen lately, and each sighting's count."""
    if not seen:
        return Recorded(0, 0)
    first, last = {}, {}
    for s in seen:
        first[s.path] = min(first.get(s.path, s.first_seen_at), s.first_seen_at)
        last[s.path] = max(last.get(s.path, s.last_seen_at), s.last_seen_at)
    usable = matchers_for(workspace_id)
    with transaction.atomic():
        fields = {
            f.path: f
            for f in Field.objects.filter(workspace_id=workspace_id, path__in=list(last)).only(
                "pk", "path", "classification", "suggested", "suggested_by", "last_seen_at"
            )
        }
        new = [_new_field(workspace_id, p, first[p], last[p], values.get(p, ()), usable)
               for p in last if p not in fields]  # fmt: skip
        if new:
            # Another writer (a regulation's deletion, a second sweep) may have added some.
            Field.objects.bulk_create(new, ignore_conflicts=True)
            made = Field.objects.filter(workspace_id=workspace_id, path__in=[f.path for f in new])
            fields.update({f.path: f for f in made.only("pk", "path")})
        _update_known(fields, {f.path for f in new}, last, values, usable)
        when = connection.ops.adapt_datetimefield_value
        rows = [(fields[s.path].pk, s.source_id, s.event, s.count, when(s.last_seen_at))
                for s in seen if s.path in fields]  # fmt: skip
        _upsert_sightings(rows)
    return Recorded(len(new), len(rows))


def _new_field(workspace_id, path, first_seen_at, last_seen_at, values, usable) -> Field:
    suggestion = matchers.suggest(path, values, usable)
    return Field(
        workspace_id=workspace_id,
        path=path,
        suggested=suggestion.classification,
        suggested_by=suggestion.matcher,
        first_seen_at=first_seen_at,
        last_seen_at=last_seen_at,
    )


def _update_known(fields: dict, new_paths: set, last: dict, values: dict, usable) -> None:
    """Two bounded updates of fields known before this run: the last-seen time of those not
    seen for ``LAST_SEEN_STEP``, and a stricter suggestion for an Inbox field whose new sample
    values match a value matcher (classified fields keep their classification)."""
    changed = {}
    for path, known in fields.items():
        if path in new_paths:
            continue
        if known.last_seen_at < last[path] - LAST_SEEN_STEP:
            known.last_seen_at = last[path]
            changed.setdefault(path, set()).add("last_seen_at")
        if not known.classification and values.get(path):
            had = matchers.Suggestion(known.suggested or matchers.GREEN, known.suggested_by)
            better = matchers.stricter(had, matchers.suggest(path, values[path], usable))
            if better != had:
                known.suggested, known.suggested_by = better.classification, better.matcher
                changed.setdefault(path, set()).update({"suggested", "suggested_by"})
    for columns in {frozenset(c) for c in changed.values()}:
        rows = [fields[p] for p, c in changed.items() if frozenset(c) == columns]
        Field.objects.bulk_update(rows, sorted(columns), batch_size=UPSERT_ROWS)


_SIGHTING = FieldSighting._meta.db_table


def _upsert_sightings(rows: list[tuple]) -> None:
    """Adds each (field, source, event)'s count and moves its last-seen time on, in a few
    statements: ``INSERT … ON CONFLICT DO UPDATE`` works alike on PostgreSQL and SQLite."""
    q = connection.ops.quote_name
    count, last = q("count"), q("last_seen_at")
    for start in range(0, len(rows), UPSERT_ROWS):
        chunk = rows[start : start + UPSERT_ROWS]
        values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(chunk))
        sql = (
            f"INSERT INTO {q(_SIGHTING)} (field_id, source_id, event, {count}, {last}) "
            f"VALUES {values} ON CONFLICT (field_id, source_id, event) DO UPDATE SET "
            f"{count} = {q(_SIGHTING)}.{count} + excluded.{count}, "
            f"{last} = CASE WHEN excluded.{last} > {q(_SIGHTING)}.{last} "
            f"THEN excluded.{last} ELSE {q(_SIGHTING)}.{last} END"
        )
        params = [value for row in chunk for value in row]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
