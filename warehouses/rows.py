"""One archived message as the rows Segment's warehouse schema stores it in.

A track call is a row of ``tracks`` (the columns every event shares) and a row of its event's own
table (with its properties); identify is a row of ``identifies`` and, when it has a userId, an
update of ``users``; page, screen, group and alias each have their table. Nested objects become
columns joined with ``_`` (``context.app.version`` → ``context_app_version``), arrays are stored
as JSON text, and every name is snake_case (``warehouses.naming``).
"""

import re
from dataclasses import dataclass, field
from functools import lru_cache
from types import NoneType

import orjson

from warehouses.naming import column_name, event_table

# Columns the loader writes itself; a property or trait of the same name is discarded, as
# Segment does, with the reason in ``discards``.
COMMON_COLUMNS = (
    "id",
    "received_at",
    "sent_at",
    "original_timestamp",
    "timestamp",
    "user_id",
    "anonymous_id",
    "uuid_ts",
    "loaded_at",
)
RESERVED_COLUMNS = frozenset(
    {*COMMON_COLUMNS, "event", "event_text", "group_id", "previous_id", "context"}
)

TIMESTAMPTZ, BIGINT, DOUBLE, BOOLEAN, TEXT = (
    "timestamptz",
    "bigint",
    "double precision",
    "boolean",
    "text",
)
_ISO_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?"
)
_INT64 = range(-(2**63), 2**63)
# Written by the tracking API itself in ISO 8601 (``timestamp`` is the corrected one): never
# anything else, so their values need no check.
SERVER_TIMESTAMPS = frozenset({"received_at", "timestamp"})


def value_type(value) -> str:
    """The column type a first value gives its column (Segment: the first value decides)."""
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return BIGINT if value in _INT64 else DOUBLE
    if isinstance(value, float):
        return DOUBLE
    if isinstance(value, str) and _ISO_TIMESTAMP.fullmatch(value):
        return TIMESTAMPTZ
    return TEXT


def fits(value, column_type: str) -> str | None:
    """The value as COPY text for a column of ``column_type``, or None when it does not fit."""
    if column_type == TEXT:
        if isinstance(value, bool):
            return "true" if value else "false"
        text = value if isinstance(value, str) else orjson.dumps(value).decode()
        return None if "\x00" in text else text
    kind = value_type(value)
    if kind == column_type:
        return ("t" if value else "f") if kind == BOOLEAN else str(value)
    if column_type == DOUBLE and kind == BIGINT:
        return str(value)
    return None


def column_texts(values: list, column_type: str) -> list:
    """``fits`` for each of a column's values (None stays None). A chunk has hundreds of
    thousands of values, and nearly all go in as they are: strings without NUL in a text column,
    timestamps in a timestamp column, integers (decimals) in an integer (decimal) column, booleans
    in a boolean one. Those are checked a column at a time, the rest a value at a time."""
    kinds = set(map(type, values))
    kinds.discard(NoneType)
    if kinds == {str} and column_type in (TEXT, TIMESTAMPTZ):
        given = [v for v in values if v is not None] if None in values else values
        if column_type == TEXT and "\x00" not in "".join(given):
            return values
        if column_type == TIMESTAMPTZ and all(map(_ISO_TIMESTAMP.fullmatch, given)):
            return values
    elif kinds <= _AS_THEY_ARE.get(column_type, set()) and (
        column_type != BIGINT or _all_int64(values)
    ):
        return values
    return [None if v is None else fits(v, column_type) for v in values]


# Values psycopg writes for COPY exactly as ``fits`` would, by column type.
_AS_THEY_ARE = {BIGINT: {int}, DOUBLE: {int, float}, BOOLEAN: {bool}}


def _all_int64(values: list) -> bool:
    given = [v for v in values if v is not None]
    return not given or (min(given) in _INT64 and max(given) in _INT64)


def refusal(value, column_type: str) -> str:
    """Why ``fits`` said no, for the discards table."""
    if isinstance(value, str) and "\x00" in value:
        return "text with a NUL character, which PostgreSQL cannot store"
    return f"a {value_type(value)} value in a {column_type} column"


@dataclass
class Row:
    table: str
    values: dict = field(default_factory=dict)
    # (column, value, why) for fields a row cannot hold whatever the columns' types.
    refused: list = field(default_factory=list)


class _Names(dict):
    """Column names of the keys under one path, each worked out once: key → (its column name, the
    names under it). Every message of a source repeats the same few hundred paths."""

    __slots__ = ("path",)

    def __init__(self, path: tuple = ()):
        super().__init__()
        self.path = path

    def __missing__(self, key):
        path = (*self.path, str(key))
        entry = self[key] = (column_name(*path), _Names(path))
        return entry


def _flatten(values: dict, into: dict, names: _Names) -> None:
    for key, value in values.items():
        if value is None:
            continue
        name, inner = names[key]
        kind = type(value)
        if kind is dict:
            _flatten(value, into, inner)
            continue
        if kind is list:
            value = orjson.dumps(value).decode()
        if name:
            into[name] = value


_ROOT = _Names()


def _custom(row: Row, values) -> None:
    """Properties or traits as columns of ``row``; reserved names are refused."""
    flat: dict = {}
    if isinstance(values, dict):
        _flatten(values, flat, _ROOT)
    for name, value in flat.items():
        if name in RESERVED_COLUMNS or name.startswith("context_"):
            row.refused.append((name, value, f"{name} is a column the warehouse schema reserves"))
        else:
            row.values[name] = value


def _common(message: dict, table: str) -> Row:
    row = Row(table)
    values = row.values
    values["id"] = message.get("messageId")
    for column, key in (
        ("received_at", "receivedAt"),
        ("sent_at", "sentAt"),
        ("original_timestamp", "originalTimestamp"),
        ("timestamp", "timestamp"),
    ):
        if message.get(key):
            values[column] = message[key]
    for column, key in (("user_id", "userId"), ("anonymous_id", "anonymousId")):
        if message.get(key) not in (None, ""):
            values[column] = str(message[key])
    # Wrapped, so that a context that is not an object is still kept, as one column.
    _flatten({"context": message.get("context") or {}}, values, _ROOT)
    return row


_event_table = lru_cache(maxsize=4_096)(event_table)


def message_rows(message: dict) -> list[Row]:
    """The rows ``message`` becomes, in the order they are written."""
    kind = message.get("type")
    if kind == "track":
        event = str(message.get("event") or "")
        table = _event_table(event)
        shared = _common(message, "tracks")
        shared.values["event"] = table
        shared.values["event_text"] = event
        rows = [shared]
        if table:
            own = Row(table, dict(shared.values))
            _custom(own, message.get("properties"))
            rows.append(own)
        return rows
    if kind == "identify":
        row = _common(message, "identifies")
        _custom(row, message.get("traits"))
        rows = [row]
        if "user_id" in row.values:
            user = Row("users", {"id": row.values["user_id"]})
            user.values["received_at"] = row.values.get("received_at")
            _custom(user, message.get("traits"))
            rows.append(user)
        return rows
    if kind in ("page", "screen"):
        row = _common(message, f"{kind}s")
        for key in ("name", "category"):
            if message.get(key) not in (None, ""):
                row.values[key] = message[key]
        _custom(row, message.get("properties"))
        return [row]
    if kind == "group":
        row = _common(message, "groups")
        if message.get("groupId") not in (None, ""):
            row.values["group_id"] = str(message["groupId"])
        _custom(row, message.get("traits"))
        return [row]
    if kind == "alias":
        row = _common(message, "aliases")
        if message.get("previousId") not in (None, ""):
            row.values["previous_id"] = str(message["previousId"])
        return [row]
    return []
