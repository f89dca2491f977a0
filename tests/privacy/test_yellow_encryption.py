"""HIPAA-eligible workspaces: Yellow fields of context, traits and properties reach a destination
that encrypts them as ciphertext only its owner's private key opens, short and long values alike;
other destinations and other workspaces are untouched."""

import hashlib

import orjson
import pytest

from connections.instances import set_enabled
from privacy import controls, encryption
from privacy.models import Classification, YellowProtection
from segapp import workspaces
from tests.delivery.conftest import TrackingApi
from tests.delivery.test_engine import deliver_all, ingest_and_route
from tests.factories import make_instance, make_source, make_workspace
from tests.privacy.classified import classify
from tests.privacy.keys import load_private, openssl_key_pair

pytestmark = pytest.mark.django_db(transaction=True)

NOTES = "Follow-up in two weeks; " * 30  # longer than one OAEP block


def visit(n: int) -> dict:
    return {"type": "identify", "userId": f"patient-{n}", "messageId": f"v{n}",
            "traits": {"diagnosis": "E11.9", "weight_kg": 82.5, "notes": NOTES, "plan": "care",
                       "age": 61},
            "context": {"ip": "198.51.100.7", "locale": "en-US"}}  # fmt: skip


@pytest.fixture
def source(catalog, workspace):
    return make_source(workspace, "http-api", name="Clinic backend")


@pytest.fixture
def api(live_server, source):
    return TrackingApi(live_server.url, source.write_keys.get().key)


@pytest.fixture
def key_pair(tmp_path):
    return openssl_key_pair(tmp_path)


@pytest.fixture
def hooks(source, sink):
    made = {}
    for name in ("Encrypting", "Hashing", "Plain"):
        instance = make_instance(
            source, "webhooks", name=name, settings={"webhookUrls": [f"{sink.url}/{name}"]}
        )
        made[name] = set_enabled(instance, True, None)
    return made


def body(sink, name: str, message_id: str = "v1") -> dict:
    """What the destination ``name`` received of the visit ``message_id``."""
    bodies = [orjson.loads(r.body) for r in sink.received if r.path == f"/{name}"]
    [found] = [b for b in bodies if b["messageId"] == message_id]
    return found


def test_yellow_fields_are_encrypted_for_the_destinations_that_ask(
    api, sink, workspace, owner, hooks, key_pair
):
    private_path, public_pem = key_pair
    ingest_and_route(api, [visit(0)])
    classify(workspace, owner, {"traits.diagnosis": Classification.YELLOW,
                                "traits.weight_kg": Classification.YELLOW,
                                "traits.notes": Classification.YELLOW,
                                "context.ip": Classification.YELLOW,
                                "traits.age": Classification.GREEN})  # fmt: skip
    workspaces.update_workspace(workspace, None, hipaa_eligible=True)  # support staff, in admin
    controls.set_key(workspace, public_pem, owner)
    controls.set_instance_privacy(hooks["Encrypting"], False, YellowProtection.ENCRYPT, owner)
    controls.set_instance_privacy(hooks["Hashing"], False, YellowProtection.HASH, owner)
    ingest_and_route(api, [visit(1)])
    deliver_all()

    sealed = body(sink, "Encrypting")
    traits, context = sealed["traits"], sealed["context"]
    assert all(isinstance(traits[k], str) for k in ("diagnosis", "weight_kg", "notes"))
    assert "E11.9" not in orjson.dumps(sealed).decode() and "Follow-up" not in traits["notes"]
    assert context["ip"] != "198.51.100.7" and context["locale"] == "en-US"
    assert traits["plan"] == "care" and traits["age"] == 61  # unclassified and Green: clear
    private = load_private(private_path)
    assert encryption.decrypt(private, traits["diagnosis"]) == "E11.9"
    assert encryption.decrypt(private, traits["weight_kg"]) == 82.5  # a number again
    assert encryption.decrypt(private, traits["notes"]) == NOTES  # the hybrid form
    assert encryption.decrypt(private, context["ip"]) == "198.51.100.7"
    assert encryption.decrypt_message(private, sealed)["traits"] == visit(1)["traits"]

    hashed = body(sink, "Hashing")
    assert hashed["traits"]["diagnosis"] == hashlib.sha256(b"E11.9").hexdigest()
    assert hashed["traits"]["weight_kg"] == hashlib.sha256(b"82.5").hexdigest()
    assert hashed["context"]["ip"] == hashlib.sha256(b"198.51.100.7").hexdigest()
    assert body(sink, "Plain")["traits"] == visit(1)["traits"]


def test_withdrawn_eligibility_drops_the_fields_instead_of_sending_them_in_clear(
    api, sink, workspace, owner, hooks, key_pair
):
    _, public_pem = key_pair
    ingest_and_route(api, [visit(0)])
    classify(workspace, owner, {"traits.diagnosis": Classification.YELLOW})
    workspaces.update_workspace(workspace, None, hipaa_eligible=True)
    controls.set_key(workspace, public_pem, owner)
    controls.set_instance_privacy(hooks["Encrypting"], False, YellowProtection.ENCRYPT, owner)
    workspace.refresh_from_db()
    workspaces.update_workspace(workspace, None, hipaa_eligible=False)
    ingest_and_route(api, [visit(1)])
    deliver_all()
    assert "diagnosis" not in body(sink, "Encrypting")["traits"]
    assert body(sink, "Plain")["traits"]["diagnosis"] == "E11.9"


def test_other_workspaces_are_untouched(api, sink, catalog, workspace, owner, hooks, key_pair):
    _, public_pem = key_pair
    ingest_and_route(api, [visit(0)])
    classify(workspace, owner, {"traits.diagnosis": Classification.YELLOW})
    workspaces.update_workspace(workspace, None, hipaa_eligible=True)
    controls.set_key(workspace, public_pem, owner)
    controls.set_instance_privacy(hooks["Encrypting"], False, YellowProtection.ENCRYPT, owner)
    other_source = make_source(make_workspace(owner, name="Clinic"), "http-api", name="Other")
    instance = make_instance(
        other_source, "webhooks", name="Other", settings={"webhookUrls": [f"{sink.url}/Other"]}
    )
    set_enabled(instance, True, None)
    ingest_and_route(TrackingApi(api.base_url, other_source.write_keys.get().key), [visit(1)])
    deliver_all()
    assert body(sink, "Other") == {**body(sink, "Other"), "traits": visit(1)["traits"]}
    assert body(sink, "Other")["context"]["ip"] == "198.51.100.7"
