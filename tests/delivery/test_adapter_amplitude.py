from urllib.parse import parse_qs

import orjson
import pytest

from delivery.adapters import adapter_for
from delivery.adapters.base import Unsupported, Verdict
from delivery.sender import send
from tests.sinks import Reply

TIME = "2024-03-01T12:00:00.250Z"
TIME_MS = 1709294400250
CONTEXT = {"ip": "203.0.113.9", "locale": "en-US", "os": {"name": "iOS", "version": "17.2"},
           "device": {"id": "dev-12345", "type": "ios", "manufacturer": "Apple", "model": "iPhone15,2",
                      "advertisingId": "ad-1"},
           "app": {"version": "3.5.1"}, "network": {"carrier": "T-Mobile"},
           "location": {"city": "Lyon", "country": "France", "latitude": 45.76, "longitude": 4.84}}  # fmt: skip
DEVICE_FIELDS = {"ip": "203.0.113.9", "language": "en-US", "platform": "iOS", "os_name": "iOS",
                 "os_version": "17.2", "device_manufacturer": "Apple", "device_model": "iPhone15,2",
                 "idfa": "ad-1", "app_version": "3.5.1", "carrier": "T-Mobile", "city": "Lyon",
                 "country": "France", "location_lat": 45.76, "location_lng": 4.84}  # fmt: skip
BASE = {"userId": "user-42", "anonymousId": "anon-42", "timestamp": TIME, "context": CONTEXT}
IDENTIFY = {**BASE, "type": "identify", "messageId": "m-identify",
            "traits": {"email": "ada@example.com", "plan": "pro"}}  # fmt: skip
TRACK = {**BASE, "type": "track", "messageId": "m-track", "event": "Order Completed",
         "properties": {"revenue": 25.5, "productId": "p-1", "coupon": "HALF"}}  # fmt: skip
PAGE = {**BASE, "type": "page", "messageId": "m-page", "name": "Settings", "category": "Merchant",
        "properties": {"url": "https://example.com/settings"}}  # fmt: skip
SCREEN = {**BASE, "type": "screen", "messageId": "m-screen", "name": "Home"}
GROUP = {**BASE, "type": "group", "messageId": "m-group", "groupId": "g-1",
         "traits": {"kind": "Organization", "company": "Acme", "employees": 20}}  # fmt: skip
ALIAS = {**BASE, "type": "alias", "messageId": "m-alias", "previousId": "old-42"}
WHO = {"user_id": "user-42", "device_id": "dev-12345", "time": TIME_MS, **DEVICE_FIELDS}


def amplitude(sink, **settings):
    return adapter_for("amplitude")({"apiKey": "amp-key", "endpoint": sink.url, **settings},
                                    names=("Amplitude",), instance_id="inst-1")  # fmt: skip


def deliver(adapter, messages):
    """Builds, sends each request to the sink, and returns the results and unsupported ones."""
    requests, unsupported = adapter.build(messages)
    results = []
    for prepared in requests:
        response = send(prepared)
        results.append(adapter.interpret(prepared, response.status, response.body))
    return requests, results, unsupported


def test_every_message_type_as_the_http_v2_api_expects(sink, settings):
    settings.EGRESS_ALLOW_PRIVATE = True
    adapter = amplitude(sink, groupTypeTrait="kind", groupValueTrait="company")
    requests, results, unsupported = deliver(adapter, [IDENTIFY, TRACK, PAGE, SCREEN, GROUP, ALIAS])

    assert unsupported == [Unsupported("m-alias", "alias calls are not supported by Amplitude: "
                                       "its user mapping API (Portfolio add-on) is not implemented")]  # fmt: skip
    assert [r.verdict for r in results] == [Verdict.DELIVERED, Verdict.DELIVERED]
    events_request, group_request = sink.received
    assert (events_request.method, events_request.path) == ("POST", "/2/httpapi")
    assert events_request.headers["content-type"] == "application/json"
    assert requests[0].message_ids == ["m-identify", "m-track", "m-page", "m-screen", "m-group"]
    page_properties = {
        "url": "https://example.com/settings",
        "name": "Settings",
        "category": "Merchant",
    }
    assert orjson.loads(events_request.body) == {
        "api_key": "amp-key",
        "events": [
            {"event_type": "$identify", "insert_id": "m-identify", **WHO,
             "user_properties": {"email": "ada@example.com", "plan": "pro"}},
            {"event_type": "Order Completed", "insert_id": "m-track", **WHO,
             "event_properties": {"revenue": 25.5, "productId": "p-1", "coupon": "HALF"},
             "revenue": 25.5, "price": 25.5, "quantity": 1, "productId": "p-1"},
            {"event_type": "Viewed Merchant Settings Page", "insert_id": "m-page", **WHO,
             "event_properties": page_properties},
            {"event_type": "Viewed Merchant Page", "insert_id": "m-page-1", **WHO,
             "event_properties": page_properties},
            {"event_type": "Viewed Home Screen", "insert_id": "m-screen", **WHO,
             "event_properties": {"name": "Home"}},
            {"event_type": "$identify", "insert_id": "m-group", **WHO,
             "groups": {"Organization": "Acme"}, "user_properties": {"Organization": "Acme"}},
        ],
    }  # fmt: skip

    assert (group_request.method, group_request.path) == ("POST", "/groupidentify")
    assert group_request.headers["content-type"] == "application/x-www-form-urlencoded"
    form = parse_qs(group_request.body.decode())
    assert form.keys() == {"api_key", "identification"} and form["api_key"] == ["amp-key"]
    assert orjson.loads(form["identification"][0]) == [
        {"group_type": "Organization", "group_value": "Acme",
         "group_properties": {"kind": "Organization", "company": "Acme", "employees": 20}}
    ]  # fmt: skip


def test_group_without_type_and_value_traits_uses_segments_legacy_group():
    adapter = adapter_for("amplitude")({"apiKey": "k"})
    requests, _ = adapter.build([{**GROUP, "context": {}}])
    assert len(requests) == 1 and requests[0].url == "https://api2.amplitude.com/2/httpapi"
    assert orjson.loads(requests[0].body)["events"] == [
        {"event_type": "$identify", "user_id": "user-42", "device_id": "anon-42", "time": TIME_MS,
         "insert_id": "m-group", "groups": {"[Segment] Group": "g-1"},
         "user_properties": {"[Segment] Group": "g-1"}}
    ]  # fmt: skip


def test_integrations_options_and_device_id_preference():
    adapter = adapter_for("amplitude")({"apiKey": "k", "preferAnonymousIdForDeviceId": True},
                                       names=("Amplitude",))  # fmt: skip
    message = {**TRACK, "context": {"device": {"id": "dev-12345"}}, "properties": {},
               "integrations": {"Amplitude": {"session_id": "1709294000000",
                                              "groups": {"team": "blue"}}}}  # fmt: skip
    requests, _ = adapter.build([message])
    assert orjson.loads(requests[0].body)["events"] == [
        {"event_type": "Order Completed", "user_id": "user-42", "device_id": "anon-42",
         "time": TIME_MS, "insert_id": "m-track", "session_id": 1709294000000,
         "groups": {"team": "blue"}, "event_properties": {}}
    ]  # fmt: skip


def test_traits_to_increment_and_set_once_become_user_property_operations():
    adapter = adapter_for("amplitude")({"apiKey": "k", "traitsToIncrement": ["logins"],
                                        "traitsToSetOnce": ["first_seen"]})  # fmt: skip
    message = {**IDENTIFY, "context": {},
               "traits": {"logins": 1, "first_seen": "2024-01-01", "plan": "pro"}}  # fmt: skip
    requests, _ = adapter.build([message])
    assert orjson.loads(requests[0].body)["events"][0]["user_properties"] == {
        "$set": {"plan": "pro"}, "$add": {"logins": 1}, "$setOnce": {"first_seen": "2024-01-01"}
    }  # fmt: skip


@pytest.mark.parametrize(
    ("config", "message", "expected"),
    [
        ({}, {"name": "Home"}, ["Viewed Home Page"]),
        ({}, {"category": "Docs"}, ["Viewed Docs Page"]),
        ({"trackAllPages": True, "trackNamedPages": False}, {"name": "Home"}, ["Loaded a Page"]),
        ({"trackAllPages": True}, {}, ["Loaded a Page"]),
        ({"trackNamedPages": False, "trackCategorizedPages": False}, {"name": "Home"}, []),
        ({}, {}, []),
    ],
)
def test_page_naming_settings(config, message, expected):
    adapter = adapter_for("amplitude")({"apiKey": "k", **config})
    page = {"type": "page", "messageId": "p", "anonymousId": "anon-1", **message}
    requests, unsupported = adapter.build([page])
    if expected:
        events = orjson.loads(requests[0].body)["events"]
        assert [e["event_type"] for e in events] == expected
    else:
        assert requests == [] and unsupported == [
            Unsupported("p", "page calls without a name or category are sent to Amplitude only "
                        "with Track All Pages on")
        ]  # fmt: skip


def test_batches_of_a_hundred_messages_and_one_megabyte(sink, settings):
    settings.EGRESS_ALLOW_PRIVATE = True
    adapter = amplitude(sink)
    tracks = [{**TRACK, "context": {}, "messageId": f"m-{i}", "properties": {}} for i in range(250)]
    requests, results, _ = deliver(adapter, tracks)
    assert [len(orjson.loads(r.body)["events"]) for r in sink.received] == [100, 100, 50]
    assert [r.message_ids for r in requests] == [
        [f"m-{i}" for i in range(0, 100)], [f"m-{i}" for i in range(100, 200)],
        [f"m-{i}" for i in range(200, 250)],
    ]  # fmt: skip
    assert {r.verdict for r in results} == {Verdict.DELIVERED}

    big = [{**t, "properties": {"blob": "x" * 300_000}} for t in tracks[:7]]
    requests, _ = adapter.build(big)
    assert [len(r.message_ids) for r in requests] == [3, 3, 1]
    assert all(len(r.body) < 1_000_000 for r in requests)


def test_a_400_naming_events_discards_those_and_retries_the_rest(sink, settings):
    settings.EGRESS_ALLOW_PRIVATE = True
    # Amplitude's documented 400 body: rejected events by index, per field.
    sink.replies = [Reply(400, orjson.dumps({
        "code": 400, "error": "Request missing required field",
        "events_with_invalid_fields": {"time": [3]},
        "events_with_missing_fields": {"event_type": [1]},
    }))]  # fmt: skip
    adapter = amplitude(sink)
    # The page call becomes events 2 and 3, so its second event's failure discards it.
    messages = [{**m, "context": {}} for m in (IDENTIFY, {**TRACK, "event": ""}, PAGE, SCREEN)]
    (request,), (result,), _ = deliver(adapter, messages)
    assert request.item_message_ids == ["m-identify", "m-track", "m-page", "m-page", "m-screen"]
    assert result.verdict == Verdict.DISCARD
    assert result.per_message == {
        "m-track": (Verdict.DISCARD, "Amplitude: missing field event_type"),
        "m-page": (Verdict.DISCARD, "Amplitude: invalid field time"),
        "m-identify": (Verdict.RETRY, "Amplitude refused the batch"),
        "m-screen": (Verdict.RETRY, "Amplitude refused the batch"),
    }


def test_status_codes_map_to_verdicts():
    adapter = adapter_for("amplitude")({"apiKey": "k"})
    (prepared,), _ = adapter.build([TRACK])
    verdicts = {
        status: adapter.interpret(prepared, status, b'{"code": %d}' % status)
        for status in (200, 400, 413, 429, 500, 503)
    }
    assert {s: r.verdict for s, r in verdicts.items()} == {
        200: "delivered", 400: "discard", 413: "discard", 429: "retry", 500: "retry", 503: "retry"
    }  # fmt: skip
    assert all(not r.per_message for r in verdicts.values())
