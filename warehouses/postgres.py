"""Talking to a customer's PostgreSQL warehouse: connecting under the egress policy, testing a
connection, and loading one chunk of rows (COPY into a staging table, then merge on ``id``).

Everything a chunk writes (new tables and columns, rows, discards) is in one transaction: the
caller commits it, and only then moves the high-water mark, so a crash loads nothing twice.
"""

import io
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from operator import itemgetter

import psycopg
from django.conf import settings
from psycopg import sql
from psycopg.copy import FileWriter

from delivery import egress
from warehouses.rows import (
    BIGINT,
    BOOLEAN,
    DOUBLE,
    SERVER_TIMESTAMPS,
    TEXT,
    TIMESTAMPTZ,
    Row,
    column_texts,
    fits,
    refusal,
    value_type,
)

# Columns a table has from its creation, whether or not its first rows fill them, and their types.
COMMON_COLUMNS = {
    "id": TEXT,
    "received_at": TIMESTAMPTZ,
    "sent_at": TIMESTAMPTZ,
    "original_timestamp": TIMESTAMPTZ,
    "timestamp": TIMESTAMPTZ,
    "user_id": TEXT,
    "anonymous_id": TEXT,
}
_OWN_COLUMNS = {
    "users": {},
    "identifies": {},
    "pages": {"name": TEXT, "category": TEXT},
    "screens": {"name": TEXT, "category": TEXT},
    "groups": {"group_id": TEXT},
    "aliases": {"previous_id": TEXT},
}
_EVENT_COLUMNS = {"event": TEXT, "event_text": TEXT}  # tracks and each event's table


def standard_columns(table: str) -> dict[str, str]:
    if table == "users":  # one row per user: no call's ids or times but when it was received
        return {"id": TEXT, "received_at": TIMESTAMPTZ}
    return {**COMMON_COLUMNS, **_OWN_COLUMNS.get(table, _EVENT_COLUMNS)}


# information_schema's names for what a column may have become (a DBA may change a type).
_TYPE_NAMES = {
    "timestamp with time zone": TIMESTAMPTZ,
    "timestamp without time zone": TIMESTAMPTZ,
    "date": TIMESTAMPTZ,
    "bigint": BIGINT,
    "integer": BIGINT,
    "smallint": BIGINT,
    "double precision": DOUBLE,
    "real": DOUBLE,
    "numeric": DOUBLE,
    "boolean": BOOLEAN,
}
DISCARDS = "discards"


class WarehouseError(Exception):
    """The warehouse refused or could not be reached: ``message`` is the database's own words,
    ``hint`` what to check."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.hint = hint


def _hint(error: Exception) -> str:
    state = getattr(getattr(error, "diag", None), "sqlstate", None) or ""
    text = str(error).lower()
    if (
        state in ("28P01", "28000")
        or "password authentication failed" in text
        or ('role "' in text and "does not exist" in text)
    ):
        return "Check the username and password."
    if state == "3D000":
        return "The database does not exist: check its name, or create it first."
    if state == "42501" or "permission denied" in text:
        return "Grant the user CREATE on the database (it creates one schema per source)."
    if state == "57014" or "statement timeout" in text:
        return "The warehouse took too long to answer: check its load, or sync less at a time."
    if "timeout" in text or "timed out" in text:
        return "The server did not answer in time: check the host, the port and your firewall."
    if "refused" in text or "could not connect" in text or "no route" in text:
        return "Nothing answered at that address: check the host and the port, and that it accepts connections from Segapp."
    if "ssl" in text:
        return "Check the SSL mode: the server's TLS setup does not match it."
    return "Check the connection settings and that the database accepts connections."


def connect(options: dict) -> psycopg.Connection:
    """A connection to the warehouse at the address the egress policy checked (the name is
    resolved once; a private address is refused unless SEGAPP_EGRESS_ALLOW_PRIVATE)."""
    host, port = str(options.get("hostname", "")).strip(), int(options.get("port") or 5432)
    try:
        target = egress.resolve(egress.Target("postgresql", host.lower(), port, ""))
    except (egress.EgressRefused, egress.ResolveFailed) as refused:
        raise WarehouseError(str(refused), "Check the hostname.") from None
    try:
        return psycopg.connect(
            host=host,
            hostaddr=target.address,
            port=port,
            dbname=options.get("database", ""),
            user=options.get("username", ""),
            password=options.get("password", ""),
            sslmode=options.get("sslMode") or "prefer",
            connect_timeout=settings.WAREHOUSE_CONNECT_TIMEOUT,
            application_name="segapp",
            options=f"-c statement_timeout={settings.WAREHOUSE_STATEMENT_TIMEOUT * 1000}",
        )
    except psycopg.Error as error:
        raise WarehouseError(str(error).strip(), _hint(error)) from None


def check(options: dict) -> None:
    """Raises WarehouseError unless Segapp can connect and create schemas (Test connection)."""
    with connect(options) as conn:
        try:
            allowed = conn.execute(
                "SELECT has_database_privilege(current_user, current_database(), 'CREATE')"
            ).fetchone()[0]
        except psycopg.Error as error:
            raise WarehouseError(str(error).strip(), _hint(error)) from None
    if not allowed:
        raise WarehouseError(
            "The user may not create schemas in this database.",
            "Grant the user CREATE on the database (it creates one schema per source).",
        )


def failure(error: psycopg.Error) -> WarehouseError:
    return WarehouseError(str(error).strip(), _hint(error))


def existing_columns(conn, schema: str) -> dict[str, dict[str, str]]:
    """{table: {column: type}} of the schema as the warehouse has it now."""
    found: dict[str, dict[str, str]] = defaultdict(dict)
    rows = conn.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = %s",
        [schema],
    )
    for table, column, data_type in rows:
        found[table][column] = _TYPE_NAMES.get(data_type, TEXT)
    return found


@dataclass
class ChunkResult:
    inserted: dict = field(default_factory=dict)  # table → rows new in the warehouse
    discarded: int = 0
    columns: dict = field(default_factory=dict)  # table → {column: type} after the chunk


def _plan_columns(dicts: list[dict], missing: set[str]) -> dict[str, str]:
    """Types for the ``missing`` columns these rows bring: the latest value decides (as in
    Segment), except that integers and decimals together make a decimal column, so no value loses
    precision. Columns come in the order they first appear."""
    order: dict[str, None] = {}
    for values in dicts:
        if len(order) == len(missing):
            break
        for name in values:
            if name in missing:
                order[name] = None
    # From the latest row back, each column's type is settled by its first value that is not an
    # integer (a decimal after integers makes them decimal); only integers make an integer.
    decided: dict[str, str] = {}
    integers: set[str] = set()
    for values in reversed(dicts):
        if len(decided) == len(missing):
            break
        for name, value in values.items():
            if name in decided or name not in missing:
                continue
            kind = value_type(value)
            if name in integers:
                if kind != BIGINT:
                    decided[name] = DOUBLE if kind == DOUBLE else BIGINT
            elif kind == BIGINT:
                integers.add(name)
            else:
                decided[name] = kind
    return {name: decided.get(name, BIGINT) for name in order}


def _ensure_table(conn, schema: str, table: str, known: dict | None, new: dict) -> None:
    target = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
    if known is None:
        columns = new
        definition = sql.SQL(", ").join(
            sql.SQL("{} {}{}").format(
                sql.Identifier(name),
                sql.SQL(kind),
                sql.SQL(" PRIMARY KEY" if name == "id" else ""),
            )
            for name, kind in columns.items()
        )
        conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} ({}, uuid_ts timestamptz DEFAULT now(),"
                " loaded_at timestamptz DEFAULT now())"
            ).format(target, definition)
        )
        return
    for name, kind in new.items():
        conn.execute(
            sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}").format(
                target, sql.Identifier(name), sql.SQL(kind)
            )
        )


def _copy(conn, target, names, text: bytes) -> None:
    with conn.cursor().copy(sql.SQL("COPY {} ({}) FROM STDIN").format(target, names)) as copy:
        copy.write(text)


def copy_encoder(conn) -> Callable[[Iterable[tuple]], bytes]:
    """A function that turns records into COPY's text for ``conn``, without using it: psycopg
    formats them (in C), here, so that the thread sending them into the warehouse holds the
    interpreter only between sends."""
    cursor = conn.cursor()  # never runs a statement: it only lends the connection's adapters

    def encode(records: Iterable[tuple]) -> bytes:
        text = io.BytesIO()
        with psycopg.Copy(cursor, binary=False, writer=FileWriter(text)) as copy:
            for record in records:
                copy.write_row(record)
        return text.getvalue()

    return encode


def _merge(conn, schema, table, staging, columns: list[str], text: bytes, count: int) -> int:
    """Adds the ``count`` records of ``text`` whose id the table lacks; the number added. Users are updated instead:
    the newest traits win, and a trait not sent keeps its value.

    Nearly always every id is new, and one COPY straight into the table does it (inside a
    savepoint). When an id is already there (a chunk loaded again after a crash, a messageId
    the source sent twice) the table's key refuses the COPY, and the rows go through a staging
    table and an INSERT that skips the ids already loaded."""
    target = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
    names = sql.SQL(", ").join(map(sql.Identifier, columns))
    if table != "users":
        try:
            with conn.transaction():
                _copy(conn, target, names, text)
            return count
        except psycopg.errors.UniqueViolation:
            pass
    staging = sql.Identifier(staging)
    conn.execute(sql.SQL("CREATE TEMP TABLE {} (LIKE {}) ON COMMIT DROP").format(staging, target))
    _copy(conn, staging, names, text)
    if table == "users":
        updates = sql.SQL(", ").join(
            sql.SQL("{0} = COALESCE(EXCLUDED.{0}, {1}.{0})").format(
                sql.Identifier(name), sql.Identifier("users")
            )
            for name in columns
            if name != "id"
        )
        conflict = sql.SQL(
            "ON CONFLICT (id) DO UPDATE SET {}, uuid_ts = now()"
            " WHERE EXCLUDED.received_at >= users.received_at OR users.received_at IS NULL"
        ).format(updates)
    else:
        conflict = sql.SQL("ON CONFLICT (id) DO NOTHING")
    cursor = conn.execute(
        sql.SQL("INSERT INTO {} AS {} ({}) SELECT {} FROM {} {}").format(
            target, sql.Identifier(table), names, names, staging, conflict
        )
    )
    return cursor.rowcount


def _records(dicts: list[dict], names: list[str]) -> list[tuple]:
    """Each row's values in ``names`` order, None where it has none. Rows of one table share a
    few shapes (the same keys in the same order): each shape gets one C-level getter, so a row
    costs a few calls whatever its number of columns."""
    if len(names) == 1:  # itemgetter of one item gives the item, not a tuple
        return [(values.get(names[0]),) for values in dicts]
    getters: dict[tuple, itemgetter] = {}
    records = []
    for values in dicts:
        shape = tuple(values)
        getter = getters.get(shape)
        if getter is None:
            positions = {name: i for i, name in enumerate(shape)}
            absent = len(shape)  # the None after the row's values
            getter = getters[shape] = itemgetter(*(positions.get(n, absent) for n in names))
        records.append(getter((*values.values(), None)))
    return records


def _users(rows: list[Row]) -> list[Row]:
    """One row per user: the chunk's identify calls merged in order, the newest trait winning."""
    merged: dict[str, Row] = {}
    for row in rows:
        user = merged.setdefault(row.values["id"], Row("users"))
        # A refused trait is recorded once, from the identify call.
        user.values.update({k: v for k, v in row.values.items() if v is not None})
    return list(merged.values())


@dataclass
class TableLoad:
    """One table's part of a chunk, ready to write: the columns to create or add first (``known``
    None: the table is new), and its records in ``names`` order as COPY text."""

    table: str
    known: dict | None
    new: dict
    names: list[str]
    text: bytes = b""
    count: int = 0


@dataclass
class ChunkLoad:
    tables: list[TableLoad] = field(default_factory=list)
    discards: list = field(default_factory=list)  # (row, column, value, why)
    # The schema's tables and columns once the chunk is written.
    columns: dict = field(default_factory=dict)


def prepare_chunk(
    rows: list[Row], known: dict[str, dict[str, str]], encode: Callable[[Iterable[tuple]], bytes]
) -> ChunkLoad:
    """Everything writing ``rows`` needs, worked out without the warehouse: which columns to add
    and of what type, each table's records, and the values no column can hold. ``known`` is the
    schema's tables as ``existing_columns`` read them, and is kept up to date."""
    load = ChunkLoad()
    by_table: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_table[row.table].append(row)
    if "users" in by_table:
        by_table["users"] = _users(by_table["users"])
    for table, table_rows in by_table.items():
        dicts = [row.values for row in table_rows]
        present = set().union(*dicts)
        columns = known.get(table)
        if columns is None:
            standard = standard_columns(table)
            new = {**standard, **_plan_columns(dicts, present - standard.keys())}
        else:
            missing = present - columns.keys()
            new = _plan_columns(dicts, missing) if missing else {}
        names = sorted(present)
        part = TableLoad(table, columns, new, names)
        load.tables.append(part)
        columns = known[table] = {**(columns or {}), **new}
        # Column by column: one type check per column, not per value.
        records = _records(dicts, names)
        checked, changed = [], False
        for name, values in zip(names, map(list, zip(*records, strict=True)), strict=True):
            column = values if name in SERVER_TIMESTAMPS else column_texts(values, columns[name])
            if column is not values:
                changed = True
                if column.count(None) != values.count(None):
                    for i, (value, text) in enumerate(zip(values, column, strict=True)):
                        if text is None and value is not None:
                            why = refusal(value, columns[name])
                            load.discards.append((table_rows[i], name, value, why))
            checked.append(column)
        part.text = encode(zip(*checked, strict=True) if changed else records)
        part.count = len(records)
        load.discards += [
            (row, *refused) for row in table_rows if row.refused for refused in row.refused
        ]
        load.columns[table] = dict(columns)
    return load


def write_chunk(conn, schema: str, load: ChunkLoad, known: dict) -> ChunkResult:
    """Writes a prepared chunk into ``schema`` (in the caller's transaction)."""
    result = ChunkResult(columns=load.columns)
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    for number, part in enumerate(load.tables):
        if part.known is None or part.new:
            _ensure_table(conn, schema, part.table, part.known, part.new)
        staging = f"segapp_staging_{number}"
        result.inserted[part.table] = _merge(
            conn, schema, part.table, staging, part.names, part.text, part.count
        )
    if load.discards:
        result.discarded = _discard(conn, schema, known, load.discards)
    return result


def load_chunk(conn, schema: str, rows: list[Row], known: dict[str, dict[str, str]]) -> ChunkResult:
    """``prepare_chunk`` and ``write_chunk`` one after the other."""
    return write_chunk(conn, schema, prepare_chunk(rows, known, copy_encoder(conn)), known)


def _discard(conn, schema: str, known: dict, discards: list) -> int:
    """Values no column could hold, with the reason, in ``discards`` (once per value)."""
    if DISCARDS not in known:
        conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {}.discards (id text, table_name text,"
                " column_name text, column_type text, value text, reason text,"
                " received_at timestamptz, uuid_ts timestamptz DEFAULT now(),"
                " PRIMARY KEY (id, table_name, column_name))"
            ).format(sql.Identifier(schema))
        )
        known[DISCARDS] = {}
    records = {}
    for row, name, value, why in discards:
        key = (row.values.get("id") or "", row.table, name)
        records[key] = (
            *key,
            known.get(row.table, {}).get(name, ""),
            fits(value, TEXT) or repr(value),
            why,
            row.values.get("received_at"),
        )
    staging = sql.Identifier("segapp_staging_discards")
    conn.execute(
        sql.SQL("CREATE TEMP TABLE {} (LIKE {}.discards) ON COMMIT DROP").format(
            staging, sql.Identifier(schema)
        )
    )
    columns = "id, table_name, column_name, column_type, value, reason, received_at"
    with conn.cursor().copy(
        sql.SQL("COPY {} (" + columns + ") FROM STDIN").format(staging)
    ) as copy:
        for record in records.values():
            copy.write_row(record)
    cursor = conn.execute(
        sql.SQL(
            "INSERT INTO {}.discards (" + columns + ") SELECT " + columns + " FROM {}"
            " ON CONFLICT DO NOTHING"
        ).format(sql.Identifier(schema), staging)
    )
    return cursor.rowcount
