"""``archive.stored_through``: a reader that takes a source's events up to it never passes one
whose transaction commits later, though ids are drawn in one order and committed in another."""

import threading
from datetime import UTC, datetime

import orjson
import pytest
from django.db import connection, transaction

from delivery import archive
from delivery.ingest.messages import Accepted
from tests.factories import make_source

pytestmark = pytest.mark.django_db(transaction=True)


def accepted(message_id: str) -> Accepted:
    now = datetime.now(UTC)
    text = now.isoformat().replace("+00:00", "Z")
    payload = {"type": "track", "event": "E", "messageId": message_id, "timestamp": text}
    return Accepted(message_id, "track", "E", "u", "", now, text, orjson.dumps(payload).decode())


def test_waits_for_a_storing_transaction_in_flight(catalog, workspace):
    source = make_source(workspace, "http-api")
    with transaction.atomic():
        archive.store_batch(source.pk, datetime.now(UTC), [accepted("first")], [])
    stored_first = archive.stored_through(source.pk)
    assert stored_first > 0

    in_flight, release, answers = threading.Event(), threading.Event(), []

    def store_slowly():
        try:
            with transaction.atomic():
                archive.store_batch(source.pk, datetime.now(UTC), [accepted("late")], [])
                in_flight.set()
                release.wait(10)  # the id is drawn; the commit comes later
        finally:
            connection.close()

    def read_mark():
        try:
            answers.append(archive.stored_through(source.pk))
        finally:
            connection.close()

    writer = threading.Thread(target=store_slowly)
    writer.start()
    assert in_flight.wait(10)
    reader = threading.Thread(target=read_mark)
    reader.start()
    reader.join(1)
    assert reader.is_alive() and not answers  # it waits rather than answer past the late event
    release.set()
    writer.join(10)
    reader.join(10)
    late_id = archive.stored_through(source.pk)
    assert answers == [late_id] and late_id > stored_first


def test_other_sources_do_not_wait(catalog, workspace):
    busy, quiet = make_source(workspace, "http-api"), make_source(workspace, "http-api")
    in_flight, release = threading.Event(), threading.Event()

    def store_slowly():
        try:
            with transaction.atomic():
                archive.store_batch(busy.pk, datetime.now(UTC), [accepted("slow")], [])
                in_flight.set()
                release.wait(10)
        finally:
            connection.close()

    writer = threading.Thread(target=store_slowly)
    writer.start()
    try:
        assert in_flight.wait(10)
        assert archive.stored_through(quiet.pk) == 0  # answered at once
    finally:
        release.set()
        writer.join(10)
