import base64

import orjson
import pytest

from delivery.adapters import adapter_for
from delivery.adapters.base import Unsupported, Verdict
from delivery.sender import send

AT = "2024-05-01T12:00:00.000Z"
AT_UNIX = 1714564800
AUTH = "Basic " + base64.b64encode(b"site-1:key-1").decode()


def adapter(sink, **settings):
    return adapter_for("customer-io")(
        {"siteId": "site-1", "apiKey": "key-1", "endpoint": sink.url, **settings}
    )


def deliver(sink, settings, message, **adapter_settings):
    """Sends the message's one request to the sink; returns what the sink received."""
    settings.EGRESS_ALLOW_PRIVATE = True
    tool = adapter(sink, **adapter_settings)
    requests, unsupported = tool.build([message])
    assert unsupported == [] and len(requests) == 1
    response = send(requests[0])
    assert tool.interpret(requests[0], response.status, response.body).verdict == "delivered"
    (received,) = sink.received
    assert received.headers["content-type"] == "application/json"
    assert received.headers["authorization"] == AUTH
    return received


def test_identify_puts_the_customer_with_unix_dates_and_the_anonymous_id(sink, settings):
    message = {"type": "identify", "messageId": "m-1", "userId": "user 1/a", "anonymousId": "anon-1",
               "timestamp": AT,
               "traits": {"email": "jane@example.com", "createdAt": "2024-05-01T12:00:00Z",
                          "plan": "pro", "trialEnds": "2024-05-02T12:00:00+00:00",
                          "address": {"city": "Lyon"}}}  # fmt: skip
    received = deliver(sink, settings, message)
    assert (received.method, received.path) == ("PUT", "/api/v1/customers/user%201%2Fa")
    assert orjson.loads(received.body) == {
        "email": "jane@example.com",
        "created_at": AT_UNIX,
        "plan": "pro",
        "trialEnds": AT_UNIX + 86400,
        "address": {"city": "Lyon"},
        "anonymous_id": "anon-1",
    }


def test_dates_stay_iso_without_conversion_but_created_at_is_always_unix(sink, settings):
    message = {"type": "identify", "messageId": "m-1", "userId": "u1",
               "traits": {"createdAt": AT, "renewal": "2024-06-01"}}  # fmt: skip
    received = deliver(sink, settings, message, convertToUnixTime=False)
    assert orjson.loads(received.body) == {"renewal": "2024-06-01", "created_at": AT_UNIX}


def test_track_posts_a_customer_event(sink, settings):
    message = {"type": "track", "messageId": "m-1", "userId": "u1", "event": "Order Completed",
               "timestamp": AT, "properties": {"total": 30, "at": "2024-05-01T12:00:00Z"}}  # fmt: skip
    received = deliver(sink, settings, message)
    assert (received.method, received.path) == ("POST", "/api/v1/customers/u1/events")
    assert orjson.loads(received.body) == {
        "name": "Order Completed",
        "data": {"total": 30, "at": AT_UNIX},
        "timestamp": AT_UNIX,
    }


def test_anonymous_track_posts_an_anonymous_event(sink, settings):
    message = {"type": "track", "messageId": "m-1", "anonymousId": "anon-1", "event": "Signed Up",
               "timestamp": AT, "properties": {}}  # fmt: skip
    received = deliver(sink, settings, message)
    assert (received.method, received.path) == ("POST", "/api/v1/events")
    assert orjson.loads(received.body) == {
        "name": "Signed Up",
        "data": {},
        "timestamp": AT_UNIX,
        "anonymous_id": "anon-1",
    }


def test_page_is_an_event_of_type_page_named_after_the_url(sink, settings):
    message = {"type": "page", "messageId": "m-1", "userId": "u1", "name": "Pricing",
               "timestamp": AT, "properties": {"url": "https://example.com/pricing", "title": "P"}}  # fmt: skip
    received = deliver(sink, settings, message)
    assert (received.method, received.path) == ("POST", "/api/v1/customers/u1/events")
    assert orjson.loads(received.body) == {
        "name": "https://example.com/pricing",
        "type": "page",
        "data": {"url": "https://example.com/pricing", "title": "P"},
        "timestamp": AT_UNIX,
    }


def test_anonymous_page_takes_the_url_from_the_context(sink, settings):
    message = {"type": "page", "messageId": "m-1", "anonymousId": "a1", "timestamp": AT,
               "context": {"page": {"url": "https://example.com/"}}}  # fmt: skip
    received = deliver(sink, settings, message)
    assert (received.method, received.path) == ("POST", "/api/v1/events")
    assert orjson.loads(received.body) == {"name": "https://example.com/", "type": "page",
                                           "data": {}, "timestamp": AT_UNIX, "anonymous_id": "a1"}  # fmt: skip


def test_screen_is_an_event_of_type_screen(sink, settings):
    message = {"type": "screen", "messageId": "m-1", "userId": "u1", "name": "Home",
               "timestamp": AT, "properties": {"tab": 2}}  # fmt: skip
    received = deliver(sink, settings, message)
    assert (received.method, received.path) == ("POST", "/api/v1/customers/u1/events")
    assert orjson.loads(received.body) == {
        "name": "Home",
        "type": "screen",
        "data": {"tab": 2},
        "timestamp": AT_UNIX,
    }


def test_alias_merges_the_previous_person_into_the_user(sink, settings):
    message = {"type": "alias", "messageId": "m-1", "userId": "u1", "previousId": "old-1"}
    received = deliver(sink, settings, message)
    assert (received.method, received.path) == ("POST", "/api/v1/merge_customers")
    assert orjson.loads(received.body) == {"primary": {"id": "u1"}, "secondary": {"id": "old-1"}}


def test_unsupported_calls_are_reported_with_a_reason(sink):
    messages = [
        {"type": "group", "messageId": "g", "userId": "u1", "groupId": "c1"},
        {"type": "identify", "messageId": "i", "anonymousId": "a1", "traits": {}},
        {"type": "screen", "messageId": "s", "userId": "u1"},
        {"type": "alias", "messageId": "a", "userId": "u1"},
    ]
    requests, unsupported = adapter(sink).build(messages)
    assert requests == []
    assert unsupported == [
        Unsupported("g", "group calls are not supported by Customer.io"),
        Unsupported("i", "identify calls need a userId for Customer.io"),
        Unsupported("s", "screen calls need a screen name for Customer.io"),
        Unsupported("a", "alias calls need a previousId for Customer.io"),
    ]


@pytest.mark.parametrize(
    "settings_, url",
    [
        ({}, "https://track.customer.io/api/v1/customers/u1"),
        ({"region": "EU"}, "https://track-eu.customer.io/api/v1/customers/u1"),
        ({"region": "EU", "endpoint": "https://proxy.example/"}, "https://proxy.example/api/v1/customers/u1"),
    ],
)  # fmt: skip
def test_region_and_endpoint_override(settings_, url):
    tool = adapter_for("customer-io")({"siteId": "s", "apiKey": "k", **settings_})
    (request,), _ = tool.build([{"type": "identify", "messageId": "m", "userId": "u1"}])
    assert request.url == url


def test_status_codes_map_to_verdicts(sink):
    tool = adapter(sink)
    (request,), _ = tool.build([{"type": "identify", "messageId": "m", "userId": "u1"}])
    verdicts = {
        s: tool.interpret(request, s, b"{}").verdict for s in (200, 400, 401, 404, 429, 500, 503)
    }
    assert verdicts == {200: Verdict.DELIVERED, 400: Verdict.DISCARD, 401: Verdict.DISCARD,
                        404: Verdict.DISCARD, 429: Verdict.RETRY, 500: Verdict.RETRY,
                        503: Verdict.RETRY}  # fmt: skip
