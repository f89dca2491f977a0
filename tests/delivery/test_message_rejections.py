"""A bad message is refused on its own: its request's other messages are stored, and the refusal
and its reason are recorded."""

import orjson
import pytest

from delivery.models import Event, IngestBatch, RejectedMessage
from segapp.jsondepth import MAX_DEPTH
from tests.delivery.conftest import NESTED, track, with_nesting


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ({"type": "track", "event": "Clicked"}, "missing_identity"),
        ({"type": "identify", "userId": "", "anonymousId": None}, "missing_identity"),
        ({"type": "track", "userId": "u1"}, "missing_event"),
        ({"type": "track", "userId": "u1", "event": ""}, "missing_event"),
        ({"type": "alias", "userId": "u1"}, "missing_alias_ids"),
        ({"type": "alias", "previousId": "u0", "anonymousId": "a1"}, "missing_alias_ids"),
        ({"type": "purchase", "userId": "u1"}, "unknown_type"),
        ({"userId": "u1"}, "unknown_type"),
        ({"type": ["track"], "userId": "u1"}, "unknown_type"),
        ("track", "invalid_message"),
        (
            {"type": "track", "userId": "u1", "event": "E", "messageId": "m" * 256},
            "invalid_message_id",
        ),
    ],
)
def test_invalid_message_is_rejected_and_its_neighbours_kept(api, source, message, code):
    response = api.batch([track(1), message, track(2)])

    assert response.status_code == 200
    body = response.json()
    assert (body["success"], body["accepted"], body["rejected"]) == (True, 2, 1)
    assert [(r["index"], r["code"]) for r in body["rejections"]] == [(1, code)]
    assert sorted(Event.objects.values_list("event_name", flat=True)) == ["Event 1", "Event 2"]
    rejection = RejectedMessage.objects.get()
    assert (rejection.source_id, rejection.code) == (source.pk, code)
    assert rejection.reason == body["rejections"][0]["message"]
    batch = IngestBatch.objects.get()
    assert (batch.event_count, batch.rejected_count, rejection.batch_id) == (2, 1, batch.pk)


def test_alias_with_previous_id_and_user_id_needs_no_anonymous_id(api):
    response = api.batch([{"type": "alias", "previousId": "u0", "userId": "u1"}])
    assert response.json()["accepted"] == 1


def test_numeric_user_id_is_accepted(api):
    response = api.batch([{"type": "identify", "userId": 42}])
    assert response.json()["accepted"] == 1
    assert Event.objects.get().user_id == "42"


def test_a_request_of_only_invalid_messages_still_answers_200_and_records_them(api):
    response = api.batch([{"type": "track", "userId": "u"}, {"type": "page"}])
    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "accepted": 0,
        "rejected": 2,
        "rejections": [
            {"index": 0, "code": "missing_event", "message": "A track call needs an event name."},
            {
                "index": 1,
                "code": "missing_identity",
                "message": "A message needs a userId or an anonymousId.",
            },
        ],
    }
    assert RejectedMessage.objects.count() == 2 and not Event.objects.exists()
    assert IngestBatch.objects.get().routed_at is not None  # nothing to route


def test_rejected_message_keeps_what_the_client_sent(api):
    api.batch([{"type": "track", "userId": "u1", "messageId": "m-1", "properties": {"a": 1}}])
    rejection = RejectedMessage.objects.get()
    assert (rejection.message_id, rejection.type) == ("m-1", "track")
    assert '"properties":{"a":1}' in rejection.payload


# 300 levels is past what orjson can write back; the padding takes the request over 32KB, where
# each message's size is measured.
@pytest.mark.parametrize(("levels", "padding"), [(MAX_DEPTH, 0), (300, 0), (300, 30_000)])
def test_message_nested_too_deep_is_rejected_and_its_neighbours_kept(api, levels, padding):
    at_the_limit = with_nesting(track(3, properties=NESTED), MAX_DEPTH - 1)
    too_deep = with_nesting(track(2, messageId="deep-1", properties=NESTED), levels)
    padded = orjson.dumps(track(4, properties={"blob": "x" * padding}))
    messages = b",".join([orjson.dumps(track(1)), too_deep, at_the_limit, padded])
    response = api.post("/v1/batch", raw=b'{"batch": [' + messages + b"]}")

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (3, 1)
    (rejection,) = body["rejections"]
    assert (rejection["index"], rejection["code"]) == (1, "too_deep")
    assert f"{MAX_DEPTH} levels" in rejection["message"]
    assert sorted(Event.objects.values_list("event_name", flat=True)) == [
        "Event 1",
        "Event 3",
        "Event 4",
    ]
    stored = RejectedMessage.objects.get()
    assert (stored.code, stored.message_id, stored.type) == ("too_deep", "deep-1", "track")
    assert '"event":"Event 2"' in stored.payload  # kept, its depths cut at the limit
    assert IngestBatch.objects.get().rejected_count == 1
