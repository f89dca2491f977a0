import orjson
import pytest

from delivery.adapters import adapter_for
from delivery.adapters.base import Unsupported, Verdict
from delivery.sender import send

SLUG = "actions-google-analytics-4"
TIME = "2024-03-01T12:00:00.250Z"
TIME_US = 1709294400250000
BASE = {"userId": "user-42", "anonymousId": "anon-42", "timestamp": TIME,
        "context": {"page": {"url": "https://example.com/cart", "title": "Cart",
                             "referrer": "https://search.example/"}}}  # fmt: skip
ORDER = {**BASE, "type": "track", "messageId": "m-order", "event": "Order Completed",
         "properties": {"order_id": "o-1", "total": 30, "currency": "USD", "coupon": "HALF",
                        "shipping_method": "express",
                        "products": [{"product_id": "p-1", "name": "Mug", "price": 10, "quantity": 3,
                                      "category": "Kitchen"}]}}  # fmt: skip
CUSTOM = {**BASE, "type": "track", "messageId": "m-custom", "event": "Video Played",
          "properties": {"videoTitle": "Intro", "durationSeconds": 30, "meta": {"a": 1}}}  # fmt: skip
PAGE = {**BASE, "type": "page", "messageId": "m-page", "name": "Cart", "properties": {}}
SCREEN = {**BASE, "type": "screen", "messageId": "m-screen", "name": "Home"}
IDENTIFY = {**BASE, "type": "identify", "messageId": "m-identify", "traits": {"plan": "pro"}}
GROUP = {**BASE, "type": "group", "messageId": "m-group", "groupId": "g-1"}
ALIAS = {**BASE, "type": "alias", "messageId": "m-alias", "previousId": "anon-42"}


def ga4(sink=None, **settings):
    endpoint = {"endpoint": sink.url} if sink else {}
    return adapter_for(SLUG)({"measurementId": "G-TEST1", "apiSecret": "s3cret", **endpoint,
                              **settings}, names=("Google Analytics 4 Cloud",))  # fmt: skip


def test_track_page_and_screen_as_measurement_protocol_events(sink, settings):
    settings.EGRESS_ALLOW_PRIVATE = True
    adapter = ga4(sink)
    requests, unsupported = adapter.build([ORDER, CUSTOM, PAGE, SCREEN, IDENTIFY, GROUP, ALIAS])
    assert unsupported == [
        Unsupported("m-identify", "identify calls are not supported by Google Analytics 4 Cloud: "
                    "the Measurement Protocol sets user properties only alongside events"),
        Unsupported("m-group", "group calls are not supported by Google Analytics 4 Cloud: it has "
                    "no group equivalent"),
        Unsupported("m-alias", "alias calls are not supported by Google Analytics 4 Cloud: it has "
                    "no alias equivalent"),
    ]  # fmt: skip
    (prepared,) = requests
    response = send(prepared)
    assert adapter.interpret(prepared, response.status, response.body).verdict == "delivered"

    (received,) = sink.received
    assert received.method == "POST"
    assert received.path == "/mp/collect?measurement_id=G-TEST1&api_secret=s3cret"
    assert received.headers["content-type"] == "application/json"
    assert prepared.message_ids == ["m-order", "m-custom", "m-page", "m-screen"]
    assert orjson.loads(received.body) == {
        "client_id": "anon-42",
        "user_id": "user-42",
        "timestamp_micros": TIME_US,
        "events": [
            {"name": "purchase", "timestamp_micros": TIME_US,
             "params": {"transaction_id": "o-1", "value": 30, "currency": "USD", "coupon": "HALF",
                        "shipping_method": "express",
                        "items": [{"item_id": "p-1", "item_name": "Mug", "item_category": "Kitchen",
                                   "price": 10, "quantity": 3}]}},
            {"name": "video_played", "timestamp_micros": TIME_US,
             "params": {"video_title": "Intro", "duration_seconds": 30}},
            {"name": "page_view", "timestamp_micros": TIME_US,
             "params": {"page_location": "https://example.com/cart", "page_title": "Cart",
                        "page_referrer": "https://search.example/"}},
            {"name": "screen_view", "timestamp_micros": TIME_US, "params": {"screen_name": "Home"}},
        ],
    }  # fmt: skip


def test_single_product_events_carry_one_item_and_its_value():
    added = {**BASE, "type": "track", "messageId": "m", "event": "Product Added",
             "properties": {"product_id": "p-1", "name": "Mug", "price": 10, "quantity": 2,
                            "currency": "EUR"}}  # fmt: skip
    (request,), _ = ga4().build([added])
    assert orjson.loads(request.body)["events"][0] == {
        "name": "add_to_cart", "timestamp_micros": TIME_US,
        "params": {"currency": "EUR", "value": 20,
                   "items": [{"item_id": "p-1", "item_name": "Mug", "price": 10, "quantity": 2}]},
    }  # fmt: skip


def test_integrations_options_set_client_session_and_engagement():
    options = {"Google Analytics 4 Cloud": {"client_id": "1234.5678", "session_id": 1709294000,
                                            "engagement_time_msec": 100}}  # fmt: skip
    (request,), _ = ga4().build([{**SCREEN, "integrations": options}])
    assert request.url == (
        "https://www.google-analytics.com/mp/collect?measurement_id=G-TEST1&api_secret=s3cret"
    )
    assert orjson.loads(request.body) == {
        "client_id": "1234.5678", "user_id": "user-42", "timestamp_micros": TIME_US,
        "events": [{"name": "screen_view", "timestamp_micros": TIME_US,
                    "params": {"screen_name": "Home", "session_id": 1709294000,
                               "engagement_time_msec": 100}}],
    }  # fmt: skip


def test_app_streams_use_the_firebase_app_id_and_app_instance_id():
    adapter = ga4(measurementId="", firebaseAppId="1:123:android:abc")
    options = {"Google Analytics 4 Cloud": {"app_instance_id": "f0e1d2c3b4a5968778695a4b3c2d1e0f"}}
    (request,), _ = adapter.build([{**SCREEN, "integrations": options}])
    assert request.url == ("https://www.google-analytics.com/mp/collect?"
                           "firebase_app_id=1%3A123%3Aandroid%3Aabc&api_secret=s3cret")  # fmt: skip
    body = orjson.loads(request.body)
    assert body["app_instance_id"] == "f0e1d2c3b4a5968778695a4b3c2d1e0f" and "client_id" not in body


def test_each_request_speaks_for_one_client_with_at_most_25_events(sink, settings):
    settings.EGRESS_ALLOW_PRIVATE = True
    adapter = ga4(sink)
    messages = []
    for i in range(30):
        messages.append({**CUSTOM, "messageId": f"a-{i}", "anonymousId": "anon-a", "userId": None})
        if i < 3:
            messages.append(
                {**CUSTOM, "messageId": f"b-{i}", "anonymousId": "anon-b", "userId": "u-b"}
            )
    requests, _ = adapter.build(messages)
    for prepared in requests:
        send(prepared)
    bodies = [orjson.loads(r.body) for r in sink.received]
    assert [(b["client_id"], b.get("user_id"), len(b["events"])) for b in bodies] == [
        ("anon-a", None, 25), ("anon-a", None, 5), ("anon-b", "u-b", 3)
    ]  # fmt: skip
    assert requests[1].message_ids == [f"a-{i}" for i in range(25, 30)]
    assert requests[2].message_ids == ["b-0", "b-1", "b-2"]


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ("Session Start", "event name 'session_start' is reserved by Google Analytics 4 Cloud"),
        ("Firebase Sync", "event name 'firebase_sync' is reserved by Google Analytics 4 Cloud"),
        (
            "2FA Enabled",
            "event '2FA Enabled' has no valid Google Analytics 4 Cloud name (start with a letter)",
        ),
        ("!!!", "event '!!!' has no valid Google Analytics 4 Cloud name (start with a letter)"),
    ],
)
def test_event_names_google_would_drop_are_reported(event, reason):
    requests, unsupported = ga4().build([{**CUSTOM, "event": event}])
    assert requests == [] and unsupported == [Unsupported("m-custom", reason)]


def test_names_are_cut_to_forty_characters_and_strings_to_a_hundred():
    message = {**CUSTOM, "event": "A" * 50, "properties": {"note": "n" * 150}}
    (request,), _ = ga4().build([message])
    (event,) = orjson.loads(request.body)["events"]
    assert event["name"] == "a" * 40 and event["params"] == {"note": "n" * 100}


def test_a_stream_id_is_needed():
    _, unsupported = ga4(measurementId="").build([PAGE])
    assert unsupported == [
        Unsupported(
            "m-page", "Google Analytics 4 Cloud needs a Measurement ID or a Firebase App ID setting"
        )
    ]


def test_status_codes_map_to_verdicts():
    adapter = ga4()
    (prepared,), _ = adapter.build([PAGE])
    verdicts = {
        status: adapter.interpret(prepared, status, b"").verdict
        for status in (200, 204, 400, 403, 429, 500, 503)
    }
    # 2xx only says Google received the request: the protocol does not report invalid events.
    assert verdicts == {200: Verdict.DELIVERED, 204: Verdict.DELIVERED, 400: Verdict.DISCARD,
                        403: Verdict.DISCARD, 429: Verdict.RETRY, 500: Verdict.RETRY,
                        503: Verdict.RETRY}  # fmt: skip
