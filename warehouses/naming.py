"""Names in the warehouse, as Segment's warehouse schema writes them.

Event, property and trait names become snake_case (``Order Completed`` → ``order_completed``,
``accountType`` → ``account_type``); a name that is an SQL reserved word, or starts with a digit,
gets a leading underscore so it can be queried without quotes; a name longer than PostgreSQL's
63 bytes is cut to 63. Every identifier is still quoted in the SQL we send.
"""

import re

MAX_IDENTIFIER = 63  # bytes: PostgreSQL's NAMEDATALEN - 1

# PostgreSQL's reserved key words (those that cannot be a column name unquoted).
RESERVED_WORDS = frozenset(
    """
    all analyse analyze and any array as asc asymmetric authorization binary both case
    cast check collate collation column concurrently constraint create cross
    current_catalog current_date current_role current_schema current_time
    current_timestamp current_user default deferrable desc distinct do else end except
    false fetch for foreign freeze from full grant group having ilike in initially inner
    intersect into is isnull join lateral leading left like limit localtime localtimestamp
    natural not notnull null offset on only or order outer overlaps placing primary
    references returning right select session_user similar some symmetric system_user
    table tablesample then to trailing true union unique user using variadic verbose when
    where window with
    """.split()  # noqa: SIM905  (a word list reads better as words)
)

# Tables every source schema has; a track event with one of these names gets a leading underscore.
STANDARD_TABLES = frozenset(
    {"tracks", "identifies", "users", "pages", "screens", "groups", "aliases", "discards"}
)

_BOUNDARY = re.compile(r"([a-z0-9])([A-Z])|([A-Z])([A-Z][a-z])")
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def snake_case(name: str) -> str:
    """``Order Completed`` → ``order_completed``, ``productID`` → ``product_id``,
    ``HTTPStatus`` → ``http_status``; characters other than letters and digits become ``_``."""
    spaced = _BOUNDARY.sub(lambda m: f"{m[1] or m[3]}_{m[2] or m[4]}", name)
    return _NOT_WORD.sub("_", spaced.lower()).strip("_")


def _fit(name: str) -> str:
    if not name:
        return ""
    if name in RESERVED_WORDS or name[0].isdigit():
        name = f"_{name}"
    return name.encode()[:MAX_IDENTIFIER].decode(errors="ignore").rstrip("_") or name[:1]


def column_name(*path: str) -> str:
    """The column for a (possibly nested) key: ``("address", "street")`` → ``address_street``."""
    return _fit("_".join(part for part in map(snake_case, path) if part))


def event_table(event: str) -> str:
    """The table of one track event; "" when the name has no letters or digits."""
    name = _fit(snake_case(event))
    return f"_{name}"[:MAX_IDENTIFIER] if name in STANDARD_TABLES else name


def schema_name(prefix: str, source_slug: str) -> str:
    return _fit(snake_case(f"{prefix}{source_slug}"))


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
