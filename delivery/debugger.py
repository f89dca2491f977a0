"""What a source's debugger shows: its latest events and rejections, searchable, one event in full.

Each function is one query whatever the archive's size: lists are capped, and a search looks only
at the source's latest ``SEARCH_WINDOW`` events (an index range), never the whole archive.
"""

from dataclasses import dataclass, replace
from functools import cached_property
from urllib.parse import urlencode

from django.db.models import OuterRef, Q, Subquery

from connections.models import Source
from delivery.models import Event, RejectedMessage
from delivery.pretty import pretty

STREAM_LIMIT = 500
SEARCH_WINDOW = 5000
REJECTION_LIMIT = 50
LIST_FIELDS = (
    "id",
    "type",
    "event_name",
    "user_id",
    "anonymous_id",
    "message_id",
    "timestamp",
    "received_at",
)


@dataclass(frozen=True)
class State:
    """The debugger's controls, all in the query string, so every one works without JS."""

    q: str = ""
    paused: bool = False
    event: int | None = None
    view: str = "pretty"
    since: str = ""

    @classmethod
    def from_query(cls, params) -> "State":
        event = params.get("event", "")
        return cls(
            q=params.get("q", "").strip()[:200],
            paused=params.get("paused") == "1",
            event=int(event) if event.isdigit() else None,
            view="raw" if params.get("view") == "raw" else "pretty",
            since=params.get("since", ""),
        )

    def query(self, **changes) -> str:
        """The query string of this state with some controls changed (``since`` is not kept)."""
        state = replace(self, since="", **changes)
        params = {
            "q": state.q,
            "paused": "1" if state.paused else "",
            "event": state.event or "",
            "view": "raw" if state.view == "raw" else "",
            "since": state.since,
        }
        return urlencode({k: v for k, v in params.items() if v})

    @cached_property
    def links(self) -> dict[str, str]:
        """Hrefs of the controls; the ``*_prefix`` ones end with a parameter to append to."""
        here, listing = self.query(), self.query(event=None)
        return {
            "pause": "?" + self.query(paused=True),
            "resume": "?" + self.query(paused=False),
            "clear": "?" + self.query(q=""),
            "pretty": "?" + self.query(view="pretty"),
            "raw": "?" + self.query(view="raw"),
            "event_prefix": "?" + (listing + "&" if listing else "") + "event=",
            "poll_prefix": "?" + (here + "&" if here else "") + "since=",
        }


def sources_with_newest():
    """Sources annotated with their newest event and rejection ids: with the source lookup, one
    query tells a poll whether anything new has arrived."""
    return Source.objects.annotate(
        newest_event_id=Subquery(
            Event.objects.filter(source=OuterRef("pk")).order_by("-id").values("id")[:1]
        ),
        newest_rejection_id=Subquery(
            RejectedMessage.objects.filter(source=OuterRef("pk")).order_by("-id").values("id")[:1]
        ),
    )


def newest_marker(source) -> str:
    return f"{source.newest_event_id or 0}-{source.newest_rejection_id or 0}"


def latest_events(source, q: str = "") -> list[Event]:
    events = Event.objects.filter(source=source).only(*LIST_FIELDS).order_by("-id")
    if q:
        window = Event.objects.filter(source=source).order_by("-id").values("id")[:SEARCH_WINDOW]
        events = events.filter(id__in=Subquery(window)).filter(
            Q(type__iexact=q)
            | Q(event_name__icontains=q)
            | Q(user_id__icontains=q)
            | Q(anonymous_id__icontains=q)
            | Q(message_id__icontains=q)
        )
    return list(events[:STREAM_LIMIT])


def latest_rejections(source, q: str = "") -> list[RejectedMessage]:
    rejections = RejectedMessage.objects.filter(source=source).order_by("-id")
    if q:
        rejections = rejections.filter(
            Q(type__iexact=q)
            | Q(code__icontains=q)
            | Q(reason__icontains=q)
            | Q(message_id__icontains=q)
        )
    return list(rejections[:REJECTION_LIMIT])


def event_of(source, event_id: int | None) -> Event | None:
    if event_id is None:
        return None
    return Event.objects.filter(source=source, pk=event_id).first()


# The fields a reader looks for first, in Segment's debugger order; the rest follow by name.
_FIRST_FIELDS = [
    "type",
    "event",
    "name",
    "userId",
    "anonymousId",
    "previousId",
    "groupId",
    "messageId",
    "timestamp",
    "originalTimestamp",
    "sentAt",
    "receivedAt",
    "properties",
    "traits",
    "context",
    "integrations",
]


def pretty_fields(message: dict) -> list[tuple[str, str, bool]]:
    """(name, text, is_block) per top-level field: objects and lists as indented JSON."""
    names = [n for n in _FIRST_FIELDS if n in message]
    names += sorted(n for n in message if n not in _FIRST_FIELDS)
    fields = []
    for name in names:
        value = message[name]
        if isinstance(value, dict | list):
            fields.append((name, pretty(value), True))
        else:
            fields.append((name, "null" if value is None else str(value), False))
    return fields
