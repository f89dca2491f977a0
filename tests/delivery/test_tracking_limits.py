"""Requests the tracking API refuses whole, with a 400 and ``{"code", "message"}``; nothing of
them is stored."""

import orjson
import pytest

from delivery.models import Event, IngestBatch
from segapp.jsondepth import MAX_DEPTH
from tests.delivery.conftest import NESTED, track, with_nesting


def assert_refused(response, code: str, status: int = 400):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and body["message"]
    assert not Event.objects.exists() and not IngestBatch.objects.exists()


@pytest.mark.parametrize("raw", [b"{not json", b"", b'{"batch": [}'])
def test_invalid_json_is_refused(api, raw):
    assert_refused(api.post("/v1/batch", raw=raw), "invalid_json")


def test_a_body_that_is_not_an_object_is_refused(api):
    assert_refused(api.post("/v1/batch", raw=b"[1, 2]"), "invalid_request")


def test_a_batch_that_is_not_a_list_is_refused(api):
    assert_refused(api.post("/v1/batch", {"batch": {"type": "track"}}), "invalid_request")


def test_message_over_32kb_is_refused(api):
    big = track(1, properties={"blob": "x" * (32 * 1024)})
    response = api.batch([track(0), big])
    assert_refused(response, "message_too_large")
    assert "Message 1" in response.json()["message"]


def test_message_just_under_32kb_is_accepted(api):
    message = track(1, properties={"blob": ""})
    message["properties"]["blob"] = "x" * (32 * 1024 - len(orjson.dumps(message)))
    assert len(orjson.dumps(message)) == 32 * 1024
    response = api.batch([message, track(2, properties={"blob": "y" * 20_000})])
    assert response.status_code == 200 and response.json()["accepted"] == 2


def test_single_message_over_32kb_is_refused(api):
    response = api.post("/v1/track", track(1, properties={"blob": "x" * 33_000}))
    assert_refused(response, "message_too_large")


def test_request_over_500kb_is_refused(api):
    batch = [track(n, properties={"blob": "x" * 30_000}) for n in range(18)]
    assert len(orjson.dumps({"batch": batch})) > 500 * 1024
    assert_refused(api.batch(batch), "request_too_large")


def test_gzip_request_over_500kb_once_inflated_is_refused(api):
    batch = [track(n, properties={"blob": "x" * 30_000}) for n in range(18)]
    response = api.post("/v1/batch", {"batch": batch}, compress=True)
    assert_refused(response, "request_too_large")


def test_batch_over_2500_messages_is_refused(api):
    response = api.batch([{"type": "track"}] * 2501)
    assert_refused(response, "batch_too_large")
    assert "2501" in response.json()["message"]


def test_batch_of_2500_messages_is_accepted(api):
    response = api.batch([track(n) for n in range(2500)])
    assert response.status_code == 200 and response.json()["accepted"] == 2500
    assert Event.objects.count() == 2500


# 300 levels: orjson reads it (up to 1,024) but cannot write it back (past ~254).
@pytest.mark.parametrize("levels", [MAX_DEPTH, 300])
def test_single_message_nested_too_deep_is_refused(api, levels):
    response = api.post("/v1/track", raw=with_nesting(track(1, properties=NESTED), levels))
    assert_refused(response, "too_deep")
    assert f"{MAX_DEPTH} levels" in response.json()["message"]


def test_single_message_nested_to_the_limit_is_accepted(api):
    raw = with_nesting(track(1, properties=NESTED), MAX_DEPTH - 1)
    response = api.post("/v1/track", raw=raw)
    assert response.status_code == 200 and response.json()["accepted"] == 1


@pytest.mark.parametrize("field", ["context", "integrations", "extra"])
def test_batch_nested_too_deep_outside_its_messages_is_refused(api, field):
    raw = with_nesting({"batch": [track(1)], field: NESTED}, 300)
    assert_refused(api.post("/v1/batch", raw=raw), "too_deep")


def test_body_nested_past_what_json_parsers_read_is_refused(api):
    raw = b'{"batch": [' + b"[" * 2000 + b"]" * 2000 + b"]}"
    assert_refused(api.post("/v1/batch", raw=raw), "invalid_json")
