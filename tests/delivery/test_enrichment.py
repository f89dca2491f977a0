"""What the server adds to each stored message (DESIGN §3)."""

from datetime import UTC, datetime, timedelta

import requests

from delivery.models import Event
from tests.delivery.conftest import track


def stored(**filters) -> dict:
    return Event.objects.get(**filters).message


def test_received_at_is_server_time_in_iso_with_ms_and_z(api):
    before = datetime.now(UTC)
    api.batch([track(1)])
    after = datetime.now(UTC)
    received_at = stored()["receivedAt"]
    assert len(received_at) == len("2024-01-01T00:00:00.000Z") and received_at.endswith("Z")
    moment = datetime.fromisoformat(received_at)
    assert before - timedelta(milliseconds=1) <= moment <= after


def test_message_id_is_filled_when_absent_and_kept_when_given(api):
    api.batch([track(1), track(2, messageId="given-id"), track(3, messageId=12345)])
    ids = dict(Event.objects.values_list("event_name", "message_id"))
    assert ids["Event 2"] == "given-id" and ids["Event 3"] == "12345"
    assert ids["Event 1"].startswith("api-") and len(ids["Event 1"]) > 20
    assert stored(event_name="Event 1")["messageId"] == ids["Event 1"]


def test_timestamp_is_corrected_for_the_client_clock(api):
    # The client's clock is a day ahead: it stamped the event 10s before sending.
    sent_at = datetime.now(UTC) + timedelta(days=1)
    original = sent_at - timedelta(seconds=10)
    api.batch(
        [track(1, timestamp=original.isoformat().replace("+00:00", "Z"))],
        sentAt=sent_at.isoformat(),
    )
    message = stored()
    received_at = datetime.fromisoformat(message["receivedAt"])
    timestamp = datetime.fromisoformat(message["timestamp"])
    assert abs(timestamp - (received_at - timedelta(seconds=10))) < timedelta(milliseconds=2)
    assert message["originalTimestamp"] == original.isoformat().replace("+00:00", "Z")
    assert message["sentAt"] == sent_at.isoformat()
    assert abs(Event.objects.get().timestamp - timestamp) < timedelta(milliseconds=1)


def test_message_level_sent_at_wins_over_the_batch(api):
    api.batch(
        [track(1, timestamp="2024-01-01T00:00:00Z", sentAt="2024-01-01T00:00:05Z")],
        sentAt="2024-01-01T01:00:00Z",
    )
    message = stored()
    received_at = datetime.fromisoformat(message["receivedAt"])
    expected = received_at - timedelta(seconds=5)
    assert abs(datetime.fromisoformat(message["timestamp"]) - expected) < timedelta(milliseconds=2)


def test_without_sent_at_the_given_timestamp_is_kept(api):
    api.batch([track(1, timestamp="2024-03-01T12:00:00.250+02:00")])
    message = stored()
    assert message["timestamp"] == "2024-03-01T10:00:00.250Z"
    assert message["originalTimestamp"] == "2024-03-01T12:00:00.250+02:00"


def test_without_timestamp_received_at_is_used(api):
    api.batch([track(1), track(2, timestamp="not a date")], sentAt="2024-01-01T00:00:00Z")
    for name in ("Event 1", "Event 2"):
        message = stored(event_name=name)
        assert message["timestamp"] == message["receivedAt"]
    assert "originalTimestamp" not in stored(event_name="Event 1")


def test_context_ip_comes_from_the_peer(api):
    api.batch([track(1)])
    assert stored()["context"]["ip"] == "127.0.0.1"


def test_context_ip_ignores_a_forwarded_for_header_without_trusted_proxies(api):
    api.post(
        "/v1/batch",
        {"batch": [track(1)]},
        headers={"X-Forwarded-For": "203.0.113.7"},  # anyone can send this header
    )
    assert stored()["context"]["ip"] == "127.0.0.1"


def test_context_ip_is_the_address_our_proxy_saw(api, settings):
    settings.TRUSTED_PROXIES = 1
    api.post(
        "/v1/batch",
        {"batch": [track(1)]},
        headers={"X-Forwarded-For": "198.51.100.66, 203.0.113.7"},  # the first hop is spoofed
    )
    assert stored()["context"]["ip"] == "203.0.113.7"


def test_context_ip_given_by_the_client_is_kept(api):
    api.batch([track(1, context={"ip": "198.51.100.1"})])
    assert stored()["context"]["ip"] == "198.51.100.1"


def test_batch_context_and_integrations_merge_into_each_message_which_wins(api):
    api.batch(
        [
            track(1, context={"locale": "fr-FR"}, integrations={"Amplitude": False}),
            track(2),
        ],
        context={"library": {"name": "http", "version": "1"}, "locale": "en-US"},
        integrations={"All": True, "Amplitude": True},
    )
    first, second = stored(event_name="Event 1"), stored(event_name="Event 2")
    assert first["context"]["locale"] == "fr-FR"
    assert first["context"]["library"] == {"name": "http", "version": "1"}
    assert first["integrations"] == {"All": True, "Amplitude": False}
    assert second["context"]["locale"] == "en-US"
    assert second["integrations"] == {"All": True, "Amplitude": True}


def test_write_key_in_the_body_is_not_stored(api, write_key):
    api.post("/v1/track", {**track(1), "writeKey": write_key}, basic=None)
    assert "writeKey" not in stored()
    assert write_key not in Event.objects.get().payload


def test_searchable_columns_are_filled(api):
    api.batch(
        [
            track(1, anonymousId="anon-1"),
            {"type": "page", "name": "Pricing", "anonymousId": "anon-2"},
            {"type": "identify", "userId": "u3"},
        ]
    )
    rows = set(Event.objects.values_list("type", "event_name", "user_id", "anonymous_id"))
    assert rows == {
        ("track", "Event 1", "user-1", "anon-1"),
        ("page", "Pricing", "", "anon-2"),
        ("identify", "", "u3", ""),
    }


def test_server_enrichment_is_the_same_on_the_short_path(live_server, write_key):
    response = requests.post(
        f"{live_server.url}/v1/p",
        data=f'{{"writeKey": "{write_key}", "anonymousId": "a", "name": "Home"}}',
        headers={"Content-Type": "text/plain"},
        timeout=5,
    )
    assert response.status_code == 200
    message = stored()
    assert message["type"] == "page" and message["context"]["ip"] == "127.0.0.1"
    assert {"receivedAt", "timestamp", "messageId"} <= message.keys()
