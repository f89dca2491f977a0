"""Odd but well-formed-enough requests get an answer a client can act on, never a 500: each case
in ``fixtures/odd_tracking_requests.json`` says what the tracking API answers and, for a request
it accepts, which of its messages it accepts or rejects and why."""

import base64
import json
from pathlib import Path

import orjson
import pytest
from django.test import Client

from delivery.models import Event, RejectedMessage

CASES = json.loads((Path(__file__).parent / "fixtures" / "odd_tracking_requests.json").read_text())


def post(write_key: str, path: str, body: bytes):
    auth = "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()
    client = Client(raise_request_exception=False)  # a 500 is an answer to assert on
    return client.post(path, body, "application/json", HTTP_AUTHORIZATION=auth)


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_odd_request_gets_a_clear_answer(write_key, case):
    raw = case.get("body_base64")  # for bodies that are not UTF-8 text
    body = base64.b64decode(raw) if raw else case["body"].encode()
    response = post(write_key, case["path"], body)

    assert response.status_code == case["status"], response.content
    answer = response.json()
    if case["status"] != 200:
        assert answer["code"] == case["code"] and answer["message"]
        return
    rejections = case.get("rejections", [])
    assert (answer["accepted"], answer["rejected"]) == (case["accepted"], len(rejections))
    assert [r["code"] for r in answer.get("rejections", [])] == rejections
    assert Event.objects.count() == case["accepted"]
    assert RejectedMessage.objects.count() == len(rejections)


def test_nul_in_a_searchable_field_is_replaced_in_its_column_and_kept_in_the_payload(write_key):
    # PostgreSQL text cannot hold NUL; the payload is JSON, where it is written as an escape.
    body = orjson.dumps({"event": "Clicked\x00", "userId": "u\x00", "anonymousId": "a\x00"})
    assert post(write_key, "/v1/track", body).status_code == 200

    event = Event.objects.get()
    assert (event.event_name, event.user_id, event.anonymous_id) == (
        "Clicked\ufffd",
        "u\ufffd",
        "a\ufffd",
    )
    assert (event.message["event"], event.message["userId"]) == ("Clicked\x00", "u\x00")


def test_a_rejected_message_with_nul_is_recorded(write_key):
    body = orjson.dumps({"batch": [{"type": "track\x00", "userId": "u", "messageId": "m\x00"}]})
    response = post(write_key, "/v1/batch", body)
    assert response.status_code == 200 and response.json()["rejected"] == 1

    rejection = RejectedMessage.objects.get()
    assert (rejection.code, rejection.type, rejection.message_id) == (
        "unknown_type",
        "track\ufffd",
        "m\ufffd",
    )
    assert orjson.loads(rejection.payload)["messageId"] == "m\x00"
