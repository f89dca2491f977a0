import orjson
import pytest

from delivery.adapters import adapter_for
from delivery.adapters.base import Unsupported, Verdict
from delivery.adapters.braze import rest_endpoint
from delivery.sender import send
from tests.sinks import Reply

AT = "2024-05-01T12:00:00.000Z"


def adapter(sink, **settings):
    return adapter_for("braze")(
        {"appGroupId": "rest-key", "datacenter": "us", "restCustomEndpoint": sink.url, **settings},
        names=("Braze", "Appboy"),
    )


def deliver(sink, settings, messages, **adapter_settings):
    """Sends every request; returns the JSON bodies the sink received."""
    settings.EGRESS_ALLOW_PRIVATE = True
    tool = adapter(sink, **adapter_settings)
    requests, unsupported = tool.build(messages)
    assert unsupported == []
    for request in requests:
        response = send(request)
        assert tool.interpret(request, response.status, response.body).verdict == "delivered"
    for received in sink.received:
        assert (received.method, received.path) == ("POST", "/users/track")
        assert received.headers["content-type"] == "application/json"
        assert received.headers["authorization"] == "Bearer rest-key"
    return [orjson.loads(received.body) for received in sink.received]


def test_identify_maps_special_traits_to_profile_fields(sink, settings):
    message = {"type": "identify", "messageId": "m-1", "userId": "u1", "timestamp": AT,
               "traits": {"firstName": "Jane", "lastName": "Kim", "email": "jane@example.com",
                          "phone": "+33100000000", "gender": "female", "birthday": "1990-02-03T00:00:00Z",
                          "avatar": "https://example.com/a.png", "plan": "pro", "tags": ["a", "b"],
                          "address": {"city": "Lyon", "country": "FR"}, "nested": {"x": 1}}}  # fmt: skip
    assert deliver(sink, settings, [message]) == [
        {
            "attributes": [
                {
                    "external_id": "u1",
                    "home_city": "Lyon",
                    "country": "FR",
                    "first_name": "Jane",
                    "last_name": "Kim",
                    "email": "jane@example.com",
                    "phone": "+33100000000",
                    "gender": "F",
                    "dob": "1990-02-03",
                    "image_url": "https://example.com/a.png",
                    "plan": "pro",
                    "tags": ["a", "b"],
                }
            ]
        }
    ]


def test_anonymous_users_are_aliases_and_braze_id_comes_from_the_integrations_object(
    sink, settings
):
    anonymous = {
        "type": "identify",
        "messageId": "m-1",
        "anonymousId": "a1",
        "traits": {"plan": "x"},
    }
    with_braze_id = {"type": "identify", "messageId": "m-2", "anonymousId": "a2", "traits": {},
                     "integrations": {"Braze": {"braze_id": "b-42"}}}  # fmt: skip
    assert deliver(sink, settings, [anonymous, with_braze_id]) == [
        {
            "attributes": [
                {
                    "user_alias": {"alias_name": "a1", "alias_label": "anonymous_id"},
                    "_update_existing_only": False,
                    "plan": "x",
                },
                {"braze_id": "b-42"},
            ]
        }
    ]


def test_update_existing_only_is_passed_on(sink, settings):
    message = {"type": "identify", "messageId": "m-1", "userId": "u1", "traits": {"plan": "x"}}
    assert deliver(sink, settings, [message], updateExistingOnly=True) == [
        {"attributes": [{"external_id": "u1", "_update_existing_only": True, "plan": "x"}]}
    ]


def test_track_is_an_event_without_braze_reserved_properties(sink, settings):
    message = {"type": "track", "messageId": "m-1", "userId": "u1", "event": "Played Song",
               "timestamp": "2024-05-01T14:00:00+02:00",
               "properties": {"song": "x", "time": 3, "price": 1, "currency": "EUR", "quantity": 2,
                              "event_name": "y"}}  # fmt: skip
    assert deliver(sink, settings, [message]) == [
        {"events": [{"external_id": "u1", "name": "Played Song", "time": AT, "properties": {"song": "x"}}]}
    ]  # fmt: skip


def test_order_completed_products_become_purchases(sink, settings):
    message = {"type": "track", "messageId": "m-1", "userId": "u1", "event": "Order Completed",
               "timestamp": AT,
               "properties": {"order_id": "o1", "currency": "EUR", "products": [
                   {"product_id": "p1", "price": 10, "quantity": 2, "name": "Bag"},
                   {"sku": "s2", "price": "5.5"}]}}  # fmt: skip
    assert deliver(sink, settings, [message]) == [
        {
            "purchases": [
                {"external_id": "u1", "product_id": "p1", "currency": "EUR", "price": 10.0,
                 "quantity": 2, "time": AT, "properties": {"name": "Bag"}},
                {"external_id": "u1", "product_id": "s2", "currency": "EUR", "price": 5.5,
                 "quantity": 1, "time": AT, "properties": {"sku": "s2"}},
            ]
        }
    ]  # fmt: skip


def test_revenue_logs_a_purchase_only_with_the_setting(sink, settings):
    message = {"type": "track", "messageId": "m-1", "userId": "u1", "event": "Upgraded",
               "timestamp": AT, "properties": {"revenue": "20", "currency": "USD", "plan": "pro"}}  # fmt: skip
    assert deliver(sink, settings, [message], logPurchaseWhenRevenuePresent=True) == [
        {"purchases": [{"external_id": "u1", "product_id": "Upgraded", "currency": "USD",
                        "price": 20.0, "quantity": 1, "time": AT, "properties": {"plan": "pro"}}]}
    ]  # fmt: skip
    plain = adapter(sink).build([message])[0][0]
    assert orjson.loads(plain.body) == {"events": [{"external_id": "u1", "name": "Upgraded", "time": AT,
                                                    "properties": {"revenue": "20", "plan": "pro"}}]}  # fmt: skip


def test_pages_are_events_only_when_the_settings_ask(sink, settings):
    named = {"type": "page", "messageId": "m-1", "userId": "u1", "name": "Pricing", "timestamp": AT,
             "properties": {"url": "https://example.com/p"}}  # fmt: skip
    unnamed = {
        "type": "page",
        "messageId": "m-2",
        "userId": "u1",
        "timestamp": AT,
        "properties": {},
    }
    assert deliver(sink, settings, [named, unnamed], trackAllPages=True) == [
        {"events": [
            {"external_id": "u1", "name": "Viewed Pricing Page", "time": AT,
             "properties": {"url": "https://example.com/p"}},
            {"external_id": "u1", "name": "Loaded a Page", "time": AT, "properties": {}},
        ]}
    ]  # fmt: skip
    requests, unsupported = adapter(sink, trackNamedPages=True).build([named, unnamed])
    assert [r.message_ids for r in requests] == [["m-1"]]
    assert unsupported == [
        Unsupported(
            "m-2",
            "page calls reach Braze only with Track All Pages, or Track Only Named Pages for named pages",
        )
    ]


def test_group_sets_a_group_attribute(sink, settings):
    message = {"type": "group", "messageId": "m-1", "userId": "u1", "groupId": "1234",
               "traits": {"name": "Initech"}}  # fmt: skip
    assert deliver(sink, settings, [message]) == [
        {"attributes": [{"external_id": "u1", "ab_segment_group_1234": True}]}
    ]


def test_screen_and_alias_are_unsupported(sink):
    requests, unsupported = adapter(sink).build(
        [
            {"type": "screen", "messageId": "s", "userId": "u1", "name": "Home"},
            {"type": "alias", "messageId": "a", "userId": "u1", "previousId": "p"},
        ]
    )
    assert requests == []
    assert unsupported == [
        Unsupported("s", "screen calls are not supported by Braze"),
        Unsupported("a", "alias calls are not supported by Braze"),
    ]


def test_messages_are_batched_75_to_a_request(sink, settings):
    messages = [
        {"type": "track", "messageId": f"t{i}", "userId": f"u{i}", "event": "E", "timestamp": AT}
        for i in range(160)
    ]
    messages.insert(3, {"type": "identify", "messageId": "i0", "userId": "u0", "traits": {"a": 1}})
    bodies = deliver(sink, settings, messages)
    assert [(len(b.get("attributes", [])), len(b["events"])) for b in bodies] == [
        (1, 74),
        (0, 75),
        (0, 11),
    ]
    assert bodies[0]["events"][3] == {
        "external_id": "u3",
        "name": "E",
        "time": AT,
        "properties": {},
    }
    assert bodies[2]["events"][-1]["external_id"] == "u159"


def test_non_fatal_errors_discard_only_the_objects_they_name(sink, settings):
    settings.EGRESS_ALLOW_PRIVATE = True
    sink.replies.append(
        Reply(201, orjson.dumps({"message": "success", "errors": [
            {"type": "'external_id', 'braze_id', or 'user_alias' is required", "input_array": "events", "index": 1},
            {"type": "'name' is invalid", "input_array": "attributes", "index": 0},
        ]}))
    )  # fmt: skip
    messages = [
        {"type": "track", "messageId": "t0", "userId": "u0", "event": "A", "timestamp": AT},
        {"type": "identify", "messageId": "i0", "userId": "u0", "traits": {}},
        {"type": "track", "messageId": "t1", "userId": "u1", "event": "B", "timestamp": AT},
        {"type": "track", "messageId": "t2", "userId": "u2", "event": "C", "timestamp": AT},
    ]
    tool = adapter(sink)
    (request,), _ = tool.build(messages)
    response = send(request)
    result = tool.interpret(request, response.status, response.body)
    assert result.verdict == Verdict.DELIVERED
    assert result.per_message == {
        "t1": (Verdict.DISCARD, "Braze rejected events[1]: 'external_id', 'braze_id', or 'user_alias' is required"),
        "i0": (Verdict.DISCARD, "Braze rejected attributes[0]: 'name' is invalid"),
    }  # fmt: skip


def test_status_codes_map_to_verdicts(sink):
    tool = adapter(sink)
    (request,), _ = tool.build([{"type": "track", "messageId": "m", "userId": "u", "event": "E"}])
    fatal = orjson.dumps({"message": "Valid data must be provided in the 'attributes', 'events', or 'purchases' fields.", "errors": []})  # fmt: skip
    verdicts = {
        s: tool.interpret(request, s, fatal).verdict for s in (201, 202, 400, 401, 429, 500, 503)
    }
    assert verdicts == {201: Verdict.DELIVERED, 202: Verdict.DELIVERED, 400: Verdict.DISCARD,
                        401: Verdict.DISCARD, 429: Verdict.RETRY, 500: Verdict.RETRY,
                        503: Verdict.RETRY}  # fmt: skip
    assert tool.interpret(request, 400, fatal).per_message == {}


@pytest.mark.parametrize(
    "datacenter, endpoint",
    [
        ("us", "https://rest.iad-01.braze.com"), ("US-03", "https://rest.iad-03.braze.com"),
        ("us08", "https://rest.iad-08.braze.com"), ("US-10", "https://rest.us-10.braze.com"),
        ("eu", "https://rest.fra-01.braze.eu"), ("EU-02", "https://rest.fra-02.braze.eu"),
        ("AU-01", "https://rest.au-01.braze.com"), ("", "https://rest.iad-01.braze.com"),
    ],
)  # fmt: skip
def test_datacenter_picks_the_rest_endpoint_unless_a_custom_one_is_set(datacenter, endpoint):
    assert rest_endpoint(datacenter) == endpoint
    tool = adapter_for("braze")({"appGroupId": "k", "datacenter": datacenter})
    assert tool.build([{"type": "group", "messageId": "m", "userId": "u", "groupId": "g"}])[0][
        0
    ].url == (endpoint + "/users/track")
    custom = adapter_for("braze")(
        {"datacenter": datacenter, "restCustomEndpoint": "https://x.example/"}
    )
    assert custom.endpoint == "https://x.example"


def test_an_unknown_data_center_sends_nowhere_rather_than_to_another_region():
    assert rest_endpoint("eu-1") == "" and rest_endpoint("https://rest.iad-01.braze.com") == ""
    tool = adapter_for("braze")({"appGroupId": "k", "datacenter": "eu-1"})
    requests, unsupported = tool.build(
        [{"type": "track", "event": "E", "userId": "u", "messageId": "m"}]
    )
    assert requests == [] and [u.reason for u in unsupported] == [
        "Braze's Data Center setting names no known cluster: set a REST endpoint"]  # fmt: skip
