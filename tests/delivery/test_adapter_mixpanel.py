import base64
import hashlib

import orjson
import pytest

from delivery.adapters import adapter_for
from delivery.adapters.base import Unsupported, Verdict
from delivery.sender import send
from tests.sinks import Reply

TIME = "2024-03-01T12:00:00.250Z"
TIME_MS = 1709294400250
CONTEXT = {"ip": "203.0.113.9", "os": {"name": "Android"}, "library": {"name": "analytics-node"},
           "page": {"url": "https://example.com/a", "referrer": "https://search.example/"},
           "campaign": {"source": "newsletter", "name": "spring"}}  # fmt: skip
CONTEXT_PROPERTIES = {"ip": "203.0.113.9", "$os": "Android", "mp_lib": "Segment: analytics-node",
                      "$current_url": "https://example.com/a", "$referrer": "https://search.example/",
                      "utm_source": "newsletter", "utm_campaign": "spring"}  # fmt: skip
BASE = {"userId": "user-42", "anonymousId": "anon-42", "timestamp": TIME, "context": CONTEXT}
IDENTIFY = {**BASE, "type": "identify", "messageId": "m-identify",
            "traits": {"email": "ada@example.com", "firstName": "Ada", "plan": "pro"}}  # fmt: skip
TRACK = {**BASE, "type": "track", "messageId": "m-track", "event": "Order Completed",
         "properties": {"revenue": 25.5}}  # fmt: skip
PAGE = {**BASE, "type": "page", "messageId": "m-page", "name": "Settings", "category": "Merchant"}
SCREEN = {**BASE, "type": "screen", "messageId": "m-screen", "name": "Home"}
GROUP = {**BASE, "type": "group", "messageId": "m-group", "groupId": "g-1",
         "traits": {"company_id": "acme", "employees": 20}}  # fmt: skip
ALIAS = {**BASE, "type": "alias", "messageId": "m-alias", "previousId": "anon-42"}
SETTINGS = {"token": "mp-token", "apiKey": "mp-secret", "people": True, "trackNamedPages": True,
            "groupIdentifierTraits": ["company_id"]}  # fmt: skip
OK = orjson.dumps({"status": 1, "error": None})


def mixpanel(sink=None, **settings):
    endpoint = {"endpoint": sink.url} if sink else {}
    return adapter_for("mixpanel")({**SETTINGS, **endpoint, **settings},
                                   names=("Mixpanel (Legacy)", "Mixpanel"))  # fmt: skip


def deliver(adapter, messages):
    requests, unsupported = adapter.build(messages)
    results = []
    for prepared in requests:
        response = send(prepared)
        results.append(adapter.interpret(prepared, response.status, response.body))
    return requests, results, unsupported


def event(name, message_id, props=None):
    return {"event": name, "properties": {**CONTEXT_PROPERTIES, **(props or {}),
            "distinct_id": "user-42", "time": TIME_MS, "$insert_id": message_id, "token": "mp-token"}}  # fmt: skip


def test_every_message_type_through_import_engage_and_groups(sink, settings):
    settings.EGRESS_ALLOW_PRIVATE = True
    sink.replies = [Reply(200, orjson.dumps({"code": 200, "num_records_imported": 4, "status": "OK"})),
                    Reply(200, OK), Reply(200, OK)]  # fmt: skip
    requests, results, unsupported = deliver(
        mixpanel(sink), [IDENTIFY, TRACK, PAGE, SCREEN, GROUP, ALIAS]
    )
    assert unsupported == []
    assert [r.verdict for r in results] == [Verdict.DELIVERED] * 3
    imports, engage, groups = sink.received
    assert [(r.method, r.path) for r in sink.received] == [
        ("POST", "/import?strict=1"), ("POST", "/engage?verbose=1"), ("POST", "/groups?verbose=1")
    ]  # fmt: skip
    assert [r.message_ids for r in requests] == [
        ["m-track", "m-page", "m-screen", "m-alias"], ["m-identify"], ["m-group"]
    ]  # fmt: skip
    assert imports.headers["content-type"] == "application/json"
    assert imports.headers["authorization"] == "Basic " + base64.b64encode(b"mp-secret:").decode()
    assert orjson.loads(imports.body) == [
        event("Order Completed", "m-track", {"revenue": 25.5}),
        event("Viewed Settings Page", "m-page", {"name": "Settings", "category": "Merchant"}),
        event("Viewed Home Screen", "m-screen", {"name": "Home"}),
        {"event": "$create_alias", "properties": {"distinct_id": "anon-42", "alias": "user-42",
         "time": TIME_MS, "$insert_id": "m-alias", "token": "mp-token"}},
    ]  # fmt: skip

    for received in (engage, groups):
        assert received.headers["content-type"] == "application/json"
        assert "authorization" not in received.headers  # the token authenticates profile updates
    assert orjson.loads(engage.body) == [
        {"$token": "mp-token", "$distinct_id": "user-42", "$ip": "203.0.113.9",
         "$set": {"$email": "ada@example.com", "$first_name": "Ada", "plan": "pro"}}
    ]  # fmt: skip
    assert orjson.loads(groups.body) == [
        {"$token": "mp-token", "$group_key": "company_id", "$group_id": "acme",
         "$set": {"company_id": "acme", "employees": 20}}
    ]  # fmt: skip


def test_explicit_people_properties_and_source_name():
    adapter = mixpanel(setAllTraitsByDefault=False, peopleProperties=["plan"], sourceName="Backend")
    identify = {**IDENTIFY, "context": {"active": False},
                "traits": {"email": "a@example.com", "plan": "pro", "secret": "x"}}  # fmt: skip
    track = {**TRACK, "context": {}, "properties": {}}
    imports, engage = adapter.build([identify, track])[0]
    assert orjson.loads(engage.body) == [
        {"$token": "mp-token", "$distinct_id": "user-42", "$ignore_time": True,
         "$set": {"$email": "a@example.com", "plan": "pro"}}
    ]  # fmt: skip
    assert orjson.loads(imports.body)[0]["properties"] == {
        "segment_source_name": "Backend", "distinct_id": "user-42", "time": TIME_MS,
        "$insert_id": "m-track", "token": "mp-token",
    }  # fmt: skip


def test_unsupported_calls_and_their_reasons():
    adapter = mixpanel(people=False, trackNamedPages=False, groupIdentifierTraits=["org"])
    requests, unsupported = adapter.build([IDENTIFY, PAGE, GROUP, TRACK])
    assert [r.message_ids for r in requests] == [["m-track"]]
    assert unsupported == [
        Unsupported("m-identify", "identify calls are sent to Mixpanel (Legacy) only with Use "
                    "Mixpanel People on"),
        Unsupported("m-page", "page calls are sent to Mixpanel (Legacy) only when a Track Pages "
                    "setting applies"),
        Unsupported("m-group", "group calls are sent to Mixpanel (Legacy) only when a trait named "
                    "in Group Identifier Traits is set"),
    ]  # fmt: skip
    _, unsupported = mixpanel(apiKey="").build([TRACK])
    assert unsupported == [Unsupported("m-track", "track calls need the API Secret setting: "
                                       "Mixpanel (Legacy)'s Import API requires it")]  # fmt: skip


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"trackNamedPages": True}, "Viewed Settings Page"),
        ({"trackCategorizedPages": True, "trackNamedPages": True}, "Viewed Merchant Settings Page"),
        ({"trackAllPages": True, "trackCategorizedPages": True}, "Loaded a Page"),
        ({"consolidatedPageCalls": True}, "Loaded a Page"),
    ],
)
def test_one_event_per_page_call_in_segments_order(config, expected):
    adapter = mixpanel(**{"trackNamedPages": False, **config})
    (request,), _ = adapter.build([PAGE])
    assert [e["event"] for e in orjson.loads(request.body)] == [expected]


def test_endpoints_eu_and_override():
    assert mixpanel().build([TRACK])[0][0].url == "https://api.mixpanel.com/import?strict=1"
    eu = mixpanel(enableEuropeanUnionEndpoint=True).build([TRACK])[0][0]
    assert eu.url == "https://api-eu.mixpanel.com/import?strict=1"
    proxy = mixpanel(enableEuropeanUnionEndpoint=True, endpoint="https://mp.internal/").build(
        [TRACK]
    )
    assert proxy[0][0].url == "https://mp.internal/import?strict=1"


def test_long_message_ids_become_a_stable_insert_id():
    long_id = "ajs-next-1709294400250-0b3c2a1e-4f5d-4c6b-9a7e-1234567890ab"
    (request,), _ = mixpanel().build([{**TRACK, "messageId": long_id}])
    expected = hashlib.sha256(long_id.encode()).hexdigest()[:36]
    assert orjson.loads(request.body)[0]["properties"]["$insert_id"] == expected


def test_batches_of_two_thousand_events(sink, settings):
    settings.EGRESS_ALLOW_PRIVATE = True
    tracks = [{**TRACK, "context": {}, "messageId": f"m-{i}"} for i in range(4500)]
    requests, results, _ = deliver(mixpanel(sink), tracks)
    assert [len(orjson.loads(r.body)) for r in sink.received] == [2000, 2000, 500]
    assert [r.message_ids[0] for r in requests] == ["m-0", "m-2000", "m-4000"]
    assert {r.verdict for r in results} == {Verdict.DELIVERED}


def test_strict_mode_400_discards_only_the_failed_records(sink, settings):
    settings.EGRESS_ALLOW_PRIVATE = True
    # Mixpanel's documented strict-mode answer: it kept the valid events.
    sink.replies = [Reply(400, orjson.dumps({
        "code": 400, "error": "some data points in the request failed validation",
        "status": "Bad Request", "num_records_imported": 2,
        "failed_records": [{"index": 1, "insert_id": "m-1", "field": "properties.time",
                            "message": "'properties.time' is invalid: must be specified as seconds since epoch"}],
    }))]  # fmt: skip
    tracks = [{**TRACK, "context": {}, "messageId": f"m-{i}"} for i in range(3)]
    _, (result,), _ = deliver(mixpanel(sink), tracks)
    assert result.verdict == Verdict.DELIVERED
    assert result.per_message == {
        "m-1": (Verdict.DISCARD, "Mixpanel (Legacy): 'properties.time' is invalid: must be "
                "specified as seconds since epoch"),
        "m-0": (Verdict.DELIVERED, ""),
        "m-2": (Verdict.DELIVERED, ""),
    }  # fmt: skip


def test_a_refused_profile_update_is_discarded_despite_the_200(sink, settings):
    settings.EGRESS_ALLOW_PRIVATE = True
    sink.replies = [Reply(200, orjson.dumps({"status": 0, "error": "$distinct_id is invalid"}))]
    _, (result,), _ = deliver(mixpanel(sink), [IDENTIFY])
    reason = "Mixpanel (Legacy) refused the update: $distinct_id is invalid"
    assert result.verdict == Verdict.DISCARD
    assert result.per_message == {"m-identify": (Verdict.DISCARD, reason)}


def test_status_codes_map_to_verdicts():
    adapter = mixpanel()
    imports, engage = adapter.build([TRACK, IDENTIFY])[0]
    for prepared in (imports, engage):
        verdicts = {
            status: adapter.interpret(prepared, status, b'{"error": "x"}').verdict
            for status in (200, 400, 401, 413, 429, 500, 503)
        }
        assert verdicts == {200: "discard" if prepared is engage else "delivered", 400: "discard",
                            401: "discard", 413: "discard", 429: "retry", 500: "retry",
                            503: "retry"}  # fmt: skip
    assert adapter.interpret(engage, 200, OK).verdict == Verdict.DELIVERED
