import hashlib
import hmac

import orjson

from delivery.adapters import adapter_for
from delivery.adapters.base import Verdict
from delivery.sender import send

MESSAGE = {"type": "track", "event": "Order Completed", "messageId": "m-1", "userId": "u1",
           "properties": {"total": 30}}  # fmt: skip


def test_posts_each_event_to_every_url_with_headers_and_signature(sink, settings):
    settings.EGRESS_ALLOW_PRIVATE = True
    adapter = adapter_for("webhooks")(
        {
            "webhookUrls": [f"{sink.url}/a", f"{sink.url}/b"],
            "headers": {"X-Team": "data"},
            "sharedSecret": "k3y",
        }
    )
    requests, unsupported = adapter.build([MESSAGE])
    assert unsupported == [] and len(requests) == 2
    for prepared in requests:
        response = send(prepared)
        assert (
            adapter.interpret(prepared, response.status, response.body).verdict == Verdict.DELIVERED
        )
    assert [r.path for r in sink.received] == ["/a", "/b"]
    for received in sink.received:
        assert received.method == "POST" and orjson.loads(received.body) == MESSAGE
        assert received.headers["content-type"] == "application/json"
        assert received.headers["x-team"] == "data"
        expected = hmac.new(b"k3y", received.body, hashlib.sha1).hexdigest()
        assert received.headers["x-signature"] == expected


def test_no_signature_without_a_secret_and_at_most_five_urls(sink):
    adapter = adapter_for("webhooks")({"webhookUrls": [f"{sink.url}/{i}" for i in range(7)]})
    requests, _ = adapter.build([MESSAGE])
    assert len(requests) == 5 and "X-Signature" not in requests[0].headers


def test_status_codes_map_to_verdicts():
    adapter = adapter_for("webhooks")({"webhookUrls": ["http://127.0.0.1:9/"]})
    prepared = adapter.build([MESSAGE])[0][0]
    verdicts = {
        status: adapter.interpret(prepared, status, b"").verdict
        for status in (200, 204, 400, 404, 429, 500, 503)
    }
    assert verdicts == {200: "delivered", 204: "delivered", 400: "discard", 404: "discard", 429: "retry",
                        500: "retry", 503: "retry"}  # fmt: skip


def test_a_message_no_request_carries_is_reported_not_lost():
    adapter = adapter_for("webhooks")({"webhookUrls": [""]})
    requests, unsupported = adapter.build([MESSAGE])
    assert requests == [] and [(u.message_id, u.reason) for u in unsupported] == [
        ("m-1", "Webhooks settings give this call nowhere to go")]  # fmt: skip
