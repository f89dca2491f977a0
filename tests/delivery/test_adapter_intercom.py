import orjson

from delivery.adapters import adapter_for
from delivery.adapters.base import Unsupported, Verdict
from delivery.deliveries import exchanges
from tests.sinks import Reply

AT = "2024-05-01T12:00:00.000Z"
AT_UNIX = 1714564800
FOUND = orjson.dumps({"type": "list", "data": [{"type": "contact", "id": "c-9"}], "total_count": 1})
NONE_FOUND = orjson.dumps({"type": "list", "data": [], "total_count": 0})


def adapter(sink, **settings):
    return adapter_for("intercom")(
        {"appId": "app", "apiKey": "tok-1", "endpoint": sink.url, **settings}, names=("Intercom",)
    )


def deliver(sink, settings, message, replies=(), **adapter_settings):
    """Runs the whole exchange (follow-ups included); returns (results, [(method, path, body)])."""
    settings.EGRESS_ALLOW_PRIVATE = True
    sink.replies.extend(replies)
    tool = adapter(sink, **adapter_settings)
    requests, unsupported = tool.build([message])
    assert unsupported == []
    results = [result for _, _, result in exchanges(tool, requests)]
    for received in sink.received:
        assert received.headers["content-type"] == "application/json"
        assert received.headers["accept"] == "application/json"
        assert received.headers["authorization"] == "Bearer tok-1"
        assert received.headers["intercom-version"] == "2.11"
    return results, [(r.method, r.path, orjson.loads(r.body)) for r in sink.received]


IDENTIFY = {"type": "identify", "messageId": "m-1", "userId": "u1", "timestamp": AT,
            "traits": {"email": "jane@example.com", "firstName": "Jane", "lastName": "Kim",
                       "phone": "+331", "createdAt": AT, "plan": "pro", "company": {"id": "c"},
                       "nested": {"a": 1}}}  # fmt: skip
CONTACT = {"role": "user", "external_id": "u1", "email": "jane@example.com", "phone": "+331",
           "name": "Jane Kim", "signed_up_at": AT_UNIX, "custom_attributes": {"plan": "pro"}}  # fmt: skip


def test_identify_updates_the_contact_found_by_external_id(sink, settings):
    results, sent = deliver(sink, settings, IDENTIFY, [Reply(200, FOUND)])
    assert sent == [
        ("POST", "/contacts/search", {"query": {"field": "external_id", "operator": "=", "value": "u1"}}),
        ("PUT", "/contacts/c-9", CONTACT),
    ]  # fmt: skip
    assert [r.verdict for r in results] == [Verdict.DELIVERED, Verdict.DELIVERED]


def test_identify_creates_a_contact_when_none_is_found(sink, settings):
    _, sent = deliver(sink, settings, IDENTIFY, [Reply(200, NONE_FOUND)])
    assert sent[1] == ("POST", "/contacts", CONTACT)


def test_identify_by_email_with_options_context_and_last_seen(sink, settings):
    message = {"type": "identify", "messageId": "m-1", "anonymousId": "a1", "timestamp": AT,
               "traits": {"email": "jane@example.com", "name": "J"},
               "context": {"active": True, "device": {"type": "ios", "model": "iPhone"},
                           "os": {"name": "iOS"}},
               "integrations": {"Intercom": {"unsubscribedFromEmails": True}}}  # fmt: skip
    _, sent = deliver(sink, settings, message, [Reply(200, NONE_FOUND)], collectContext=True)
    assert sent == [
        ("POST", "/contacts/search",
         {"query": {"field": "email", "operator": "=", "value": "jane@example.com"}}),
        ("POST", "/contacts",
         {"role": "user", "email": "jane@example.com", "name": "J", "last_seen_at": AT_UNIX,
          "unsubscribed_from_emails": True,
          "custom_attributes": {"device_type": "ios", "device_model": "iPhone", "os_name": "iOS"}}),
    ]  # fmt: skip


def test_track_posts_an_event_with_flat_metadata(sink, settings):
    properties = {"revenue": 19.99, "currency": "EUR", "nested": {"a": 1}, "list": [1],
                  "article": {"url": "https://example.com/a", "value": "A"},
                  **{f"k{i}": i for i in range(12)}}  # fmt: skip
    message = {"type": "track", "messageId": "m-1", "userId": "u1", "event": "Bought",
               "timestamp": AT, "properties": properties}  # fmt: skip
    results, sent = deliver(sink, settings, message, richLinkProperties=["article"])
    assert sent == [
        ("POST", "/events", {
            "event_name": "Bought", "created_at": AT_UNIX, "user_id": "u1",
            "metadata": {"price": {"amount": 1999, "currency": "EUR"},
                         "article": {"url": "https://example.com/a", "value": "A"},
                         **{f"k{i}": i for i in range(8)}},
        }),
    ]  # fmt: skip
    assert [r.verdict for r in results] == [Verdict.DELIVERED]


def test_track_without_user_id_uses_the_email(sink, settings):
    message = {"type": "track", "messageId": "m-1", "anonymousId": "a", "event": "E",
               "timestamp": AT, "properties": {"email": "j@example.com"}}  # fmt: skip
    _, sent = deliver(sink, settings, message)
    assert sent == [("POST", "/events", {"event_name": "E", "created_at": AT_UNIX,
                                         "email": "j@example.com",
                                         "metadata": {"email": "j@example.com"}})]  # fmt: skip


GROUP = {"type": "group", "messageId": "m-1", "userId": "u1", "groupId": "acme",
         "traits": {"name": "Acme", "plan": "gold", "monthly_spend": 99, "employees": 12,
                    "createdAt": AT, "region": "EU", "address": {"city": "x"}}}  # fmt: skip
COMPANY = {"company_id": "acme", "name": "Acme", "plan": "gold", "monthly_spend": 99, "size": 12,
           "remote_created_at": AT_UNIX, "custom_attributes": {"region": "EU"}}  # fmt: skip


def test_group_upserts_the_company_and_attaches_the_user(sink, settings):
    company = orjson.dumps({"type": "company", "id": "co-1", "company_id": "acme"})
    results, sent = deliver(sink, settings, GROUP, [Reply(200, company), Reply(200, FOUND)])
    assert sent == [
        ("POST", "/companies", COMPANY),
        ("POST", "/contacts/search", {"query": {"field": "external_id", "operator": "=", "value": "u1"}}),
        ("POST", "/contacts/c-9/companies", {"id": "co-1"}),
    ]  # fmt: skip
    assert [r.verdict for r in results] == [Verdict.DELIVERED] * 3


def test_group_for_an_unknown_user_is_discarded_after_the_company_upsert(sink, settings):
    company = orjson.dumps({"type": "company", "id": "co-1"})
    results, sent = deliver(sink, settings, GROUP, [Reply(200, company), Reply(200, NONE_FOUND)])
    assert [(m, p) for m, p, _ in sent] == [("POST", "/companies"), ("POST", "/contacts/search")]
    assert results[-1].verdict == Verdict.DISCARD
    assert results[-1].reason == (
        "the company was saved, but no Intercom contact matches this user to attach it to"
    )


def test_unsupported_calls_are_reported_with_a_reason(sink):
    requests, unsupported = adapter(sink).build(
        [
            {"type": "page", "messageId": "p", "userId": "u1"},
            {"type": "screen", "messageId": "s", "userId": "u1", "name": "Home"},
            {"type": "alias", "messageId": "a", "userId": "u1", "previousId": "x"},
            {"type": "track", "messageId": "t", "anonymousId": "a1", "event": "E"},
        ]
    )
    assert requests == []
    assert unsupported == [
        Unsupported("p", "page calls are not supported by Intercom"),
        Unsupported("s", "screen calls are not supported by Intercom"),
        Unsupported("a", "alias calls are not supported by Intercom"),
        Unsupported("t", "track calls need a userId or an email for Intercom"),
    ]


def test_status_codes_map_to_verdicts_with_intercom_error_messages(sink):
    tool = adapter(sink)
    (request,), _ = tool.build([{"type": "track", "messageId": "m", "userId": "u", "event": "E"}])
    verdicts = {
        s: tool.interpret(request, s, b"{}").verdict
        for s in (200, 202, 400, 401, 404, 409, 429, 500)
    }
    assert verdicts == {200: Verdict.DELIVERED, 202: Verdict.DELIVERED, 400: Verdict.DISCARD,
                        401: Verdict.DISCARD, 404: Verdict.DISCARD, 409: Verdict.DISCARD,
                        429: Verdict.RETRY, 500: Verdict.RETRY}  # fmt: skip
    conflict = orjson.dumps({"type": "error.list", "errors": [
        {"code": "conflict", "message": "A contact matching those details already exists with id=c-9"}]})  # fmt: skip
    result = tool.interpret(request, 409, conflict)
    assert result.reason == "HTTP 409: A contact matching those details already exists with id=c-9"


def test_a_failed_lookup_sends_no_follow_up(sink, settings):
    results, sent = deliver(sink, settings, IDENTIFY, [Reply(503, b"busy")])
    assert [(m, p) for m, p, _ in sent] == [("POST", "/contacts/search")]
    assert [r.verdict for r in results] == [Verdict.RETRY]
