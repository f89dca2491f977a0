from datetime import UTC, datetime, timedelta

import pytest

from delivery.adapters.base import PreparedRequest, Verdict
from delivery.retries import Next, backoff, decide
from delivery.sender import send
from tests.sinks import Reply


def post(url):
    return PreparedRequest("POST", url, b"{}", ["m"], {"Content-Type": "application/json"})


def test_private_addresses_are_refused_unless_allowed(sink, settings):
    settings.EGRESS_ALLOW_PRIVATE = False
    response = send(post(sink.url))
    assert response.status == 0 and "egress policy" in response.error and not sink.received
    settings.EGRESS_ALLOW_PRIVATE = True
    assert send(post(sink.url)).status == 200


def test_non_http_schemes_are_refused(settings):
    settings.EGRESS_ALLOW_PRIVATE = True
    assert "http:// or https://" in send(post("file:///etc/passwd")).error


def test_redirects_are_checked_hop_by_hop(sink, settings):
    settings.EGRESS_ALLOW_PRIVATE = True
    sink.replies = [Reply(302, headers={"Location": "/landed"})]
    assert send(post(sink.url + "/start")).status == 200
    assert [r.path for r in sink.received] == ["/start", "/landed"]


def test_timeouts_and_size_cap(sink, settings):
    settings.EGRESS_ALLOW_PRIVATE = True
    settings.DELIVERY_READ_TIMEOUT = 0.5
    sink.replies = [Reply(delay=2)]
    response = send(post(sink.url))
    assert (response.status, response.error) == (0, "timed out")
    settings.DELIVERY_MAX_RESPONSE_BYTES = 10
    sink.default = Reply(body=b"x" * 1000)
    assert send(post(sink.url)).body == b"x" * 10


def test_retry_after_is_read(sink, settings):
    settings.EGRESS_ALLOW_PRIVATE = True
    sink.replies = [Reply(429, headers={"Retry-After": "7"})]
    assert send(post(sink.url)).retry_after == 7.0


NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("verdict", "state"), [(Verdict.DELIVERED, Next.DELIVERED), (Verdict.DISCARD, Next.DISCARDED)]
)
def test_final_verdicts(verdict, state):
    assert decide(verdict, 1, NOW, NOW).state == state


def test_retries_back_off_exponentially_with_jitter_then_dead_letter(settings):
    settings.DELIVERY_RETRY_WINDOW = 4 * 3600
    delays = [backoff(n) for n in range(1, 12)]
    assert 2.5 <= delays[0] <= 5 and delays[5] > delays[0] and max(delays) <= 30 * 60
    decision = decide(Verdict.RETRY, 1, NOW, NOW)
    assert decision.state == Next.RETRY and NOW < decision.next_attempt_at <= NOW + timedelta(
        seconds=5
    )
    late = NOW + timedelta(hours=4) - timedelta(seconds=1)
    assert decide(Verdict.RETRY, 30, NOW, late).state == Next.DEAD


def test_retry_after_sets_the_next_attempt():
    decision = decide(Verdict.RETRY, 1, NOW, NOW, retry_after=120)
    assert decision.next_attempt_at == NOW + timedelta(seconds=120)
