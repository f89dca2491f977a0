from delivery.adapters import adapter_for
from delivery.adapters.base import Adapter, PreparedRequest, Result, Verdict
from delivery.deliveries import MAX_FOLLOW_UPS, exchanges
from tests.sinks import Reply


class Chatty(Adapter):
    """Every answer calls for one more request."""

    slug = "chatty"

    def build_requests(self, messages):
        return [PreparedRequest("GET", f"{self.endpoint}/{m['messageId']}", b"", [m["messageId"]])
                for m in messages]  # fmt: skip

    def interpret(self, request, status, body):
        more = PreparedRequest("GET", request.url + "/next", b"", request.message_ids)
        return Result(Verdict.DELIVERED, "", follow_up=[more])


def test_follow_ups_go_right_after_their_request_within_a_budget(sink, settings):
    settings.EGRESS_ALLOW_PRIVATE = True
    adapter = Chatty({"endpoint": sink.url})
    requests, _ = adapter.build(
        [{"type": "track", "messageId": "a"}, {"type": "track", "messageId": "b"}]
    )
    sent = [request.url.removeprefix(sink.url) for request, _, _ in exchanges(adapter, requests)]
    chain = ["/a" + "/next" * n for n in range(MAX_FOLLOW_UPS + 1)]
    assert sent == chain + [path.replace("/a", "/b", 1) for path in chain]
    # Its requests depend on one another, so they go out one after the other.
    assert [r.path for r in sink.received] == sent


def test_a_slow_tools_requests_go_out_side_by_side(sink, settings):
    """Ten requests to a tool that takes 0.3 s to answer each: once its answers show it slow,
    the rest are in flight together (the sink sees them at once), up to the setting."""
    settings.EGRESS_ALLOW_PRIVATE = True
    settings.DELIVERY_PARALLEL_REQUESTS = 10
    sink.default = Reply(delay=0.3)
    adapter = adapter_for("webhooks")({"webhookUrls": [f"{sink.url}/hook"]})
    requests, _ = adapter.build([{"type": "track", "messageId": f"m-{n}"} for n in range(10)])
    results = [result.verdict for _, _, result in exchanges(adapter, requests)]
    assert results == [Verdict.DELIVERED] * 10 and len(sink.received) == 10
    assert sink.most_in_flight == 8  # the first two alone (one also waited to connect), then all
