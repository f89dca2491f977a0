"""Data controls in routing: what each cloud-mode destination receives of the fields classified
Red and Yellow, per destination category and per instance; Green and unclassified fields always
pass. Events go through the real tracking API, routing and delivery tasks to a real HTTP sink."""

import hashlib

import orjson
import pytest

from connections.instances import set_enabled
from delivery.models import DeliveryCounter
from privacy import controls
from privacy.guard import guards_for_source
from privacy.models import Classification, ControlAction, YellowProtection
from segapp.refusal import Refusal
from tests.delivery.conftest import TrackingApi
from tests.delivery.test_engine import deliver_all, ingest_and_route
from tests.factories import make_instance, make_source
from tests.privacy.classified import classify

pytestmark = pytest.mark.django_db(transaction=True)

RED, YELLOW, GREEN = Classification.RED, Classification.YELLOW, Classification.GREEN


def order(n: int, **properties) -> dict:
    return {
        "type": "track",
        "event": "Order Completed",
        "userId": f"user-{n}",
        "messageId": f"m{n}",
        "properties": {"ssn": "078-05-1120", "email": "jane@example.com", "total": 12.5,
                       "sku": "A-1", **properties},
        "context": {"ip": "203.0.113.9", "locale": "en-US"},
    }  # fmt: skip


@pytest.fixture
def source(catalog, workspace):
    return make_source(workspace, "javascript", name="Website")


@pytest.fixture
def api(live_server, source):
    return TrackingApi(live_server.url, source.write_keys.get().key)


@pytest.fixture
def hook(source, sink):
    def make(name="Webhooks"):
        instance = make_instance(
            source, "webhooks", name=name, settings={"webhookUrls": [f"{sink.url}/{name}"]}
        )
        return set_enabled(instance, True, None)

    return make


@pytest.fixture
def classified(api, workspace, owner):
    """The first order is archived and its fields classified: ssn Red, email and ip Yellow,
    total Green; sku and locale stay unclassified."""
    ingest_and_route(api, [order(0)])
    classify(workspace, owner, {"properties.ssn": RED, "properties.email": YELLOW,
                                "context.ip": YELLOW, "properties.total": GREEN})  # fmt: skip


def received(sink, path="/Webhooks") -> list[dict]:
    return [orjson.loads(r.body) for r in sink.received if r.path == path]


def send(api, *messages):
    ingest_and_route(api, list(messages))
    deliver_all()


def filtered(instance) -> dict[str, int]:
    rows = DeliveryCounter.objects.filter(instance_id=instance.pk, outcome="filtered")
    out = {}
    for row in rows:
        out[row.reason] = out.get(row.reason, 0) + row.count
    return out


def test_a_classification_acts_from_the_next_event_on(api, hook, sink, workspace, owner):
    hook()
    send(api, order(0))
    assert received(sink)[0]["properties"]["ssn"] == "078-05-1120"  # nothing classified yet
    classify(workspace, owner, {"properties.ssn": RED})
    send(api, order(1))
    _, second = received(sink)
    assert "ssn" not in second["properties"]
    assert second["properties"]["email"] == "jane@example.com"


def test_by_default_red_fields_are_dropped_and_the_rest_sent_in_clear(api, hook, sink, classified):
    hook()
    send(api, order(1))
    [body] = received(sink)
    assert "ssn" not in body["properties"]
    assert body["properties"] == {"email": "jane@example.com", "total": 12.5, "sku": "A-1"}
    assert body["context"]["ip"] == "203.0.113.9" and body["context"]["locale"] == "en-US"


@pytest.mark.parametrize("action", ControlAction.values)
def test_each_yellow_control_action(api, hook, sink, workspace, owner, classified, action):
    instance = hook()
    controls.set_control(workspace, "", YELLOW, action, owner)
    send(api, order(1), order(2, email="joe@example.com"))
    bodies = received(sink)
    if action == ControlAction.BLOCK:
        assert bodies == []
        assert filtered(instance) == {"privacy: blocked, it carries context.ip": 2}
        return
    emails = [b["properties"].get("email") for b in bodies]
    ips = [b["context"].get("ip") for b in bodies]
    if action == ControlAction.SEND:
        assert emails == ["jane@example.com", "joe@example.com"] and ips == ["203.0.113.9"] * 2
    elif action == ControlAction.DROP:
        assert emails == ips == [None, None]
        assert all("email" not in b["properties"] and "ip" not in b["context"] for b in bodies)
    else:
        digest = lambda text: hashlib.sha256(text.encode()).hexdigest()  # noqa: E731
        assert emails == [digest("jane@example.com"), digest("joe@example.com")]
        assert ips == [digest("203.0.113.9")] * 2
    assert all(b["properties"]["total"] == 12.5 for b in bodies)


def test_red_fields_reach_only_destinations_allowed_to_receive_them(
    api, hook, sink, workspace, owner, classified
):
    plain, allowed = hook("Plain"), hook("Allowed")
    controls.set_control(workspace, "", RED, ControlAction.SEND, owner)
    controls.set_instance_privacy(allowed, True, YellowProtection.NONE, owner)
    send(api, order(1))
    assert "ssn" not in received(sink, "/Plain")[0]["properties"]
    assert received(sink, "/Allowed")[0]["properties"]["ssn"] == "078-05-1120"
    # Allowed Red fields still follow the controls: a block holds for that destination too.
    controls.set_control(workspace, "", RED, ControlAction.BLOCK, owner)
    send(api, order(2))
    assert len(received(sink, "/Allowed")) == 1
    assert filtered(allowed) == {"privacy: blocked, it carries properties.ssn": 1}
    assert filtered(plain) == {"privacy: blocked, it carries properties.ssn": 1}


def test_controls_follow_each_destinations_category(catalog, source, workspace, owner, api):
    raw = make_instance(source, "webhooks", settings={"webhookUrls": ["http://127.0.0.1:9/x"]})
    analytics = make_instance(source, "amplitude", settings={"apiKey": "k"})
    crm = make_instance(source, "hubspot")  # Analytics first: its primary category
    email = make_instance(source, "customer-io")  # Email Marketing
    ingest_and_route(api, [order(0)])
    classify(workspace, owner, {"properties.ssn": RED, "properties.email": YELLOW})
    controls.set_control(workspace, "Analytics", YELLOW, ControlAction.HASH, owner)
    controls.set_control(workspace, "Email Marketing", RED, ControlAction.BLOCK, owner)
    controls.set_control(workspace, "", YELLOW, ControlAction.DROP, owner)
    guards = guards_for_source(source.pk)
    ssn, email_field = ("properties", "ssn"), ("properties", "email")
    assert set(guards[raw.pk].drop) == {ssn, email_field}
    assert guards[analytics.pk].drop == (ssn,) and guards[analytics.pk].hash == (email_field,)
    assert guards[crm.pk] == guards[analytics.pk]
    assert guards[email.pk].block == (ssn,) and guards[email.pk].drop == (email_field,)
    # A category set back to follow every other category's control.
    controls.set_control(workspace, "Analytics", YELLOW, controls.FOLLOW, owner)
    assert set(guards_for_source(source.pk)[analytics.pk].drop) == {ssn, email_field}


def test_green_and_unclassified_fields_and_unclassified_workspaces_are_untouched(
    api, hook, sink, source
):
    hook()
    message = order(1)
    send(api, message)
    [body] = received(sink)
    assert body["properties"] == message["properties"]
    assert guards_for_source(source.pk) == {}


def test_a_field_classified_after_routing_is_still_held_back_at_delivery(
    api, hook, sink, workspace, owner
):
    instance = hook()
    ingest_and_route(api, [order(0)])  # routed while nothing is classified, not yet sent
    classify(workspace, owner, {"properties.ssn": RED})
    controls.set_control(workspace, "", RED, ControlAction.BLOCK, owner)
    deliver_all()
    assert received(sink) == []
    assert filtered(instance) == {"privacy: blocked, it carries properties.ssn": 1}


def test_encryption_is_for_hipaa_eligible_workspaces_with_a_key(hook, workspace, owner):
    instance = hook()
    with pytest.raises(Refusal) as refused:
        controls.set_instance_privacy(instance, False, YellowProtection.ENCRYPT, owner)
    assert refused.value.rule == "privacy-encryption-hipaa"
    with pytest.raises(Refusal) as refused:
        controls.set_key(workspace, "-----BEGIN PUBLIC KEY-----", owner)
    assert refused.value.rule == "privacy-encryption-hipaa" and refused.value.status == 403
    workspace.hipaa_eligible = True
    workspace.save()
    with pytest.raises(Refusal) as refused:
        controls.set_instance_privacy(instance, False, YellowProtection.ENCRYPT, owner)
    assert refused.value.rule == "privacy-encryption-key"


def test_controls_refuse_what_they_cannot_do(workspace, owner):
    for classification, action, rule in [
        (GREEN, ControlAction.DROP, "privacy-control-classification"),
        (RED, "shred", "privacy-control-action"),
        (RED, controls.FOLLOW, "privacy-control-action"),  # every other category has no parent
    ]:
        with pytest.raises(Refusal) as refused:
            controls.set_control(workspace, "", classification, action, owner)
        assert refused.value.rule == rule


@pytest.mark.parametrize(
    "classification, control, red_allowed, protection, can_encrypt, expected",
    [
        (RED, "send", False, "none", True, "drop"),
        (RED, "send", True, "none", True, "send"),
        (RED, "hash", False, "none", True, "hash"),
        (RED, "block", True, "none", True, "block"),
        (YELLOW, "send", False, "none", False, "send"),
        (YELLOW, "send", False, "hash", False, "hash"),
        (YELLOW, "send", False, "encrypt", True, "encrypt"),
        (YELLOW, "send", False, "encrypt", False, "drop"),  # never in clear
        (YELLOW, "drop", False, "encrypt", True, "drop"),
        (YELLOW, "block", False, "hash", True, "block"),
        (GREEN, "block", False, "none", True, "send"),
    ],
)
def test_the_action_taken_on_one_field(
    classification, control, red_allowed, protection, can_encrypt, expected
):
    assert (
        controls.effective_action(classification, control, red_allowed, protection, can_encrypt)
        == expected
    )
