from delivery.adapters.base import Adapter, PreparedRequest, Result, Verdict
from delivery.deliveries import MAX_FOLLOW_UPS, exchanges


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
    assert [r.path for r in sink.received] == sent
