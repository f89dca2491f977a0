"""What a function's fetch asks of the caller's transport, and the record kept of each exchange.

The sandbox never opens a socket: ``run`` takes a callable that sends a ``FetchRequest`` and
returns a ``FetchResponse``, or raises ``FetchFailed`` when no response came.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class FetchRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None
    timeout: float  # seconds left before the invocation's wall-clock cap
    max_bytes: int  # the function is given no more of the response body than this


@dataclass(frozen=True)
class FetchResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes
    reason: str = ""


class FetchFailed(Exception):
    """No response (refused, unreachable, timed out): the function's fetch rejects with
    node-fetch's FetchError of type 'system', carrying ``reason`` and ``code``."""

    def __init__(self, reason: str, code: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass(frozen=True)
class Exchange:
    """One fetch as the function made it and as it was answered, bodies cut to a few KB."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str
    status: int | None
    response_headers: dict[str, str]
    response_body: str
    error: str | None
    seconds: float


# Logs of exchanges are shown to workspace members; the credentials a function sends are not.
SECRET_HEADER = re.compile(r"authorization|cookie|token|secret|password|api-?key|signature", re.I)
REDACTED = "[redacted]"


def record(
    request: FetchRequest,
    response: FetchResponse | None,
    error: str | None,
    seconds: float,
    keep_bytes: int,
) -> Exchange:
    return Exchange(
        method=request.method,
        url=request.url,
        request_headers=_redacted(request.headers),
        request_body=_cut(request.body or b"", keep_bytes),
        status=response.status if response else None,
        response_headers=_redacted(response.headers) if response else {},
        response_body=_cut(response.body, keep_bytes) if response else "",
        error=error,
        seconds=round(seconds, 4),
    )


def _redacted(headers: Mapping[str, str]) -> dict[str, str]:
    return {
        name.lower(): REDACTED if SECRET_HEADER.search(name) else value
        for name, value in headers.items()
    }


def _cut(body: bytes, keep_bytes: int) -> str:
    text = body[:keep_bytes].decode("utf-8", errors="replace")
    return text + f"… ({len(body)} bytes)" if len(body) > keep_bytes else text
