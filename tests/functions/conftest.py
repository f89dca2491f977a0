"""The transport the sandbox's fetch gets in these tests: urllib3 to real servers on 127.0.0.1."""

import pytest
import urllib3

from functions.transport import FetchFailed, FetchRequest, FetchResponse

_http = urllib3.PoolManager()


def send(request: FetchRequest) -> FetchResponse:
    try:
        response = _http.request(
            request.method,
            request.url,
            body=request.body,
            headers=request.headers,
            timeout=request.timeout,
            retries=False,
            redirect=False,
            preload_content=False,
        )
    except urllib3.exceptions.HTTPError as error:
        refused = isinstance(error.__context__, ConnectionRefusedError)
        raise FetchFailed(str(error), code="ECONNREFUSED" if refused else None) from error
    try:
        body = response.read(request.max_bytes + 1)
    finally:
        response.release_conn()
    return FetchResponse(response.status, dict(response.headers), body, response.reason or "")


@pytest.fixture
def transport():
    return send
