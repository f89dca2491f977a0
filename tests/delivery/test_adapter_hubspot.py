import orjson
import pytest

from delivery.adapters import adapter_for
from delivery.adapters.base import Unsupported, Verdict
from delivery.sender import send
from tests.sinks import Reply

AT = "2024-05-01T12:00:00.000Z"
UPSERT = "/crm/v3/objects/contacts/batch/upsert"


def adapter(sink, **settings):
    return adapter_for("hubspot")(
        {"portalId": "123", "privateAppToken": "pat-1", "endpoint": sink.url, **settings},
        names=("HubSpot",),
    )


def deliver(sink, settings, messages, **adapter_settings):
    """Sends every request; returns (results, [(method, path, body)])."""
    settings.EGRESS_ALLOW_PRIVATE = True
    tool = adapter(sink, **adapter_settings)
    requests, unsupported = tool.build(messages)
    assert unsupported == []
    results = []
    for request in requests:
        response = send(request)
        results.append(tool.interpret(request, response.status, response.body))
    for received in sink.received:
        assert received.headers["content-type"] == "application/json"
        assert received.headers["authorization"] == "Bearer pat-1"
    return results, [(r.method, r.path, orjson.loads(r.body)) for r in sink.received]


def identify(i, email, **traits):
    return {"type": "identify", "messageId": f"m-{i}", "userId": f"u{i}", "timestamp": AT,
            "traits": {"email": email, **traits}}  # fmt: skip


def test_identify_upserts_the_contact_by_email_with_hubspot_property_names(sink, settings):
    message = identify(1, "jane@example.com", firstName="Jane", lastName="Kim", phone="+331",
                       company={"name": "Initech"}, position="CTO", lifecycle_stage="lead",
                       address={"street": "1 Main St", "city": "Lyon", "postalCode": "69001",
                                "country": "FR"},
                       createdAt=AT, **{"Favorite Color": "blue", "tags": ["a", "b"],
                                        "vip": True, "nested": {"x": 1}})  # fmt: skip
    results, sent = deliver(sink, settings, [message])
    assert sent == [
        ("POST", UPSERT, {"inputs": [{"idProperty": "email", "id": "jane@example.com", "properties": {
            "firstname": "Jane", "lastname": "Kim", "phone": "+331", "company": "Initech",
            "jobtitle": "CTO", "lifecyclestage": "lead", "address": "1 Main St", "city": "Lyon",
            "zip": "69001", "country": "FR", "favorite_color": "blue", "tags": "a;b",
            "vip": "true",
        }}]}),
    ]  # fmt: skip
    assert [r.verdict for r in results] == [Verdict.DELIVERED]


def test_identifies_are_batched_100_to_a_request_and_merged_per_email(sink, settings):
    messages = [identify(i, f"user{i}@example.com", n=i) for i in range(205)]
    messages.append(identify(205, "USER204@example.com", plan="pro"))
    _, sent = deliver(sink, settings, messages)
    assert [len(body["inputs"]) for _, _, body in sent] == [100, 100, 5]
    assert sent[2][2]["inputs"][-1] == {
        "idProperty": "email",
        "id": "user204@example.com",
        "properties": {"n": 204, "plan": "pro"},
    }


def test_identify_without_email_and_other_calls_are_unsupported(sink):
    requests, unsupported = adapter(sink).build(
        [
            {"type": "identify", "messageId": "i", "userId": "u1", "traits": {"name": "x"}},
            {"type": "track", "messageId": "t", "userId": "u1", "event": "E"},
            {"type": "page", "messageId": "p", "userId": "u1"},
            {"type": "screen", "messageId": "s", "userId": "u1"},
            {"type": "group", "messageId": "g", "userId": "u1", "groupId": "c"},
            {"type": "alias", "messageId": "a", "userId": "u1", "previousId": "x"},
        ]
    )
    assert requests == []
    assert unsupported == [
        Unsupported("i", "identify calls need traits.email for HubSpot, which finds contacts by email"),
        Unsupported("t", "track calls need properties.email for HubSpot"),
        Unsupported("p", "page calls reach HubSpot only in device mode"),
        Unsupported("s", "screen calls reach HubSpot only in device mode"),
        Unsupported("g", "group calls are not supported by HubSpot"),
        Unsupported("a", "alias calls are not supported by HubSpot"),
    ]  # fmt: skip


def test_track_sends_a_custom_behavioral_event(sink, settings):
    sink.default = Reply(204, b"")
    messages = [
        {"type": "track", "messageId": "t1", "userId": "u1", "event": "Bought Item!",
         "timestamp": "2024-05-01T14:00:00+02:00",
         "properties": {"email": "j@example.com", "Item Name": "bag", "price": 3, "meta": {"a": 1}}},
        {"type": "track", "messageId": "t2", "userId": "u1", "event": "pe123_existing_event",
         "timestamp": AT, "context": {"traits": {"email": "k@example.com"}}},
    ]  # fmt: skip
    results, sent = deliver(sink, settings, messages)
    assert sent == [
        ("POST", "/events/v3/send", {"eventName": "pe123_bought_item", "email": "j@example.com",
                                      "occurredAt": AT, "properties": {"item_name": "bag", "price": 3}}),
        ("POST", "/events/v3/send", {"eventName": "pe123_existing_event", "email": "k@example.com",
                                      "occurredAt": AT, "properties": {}}),
    ]  # fmt: skip
    assert [r.verdict for r in results] == [Verdict.DELIVERED, Verdict.DELIVERED]


def test_multi_status_discards_only_the_failed_inputs(sink, settings):
    sink.replies.append(Reply(207, orjson.dumps({
        "status": "COMPLETE", "results": [{"id": "1", "properties": {}}], "numErrors": 1,
        "errors": [{"status": "error", "category": "VALIDATION_ERROR",
                    "message": "Email address b@example is invalid", "context": {"ids": ["b@example"]}}],
    })))  # fmt: skip
    messages = [identify(1, "a@example.com"), identify(2, "b@example"), identify(3, "B@example")]
    results, _ = deliver(sink, settings, messages)
    (result,) = results
    assert result.verdict == Verdict.DELIVERED
    assert result.per_message == {
        "m-2": (Verdict.DISCARD, "HubSpot: Email address b@example is invalid"),
        "m-3": (Verdict.DISCARD, "HubSpot: Email address b@example is invalid"),
    }


def test_a_refused_property_discards_its_contacts_and_sends_the_others_again(sink, settings):
    sink.replies.append(Reply(400, orjson.dumps({
        "status": "error", "message": "Property values were not valid", "category": "VALIDATION_ERROR",
        "errors": [{"message": "Property \"shoe_size\" does not exist", "code": "PROPERTY_DOESNT_EXIST",
                    "context": {"propertyName": ["shoe_size"]}}],
    })))  # fmt: skip
    messages = [identify(1, "a@example.com", plan="x"), identify(2, "b@example.com", shoe_size=42)]
    (result,), _ = deliver(sink, settings, messages)
    assert result.verdict == Verdict.DISCARD
    assert result.per_message == {
        "m-2": (Verdict.DISCARD, 'HubSpot: Property "shoe_size" does not exist'),
        "m-1": (Verdict.RETRY, "sent again without the contacts HubSpot refused"),
    }


@pytest.mark.parametrize("status, verdict", [(200, "delivered"), (204, "delivered"), (400, "discard"),
                                             (401, "discard"), (403, "discard"), (429, "retry"),
                                             (500, "retry"), (502, "retry")])  # fmt: skip
def test_status_codes_map_to_verdicts(sink, status, verdict):
    tool = adapter(sink)
    (request,), _ = tool.build([identify(1, "a@example.com")])
    result = tool.interpret(request, status, b'{"status": "error", "message": "x"}')
    assert (result.verdict, result.per_message) == (verdict, {})


def test_eu_data_center_and_endpoint_override():
    settings = {"portalId": "1", "privateAppToken": "t", "enableEuDataCenterMobile": True}
    assert adapter_for("hubspot")(settings).endpoint == "https://api-eu1.hubapi.com"
    assert (
        adapter_for("hubspot")({**settings, "endpoint": "https://p.example/"}).endpoint
        == "https://p.example"
    )
    assert adapter_for("hubspot")({"portalId": "1"}).endpoint == "https://api.hubapi.com"
