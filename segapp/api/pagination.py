"""Segment's pagination: ``?pagination.count=&pagination.cursor=`` in, and
``{"current", "next", "previous", "totalEntries"}`` out. Cursors are opaque to clients.

The official TypeScript SDK serializes its PaginationInput object with the ``qs`` library, which
writes ``?pagination[count]=&pagination[cursor]=``: both spellings are accepted."""

import base64

from rest_framework.exceptions import ValidationError

DEFAULT_COUNT = 200
MAX_COUNT = 1000


def _encode(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> int:
    try:
        kind, _, value = (
            base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().partition(":")
        )
        offset = int(value)
    except ValueError:
        offset, kind = -1, ""
    if kind != "o" or offset < 0:
        raise ValidationError(
            {"pagination.cursor": "This cursor is not valid; use one from a previous response."}
        )
    return offset


def _count(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_COUNT
    try:
        count = int(raw)
    except ValueError:
        count = 0
    if not 1 <= count <= MAX_COUNT:
        raise ValidationError({"pagination.count": f"Give a whole number from 1 to {MAX_COUNT}."})
    return count


def _param(params, name: str) -> str | None:
    value = params.get(f"pagination.{name}")
    return value if value is not None else params.get(f"pagination[{name}]")


def paginate(request, queryset):
    """One page of ``queryset`` (two queries: the count and the page) and its pagination block.
    A list (computed series, say) is paged the same way, with no query."""
    params = request.query_params
    count = _count(_param(params, "count"))
    cursor = _param(params, "cursor")
    offset = _decode(cursor) if cursor else 0
    total = len(queryset) if isinstance(queryset, list) else queryset.count()
    items = list(queryset[offset : offset + count])
    pagination = {
        "current": _encode(offset),
        "next": _encode(offset + count) if offset + count < total else None,
        "previous": _encode(max(offset - count, 0)) if offset > 0 else None,
        "totalEntries": total,
    }
    return items, pagination
