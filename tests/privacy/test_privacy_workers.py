"""Privacy with a real Celery worker: events sent by Segment's official Python client reach a
Webhooks sink with Yellow fields encrypted (the test decrypts them with the private key), Red
fields dropped and Green fields in clear, and another Webhooks instance without encryption gets
the Yellow fields as they are."""

import signal

import orjson
import pytest
from segment.analytics import Client

from privacy import controls, encryption
from privacy.models import Classification, YellowProtection
from segapp import workspaces
from tests.delivery.test_engine_workers import hook, worker
from tests.factories import make_source
from tests.privacy.classified import classify
from tests.privacy.keys import load_private, openssl_key_pair
from tests.processes import stop, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

NOTES = "Discussed the care plan and the next appointment. " * 10  # the hybrid form


@pytest.fixture
def source(catalog, workspace):
    return make_source(workspace, "python", name="Clinic backend")


def send(client: Client, n: int) -> str:
    ok, message = client.track(
        user_id=f"patient-{n}",
        event="Appointment Booked",
        properties={"ssn": "078-05-1120", "email": f"p{n}@example.com", "notes": NOTES,
                    "plan": "care", "n": n},
        context={"ip": "198.51.100.7"},
    )  # fmt: skip
    assert ok
    return message["messageId"]


def arrived(sink, name: str) -> dict[str, dict]:
    bodies = [orjson.loads(r.body) for r in sink.received if r.path == f"/{name}"]
    return {body["messageId"]: body for body in bodies}


def test_a_worker_sends_yellow_fields_encrypted_red_fields_dropped_and_green_in_clear(
    live_server, source, workspace, owner, sink, broker, tmp_path
):
    hook(source, sink, "Encrypting")
    hook(source, sink, "Plain")
    private_path, public_pem = openssl_key_pair(tmp_path)
    client = Client(source.write_keys.get().key, host=live_server.url, sync_mode=True)
    proc, _ = worker(tmp_path, broker, concurrency=2)
    try:
        first = send(client, 0)
        wait_for(lambda: first in arrived(sink, "Plain"), timeout=60, message="the first event")
        assert arrived(sink, "Plain")[first]["properties"]["ssn"] == "078-05-1120"

        # The owner classifies the fields the Inbox found, support staff make the workspace
        # eligible, the owner uploads the key and turns encryption on for one destination.
        classify(workspace, owner, {"properties.ssn": Classification.RED,
                                    "properties.email": Classification.YELLOW,
                                    "properties.notes": Classification.YELLOW,
                                    "context.ip": Classification.YELLOW,
                                    "properties.plan": Classification.GREEN})  # fmt: skip
        workspaces.update_workspace(workspace, None, hipaa_eligible=True)
        controls.set_key(workspace, public_pem, owner)
        encrypting = source.instances.get(name="Encrypting")
        controls.set_instance_privacy(encrypting, False, YellowProtection.ENCRYPT, owner)

        later = [send(client, n) for n in range(1, 21)]
        wait_for(lambda: set(later) <= set(arrived(sink, "Encrypting")) and
                 set(later) <= set(arrived(sink, "Plain")), timeout=90,
                 message="the classified events at both destinations")  # fmt: skip
    finally:
        stop(proc, sig=signal.SIGTERM)

    private = load_private(private_path)
    sealed, plain = arrived(sink, "Encrypting"), arrived(sink, "Plain")
    for n, message_id in enumerate(later, start=1):
        properties = sealed[message_id]["properties"]
        assert "ssn" not in properties and "ssn" not in plain[message_id]["properties"]
        assert properties["plan"] == "care" and properties["n"] == n
        assert f"p{n}@example.com" not in orjson.dumps(sealed[message_id]).decode()
        assert encryption.decrypt(private, properties["email"]) == f"p{n}@example.com"
        assert encryption.decrypt(private, properties["notes"]) == NOTES
        assert encryption.decrypt(private, sealed[message_id]["context"]["ip"]) == "198.51.100.7"
        assert plain[message_id]["properties"]["email"] == f"p{n}@example.com"
        assert plain[message_id]["context"]["ip"] == "198.51.100.7"
