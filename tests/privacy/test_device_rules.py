"""Data controls in the device-mode settings document: run by the tsub build inside the official
``@segment/analytics-next`` package, they hold back in the browser what routing holds back on the
server (hashing and encryption, which the browser cannot do, drop the field there)."""

import pytest

from connections import filters
from privacy import controls
from privacy.models import Classification, ControlAction, YellowProtection
from tests.connections.test_device_settings import device_instance, fetch
from tests.connections.test_routing_rules import run_tsub
from tests.delivery.conftest import TrackingApi
from tests.delivery.test_engine import ingest_and_route
from tests.factories import make_source
from tests.privacy.classified import classify

pytestmark = pytest.mark.django_db(transaction=True)

PAYLOADS = [
    {"type": "track", "event": "Signed Up", "userId": "u1",
     "properties": {"email": "a@example.com", "plan": "pro", "ssn": "078-05-1120"},
     "context": {"ip": "203.0.113.9", "locale": "en-US", "traits": {"email": "a@example.com"}}},
    {"type": "track", "event": "Viewed", "userId": "u2", "properties": {"plan": "free"},
     "context": {"locale": "fr-FR"}},
    {"type": "track", "event": "Nulls", "userId": "u3", "properties": {"ssn": None}},
]  # fmt: skip


@pytest.fixture
def website(catalog, workspace):
    return make_source(workspace, "javascript", name="Website")


@pytest.fixture
def classified(live_server, website, workspace, owner):
    api = TrackingApi(live_server.url, website.write_keys.get().key)
    ingest_and_route(api, PAYLOADS[:1])
    classify(workspace, owner, {"properties.ssn": Classification.RED,
                                "properties.email": Classification.YELLOW,
                                "context.traits.email": Classification.YELLOW,
                                "properties.plan": Classification.GREEN})  # fmt: skip


def document(client, website):
    response = fetch(client, website.write_keys.get().key)
    assert response.status_code == 200
    return response.json()


def test_the_browser_drops_what_routing_would_drop_or_protect(
    client, website, workspace, owner, classified
):
    amplitude = device_instance(website, settings={"apiKey": "k"})
    controls.set_instance_privacy(amplitude, False, YellowProtection.HASH, owner)
    rules = document(client, website)["middlewareSettings"]["routingRules"]
    sent = run_tsub(rules, "Amplitude", PAYLOADS)
    assert sent[0]["properties"] == {"plan": "pro"}  # Red dropped; Yellow cannot be hashed here
    assert sent[0]["context"] == {"ip": "203.0.113.9", "locale": "en-US", "traits": {}}
    assert sent[1] == PAYLOADS[1] and sent[2] == {**PAYLOADS[2], "properties": {}}


def test_a_blocking_control_drops_only_the_events_that_carry_the_field(
    client, website, workspace, owner, classified
):
    device_instance(website, settings={"apiKey": "k"})
    controls.set_control(workspace, "Analytics", Classification.RED, ControlAction.BLOCK, owner)
    rules = document(client, website)["middlewareSettings"]["routingRules"]
    sent = run_tsub(rules, "Amplitude", PAYLOADS)
    # The first carries ssn, the third carries it as null (present, as on the server).
    assert sent[0] is None and sent[2] is None
    assert sent[1] == PAYLOADS[1]


def test_privacy_rules_come_before_the_filters_and_reach_only_device_mode(
    client, website, workspace, owner, classified
):
    amplitude = device_instance(website, settings={"apiKey": "k"})
    filters.create_filter(amplitude, owner, title="Only signups", condition="event != 'Signed Up'",
                          actions=[{"type": "DROP"}], enabled=True)  # fmt: skip
    rules = document(client, website)["middlewareSettings"]["routingRules"]
    assert [rule["destinationName"] for rule in rules] == ["Amplitude", "Amplitude"]
    assert rules[0]["transformers"] == [
        [{"type": "drop_properties", "config": {"drop": {"properties": ["ssn"]}}}]
    ]


def test_a_control_change_reaches_browsers_holding_the_document(client, website, workspace, owner):
    device_instance(website, settings={"apiKey": "k"})
    before = fetch(client, website.write_keys.get().key)
    controls.set_control(workspace, "", Classification.RED, ControlAction.BLOCK, owner)
    after = fetch(client, website.write_keys.get().key, **{"If-None-Match": before["ETag"]})
    assert after.status_code == 200 and after["ETag"] != before["ETag"]
