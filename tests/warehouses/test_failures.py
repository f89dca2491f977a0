"""A warehouse that cannot be reached or refuses Segapp fails its sync with the database's own
message and a hint, loses nothing, and catches up once it is fixed."""

import socket

from tests.processes import free_port
from tests.warehouses.conftest import send
from tests.warehouses.test_loading import send_with_python_client, sync_once
from warehouses import operations
from warehouses.models import ConnectedSource, SyncStatus


def test_nothing_listening_fails_the_sync_with_a_hint_and_loses_nothing(
    live_server, source, warehouse, reader, owner, warehouse_db
):
    send_with_python_client(live_server, source)
    operations.update_warehouse(warehouse, owner, settings={"port": free_port()})

    failed = sync_once(warehouse)

    assert failed.status == SyncStatus.FAILED
    assert "refused" in failed.error.lower() or "connect" in failed.error.lower()
    assert failed.hint.startswith("Nothing answered at that address")
    assert ConnectedSource.objects.get(warehouse=warehouse).loaded_through == 0

    operations.update_warehouse(warehouse, owner, settings={"port": warehouse_db["port"]})
    fixed = sync_once(warehouse)
    assert fixed.status == SyncStatus.SUCCESS and reader.count("backend", "tracks") == 3


def test_a_wrong_password_is_named(live_server, source, warehouse, owner, settings):
    send(live_server.url, source, [{"type": "track", "userId": "u", "event": "Signed Up"}])
    operations.update_warehouse(warehouse, owner, settings={"username": "segapp_nobody"})

    failed = sync_once(warehouse)

    assert failed.status == SyncStatus.FAILED
    assert "segapp_nobody" in failed.error
    assert failed.hint == "Check the username and password."


def test_a_server_that_never_answers_times_out(live_server, source, warehouse, owner, settings):
    """A listener that accepts connections and never speaks (a hung server or proxy)."""
    settings.WAREHOUSE_CONNECT_TIMEOUT = 2
    send(live_server.url, source, [{"type": "track", "userId": "u", "event": "Signed Up"}])
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        operations.update_warehouse(warehouse, owner, settings={"port": silent.getsockname()[1]})
        failed = sync_once(warehouse)

    assert failed.status == SyncStatus.FAILED
    assert "timeout" in failed.error.lower()
    assert failed.hint.startswith("The server did not answer in time")
