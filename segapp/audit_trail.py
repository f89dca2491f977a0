"""What the audit trail page shows: a workspace's entries newest first, filtered, a page at a time.

A page is one query however long the trail is: it starts from a (created_at, id) cursor and reads
``PAGE_SIZE`` + 1 rows down an index that ends in that order (see ``AuditEntry.Meta.indexes``).
Links to the objects cost at most one query per object type on the page.
"""

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from django.db.models import Q

from segapp import audit
from segapp.models import AuditEntry, Workspace

PAGE_SIZE = 50
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Filters:
    """The page's filters and position, all in the query string, so links work without JS."""

    object_type: str = ""
    object_id: str = ""
    actor: str = ""
    action: str = ""
    before: str = ""  # cursor: entries older than this one
    after: str = ""  # cursor: entries newer than this one

    @classmethod
    def from_query(cls, params) -> "Filters":
        def text(name: str) -> str:
            return params.get(name, "").strip()[:200]

        return cls(
            object_type=text("object_type"),
            object_id=text("object"),
            actor=text("actor"),
            action=text("action"),
            before=text("before"),
            after=text("after"),
        )

    def query(self, **changes) -> str:
        """This page's query string with some parameters changed (the cursor is not kept)."""
        state = replace(self, **{"before": "", "after": "", **changes})
        params = {
            "object_type": state.object_type,
            "object": state.object_id,
            "actor": state.actor,
            "action": state.action,
            "before": state.before,
            "after": state.after,
        }
        return urlencode({k: v for k, v in params.items() if v})

    @property
    def is_filtered(self) -> bool:
        return bool(self.object_type or self.object_id or self.actor or self.action)

    def apply(self, entries):
        if self.object_type:
            entries = entries.filter(object_type=self.object_type)
        if self.object_id:
            entries = entries.filter(object_id=self.object_id)
        if self.actor:
            entries = entries.filter(actor_label=self.actor)
        if self.action:
            entries = entries.filter(action=self.action)
        return entries


def cursor(entry: AuditEntry) -> str:
    delta = entry.created_at - _EPOCH
    return f"{(delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds}.{entry.pk}"


def _position(value: str) -> tuple[datetime, int] | None:
    micros, _, pk = value.partition(".")
    if not (micros.isdigit() and pk.isdigit()):
        return None
    return _EPOCH + timedelta(microseconds=int(micros)), int(pk)


def _older(at: datetime, pk: int) -> Q:
    # The plain ``created_at <= at`` bounds the index scan; the OR only settles ties.
    return Q(created_at__lte=at) & (Q(created_at__lt=at) | Q(pk__lt=pk))


def _newer(at: datetime, pk: int) -> Q:
    return Q(created_at__gte=at) & (Q(created_at__gt=at) | Q(pk__gt=pk))


@dataclass(frozen=True)
class Row:
    entry: AuditEntry
    action: str
    object_type: str
    url: str | None
    changes: list[audit.Change]


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    older: str  # query string of the next (older) page, or ""
    newer: str  # query string of the previous (newer) page, or ""


def page(workspace: Workspace, filters: Filters) -> Page:
    entries = filters.apply(AuditEntry.objects.filter(workspace=workspace))
    after = _position(filters.after)
    before = None if after else _position(filters.before)
    if after:
        found = list(entries.filter(_newer(*after)).order_by("created_at", "id")[: PAGE_SIZE + 1])
        more_newer, more_older = len(found) > PAGE_SIZE, True
        found = found[:PAGE_SIZE][::-1]
    else:
        if before:
            entries = entries.filter(_older(*before))
        found = list(entries.order_by("-created_at", "-id")[: PAGE_SIZE + 1])
        more_older, more_newer = len(found) > PAGE_SIZE, before is not None
        found = found[:PAGE_SIZE]
    older = filters.query(before=cursor(found[-1])) if found and more_older else ""
    newer = filters.query(after=cursor(found[0])) if found and more_newer else ""
    if more_newer and not found:
        newer = filters.query()  # paged past the end: back to the newest
    return Page(_rows(workspace, found), older, newer)


def _rows(workspace: Workspace, entries: list[AuditEntry]) -> list[Row]:
    ids: dict[str, list[str]] = {}
    for entry in entries:
        ids.setdefault(entry.object_type, []).append(entry.object_id)
    links: dict[tuple[str, str], str] = {}
    for object_type, object_ids in ids.items():
        registered = audit.OBJECT_TYPES.get(object_type)
        if registered and registered.links:
            found = registered.links(workspace, object_ids)
            links.update({(object_type, pk): url for pk, url in found.items()})
    return [
        Row(
            entry=entry,
            action=audit.action_label(entry.action),
            object_type=audit.type_label(entry.object_type),
            url=links.get((entry.object_type, entry.object_id)),
            changes=audit.changes(entry.before, entry.after),
        )
        for entry in entries
    ]


def choices(workspace: Workspace, filters: Filters) -> dict:
    """The filter controls' options: object types and actions from the registry, and the people
    and tokens of the workspace (whoever a filter names stays listed, even once gone)."""
    actors = [
        *workspace.memberships.order_by("user__email").values_list("user__email", flat=True),
        *map(audit.token_label, workspace.api_tokens.values_list("description", flat=True)),
        audit.SYSTEM,
    ]
    if filters.actor and filters.actor not in actors:
        actors.insert(0, filters.actor)
    object_types = sorted(
        ((name, registered.label) for name, registered in audit.OBJECT_TYPES.items()),
        key=lambda item: item[1],
    )
    actions = [
        (registered.label, sorted(registered.actions.items(), key=lambda item: item[1]))
        for _, registered in sorted(audit.OBJECT_TYPES.items(), key=lambda item: item[1].label)
    ]
    return {"actors": actors, "object_types": object_types, "actions": actions}
