"""A customer's warehouse for tests: a real second PostgreSQL database on the test server, and a
reader that queries it as a BI tool would. Fixtures registered in tests/conftest.py."""

import secrets

import psycopg
import pytest
from django.db import connection


def _server() -> dict:
    """Where the test database lives: the customer's warehouse is another database there."""
    s = connection.settings_dict
    return {
        "hostname": s["HOST"] or "127.0.0.1",
        "port": int(s["PORT"] or 5432),
        "username": s["USER"] or "postgres",
        "password": s["PASSWORD"] or "unused",
    }


@pytest.fixture
def warehouse_db(db):
    """A real second PostgreSQL database, made for the test and dropped after it; yields the
    settings a warehouse connects to it with."""
    server = _server()
    name = f"segapp_wh_{secrets.token_hex(4)}"
    admin = dict(host=server["hostname"], port=server["port"], user=server["username"],
                 password=server["password"], dbname="postgres", autocommit=True)  # fmt: skip
    with psycopg.connect(**admin) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield {**server, "database": name, "sslMode": "disable"}
    with psycopg.connect(**admin) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Warehouse:
    """Reads the customer's warehouse the way a BI tool would."""

    def __init__(self, options: dict):
        self.options = options

    def query(self, sql: str, params=()) -> list[tuple]:
        with psycopg.connect(
            host=self.options["hostname"], port=self.options["port"],
            user=self.options["username"], password=self.options["password"],
            dbname=self.options["database"],
        ) as conn:  # fmt: skip
            return conn.execute(sql, params).fetchall()

    def tables(self, schema: str) -> set[str]:
        rows = self.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", [schema]
        )
        return {name for (name,) in rows}

    def columns(self, schema: str, table: str) -> dict[str, str]:
        rows = self.query(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = %s",
            [schema, table],
        )
        return dict(rows)

    def count(self, schema: str, table: str) -> int:
        return self.query(f'SELECT count(*) FROM "{schema}"."{table}"')[0][0]


@pytest.fixture
def reader(warehouse_db):
    return Warehouse(warehouse_db)
