"""A tracking request sent with ``Transfer-Encoding: chunked`` and no Content-Length (as some HTTP
clients and proxies send a body they stream) is read, up to the same 500KB limit; a server that
cannot tell where such a body ends answers 411 rather than reading it as empty."""

import base64
import gzip
import io

import orjson
import pytest
import requests
from django.conf import settings
from django.test import Client

from delivery.models import Event
from tests.delivery.conftest import start_web, track
from tests.processes import stop


def chunks(data: bytes, size: int = 1000):
    """A generator body: requests sends it chunked, without a Content-Length."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def chunked_post(base_url: str, write_key: str, data: bytes, **headers) -> requests.Response:
    auth = "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()
    return requests.post(
        f"{base_url}/v1/batch",
        data=chunks(data),
        headers={"Authorization": auth, "Content-Type": "application/json", **headers},
        timeout=10,
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_chunked_bodies_are_read_by_gunicorn_up_to_the_limit(source, write_key, broker):
    web, _, base_url = start_web(settings.CELERY_BROKER_URL)
    try:
        plain = chunked_post(base_url, write_key, orjson.dumps({"batch": [track(1), track(2)]}))
        assert "Content-Length" not in plain.request.headers
        assert plain.status_code == 200, plain.text
        assert plain.json()["accepted"] == 2

        zipped = gzip.compress(orjson.dumps({"batch": [track(3)]}))
        response = chunked_post(base_url, write_key, zipped, **{"Content-Encoding": "gzip"})
        assert response.status_code == 200 and response.json()["accepted"] == 1, response.text

        big = [track(n, properties={"blob": "x" * 30_000}) for n in range(18)]
        too_large = chunked_post(base_url, write_key, orjson.dumps({"batch": big}))
        assert too_large.status_code == 400
        assert too_large.json()["code"] == "request_too_large"
    finally:
        stop(web, sig=15)
    assert sorted(Event.objects.values_list("event_name", flat=True)) == [
        "Event 1",
        "Event 2",
        "Event 3",
    ]


def post_without_length(client: Client, write_key: str, data: bytes, **environ):
    """The environ a WSGI server gives a chunked request: no CONTENT_LENGTH, the header kept."""
    auth = "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()
    return client.generic(
        "POST",
        "/v1/batch",
        data,
        "application/json",
        HTTP_AUTHORIZATION=auth,
        HTTP_TRANSFER_ENCODING="chunked",
        CONTENT_LENGTH="",
        **environ,
    )


def test_a_chunked_body_is_read_from_a_server_that_ends_the_stream(client, write_key):
    # gunicorn decodes the chunks, ends wsgi.input with the body and says so with
    # wsgi.input_terminated (a WSGI extension mod_wsgi and Werkzeug share).
    data = orjson.dumps({"batch": [track(1)]})
    environ = {"wsgi.input": io.BytesIO(data), "wsgi.input_terminated": True}
    response = post_without_length(client, write_key, data, **environ)
    assert response.status_code == 200, response.content
    assert Event.objects.get().event_name == "Event 1"


def test_a_chunked_body_is_refused_with_411_by_a_server_that_does_not(client, write_key):
    response = post_without_length(client, write_key, orjson.dumps({"batch": [track(1)]}))
    assert response.status_code == 411
    body = response.json()
    assert body["code"] == "length_required" and "Content-Length" in body["message"]
    assert not Event.objects.exists()
