"""How a request reaches the tracking API: auth, body encodings, paths, CORS, disabled sources."""

import base64

import orjson
import pytest

from connections.sources import update_source
from delivery.models import Event
from tests.delivery.conftest import track


def test_basic_auth_alone_is_accepted(api, source):
    response = api.post("/v1/batch", {"batch": [track(1)]})
    assert response.status_code == 200
    assert response.json() == {"success": True, "accepted": 1, "rejected": 0}
    assert Event.objects.get().source_id == source.pk


def test_write_key_in_the_body_alone_is_accepted(api, source, write_key):
    response = api.post("/v1/batch", {"batch": [track(1)], "writeKey": write_key}, basic=None)
    assert response.status_code == 200
    assert Event.objects.get().source_id == source.pk


@pytest.mark.parametrize(
    ("basic", "body_key", "message"),
    [
        (None, None, "Missing write key"),
        ("not-a-key", None, "Invalid write key"),
        (None, "not-a-key", "Invalid write key"),
        ("", None, "Missing write key"),
        # PostgreSQL text cannot hold NUL: no key has one, and looking one up must not fail.
        ("not\x00a-key", None, "Invalid write key"),
        (None, "not\x00a-key", "Invalid write key"),
    ],
)
def test_missing_or_unknown_write_key_is_refused_with_401(api, basic, body_key, message):
    body = {"batch": [track(1)], **({"writeKey": body_key} if body_key else {})}
    response = api.post("/v1/batch", body, basic=basic)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert message in response.json()["message"]
    assert not Event.objects.exists()


def test_malformed_basic_header_is_refused_with_401(api):
    response = api.post(
        "/v1/batch", {"batch": [track(1)]}, basic=None, headers={"Authorization": "Basic %%%"}
    )
    assert response.status_code == 401


def test_disabled_source_is_refused_with_403_saying_so(api, source):
    update_source(source, actor=None, enabled=False)
    response = api.post("/v1/batch", {"batch": [track(1)]})
    assert response.status_code == 403
    assert response.json()["code"] == "source_disabled"
    assert "disabled" in response.json()["message"]
    assert not Event.objects.exists()


def test_text_plain_body_is_accepted_as_browsers_send_it(api):
    response = api.post("/v1/t", track(1), headers={"Content-Type": "text/plain"})
    assert response.status_code == 200
    assert Event.objects.get().event_name == "Event 1"


def test_gzip_body_is_accepted(api):
    response = api.post("/v1/batch", {"batch": [track(1), track(2)]}, compress=True)
    assert response.status_code == 200 and response.json()["accepted"] == 2
    assert Event.objects.count() == 2


def test_corrupt_gzip_is_refused(api):
    response = api.post("/v1/batch", raw=b"not gzip at all", headers={"Content-Encoding": "gzip"})
    assert response.status_code == 400 and response.json()["code"] == "invalid_gzip"


def test_unknown_content_encoding_is_refused(api):
    response = api.post("/v1/batch", {"batch": [track(1)]}, headers={"Content-Encoding": "br"})
    assert response.status_code == 415 and response.json()["code"] == "unsupported_encoding"


@pytest.mark.parametrize(
    ("path", "expected_type"),
    [
        ("/v1/identify", "identify"),
        ("/v1/track", "track"),
        ("/v1/page", "page"),
        ("/v1/screen", "screen"),
        ("/v1/group", "group"),
        ("/v1/alias", "alias"),
        ("/v1/i", "identify"),
        ("/v1/t", "track"),
        ("/v1/p", "page"),
        ("/v1/s", "screen"),
        ("/v1/g", "group"),
        ("/v1/a", "alias"),
    ],
)
def test_single_message_paths_take_the_type_from_the_path(api, path, expected_type):
    # The body says "identify" everywhere: the path decides.
    message = {"type": "identify", "userId": "u1", "previousId": "u0", "event": "Clicked"}
    response = api.post(path, message)
    assert response.status_code == 200, response.text
    assert Event.objects.get().type == expected_type


@pytest.mark.parametrize("path", ["/v1/batch", "/v1/b", "/v1/import"])
def test_batch_paths_accept_a_batch(api, path):
    response = api.post(path, {"batch": [track(1), {"type": "identify", "anonymousId": "a"}]})
    assert response.status_code == 200
    assert sorted(Event.objects.values_list("type", flat=True)) == ["identify", "track"]


def test_cors_preflight_allows_any_origin_and_the_client_headers(live_server):
    import requests

    response = requests.options(
        f"{live_server.url}/v1/batch",
        headers={
            "Origin": "https://shop.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
        timeout=5,
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed

    without_request_headers = requests.options(f"{live_server.url}/v1/t", timeout=5)
    assert without_request_headers.headers["Access-Control-Allow-Origin"] == "*"
    allowed = without_request_headers.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed


def test_responses_and_errors_carry_cors_headers(api):
    ok = api.post("/v1/t", track(1), headers={"Origin": "https://shop.example"})
    refused = api.post("/v1/t", track(1), basic="nope", headers={"Origin": "https://shop.example"})
    for response in (ok, refused):
        assert response.headers["Access-Control-Allow-Origin"] == "https://shop.example"
        assert "Origin" in response.headers["Vary"]


def test_other_methods_are_refused_with_405(live_server):
    import requests

    response = requests.get(f"{live_server.url}/v1/batch", timeout=5)
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_tracking_requests_skip_sessions_csrf_and_auth(
    client, write_key, django_assert_num_queries
):
    """No CSRF token, no cookie set, and a fixed number of queries whatever the batch size."""
    auth = "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()
    for size in (1, 100):
        body = orjson.dumps({"batch": [track(n) for n in range(size)]})
        # 1. write key → source  2. SAVEPOINT (the test's own transaction is outermost)
        # 3. dedupe INSERT … ON CONFLICT  4. batch INSERT  5. events INSERT  6. RELEASE SAVEPOINT
        # No session, user or CSRF query.
        with django_assert_num_queries(6):
            response = client.post(
                "/v1/batch", body, content_type="text/plain", headers={"Authorization": auth}
            )
        assert response.status_code == 200
        assert not response.cookies
        # Headers the console's middleware would add: it never ran.
        assert "X-Frame-Options" not in response and "X-Content-Type-Options" not in response
        assert "Cookie" not in response.get("Vary", "")
    assert Event.objects.count() == 101
