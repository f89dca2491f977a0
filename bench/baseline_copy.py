"""The ingest benchmark's yardstick (DESIGN §9): a bare WSGI app, no Django, that parses a
``/v1/batch`` body with orjson and COPYs its messages into PostgreSQL with psycopg 3.

It does the least any ingest must do (parse, one row per message, commit before answering), so
Segapp's events/s divided by this one's says what everything else costs. Serve it with
``gunicorn bench.baseline_copy:application``; ``bench/ingest.py`` drives it like Segapp.
"""

import os
import uuid

import orjson
import psycopg

TABLE = "bench_baseline_event"
_connection = None


def _db():
    # One connection per gunicorn worker, opened after the fork.
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg.connect(os.environ["DATABASE_URL"])
        _connection.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (id bigserial PRIMARY KEY, message_id text,"
            " type text, received_at timestamptz NOT NULL DEFAULT now(), payload text)"
        )
        _connection.commit()
    return _connection


def application(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    try:
        batch = orjson.loads(environ["wsgi.input"].read(length))["batch"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        start_response("400 Bad Request", [("Content-Type", "application/json")])
        return [b'{"code": "invalid_json", "message": "Bad body."}']
    db = _db()
    with (
        db.cursor() as cursor,
        cursor.copy(f"COPY {TABLE} (message_id, type, payload) FROM STDIN") as copy,
    ):
        for message in batch:
            message_id = message.get("messageId") or str(uuid.uuid4())
            copy.write_row((message_id, message.get("type"), orjson.dumps(message).decode()))
    db.commit()
    body = orjson.dumps({"success": True, "accepted": len(batch)})
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
