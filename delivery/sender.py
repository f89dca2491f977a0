"""Sends prepared requests: one pooled ``requests.Session`` per worker process, short timeouts,
a cap on what is read back, no redirects followed blindly (each hop is checked like the first)."""

import time
from dataclasses import dataclass
from urllib.parse import urljoin

import requests
from django.conf import settings

from delivery.adapters.base import PreparedRequest
from delivery.egress import EgressRefused, check_url

MAX_REDIRECTS = 3
_session: requests.Session | None = None


def session() -> requests.Session:
    """Connection reuse across tasks in one worker process (created after fork)."""
    global _session
    if _session is None:
        _session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=32, pool_maxsize=32, max_retries=0)
        _session.mount("http://", adapter)
        _session.mount("https://", adapter)
    return _session


@dataclass
class Response:
    """What came back, or why nothing did (``status`` 0)."""

    status: int
    body: bytes
    headers: dict[str, str]
    error: str = ""
    elapsed_ms: float = 0.0

    @property
    def retry_after(self) -> float | None:
        value = self.headers.get("retry-after")
        if value is None:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            return None  # an HTTP date; the backoff schedule applies instead


def send(prepared: PreparedRequest) -> Response:
    started = time.perf_counter()
    url = prepared.url
    try:
        for _ in range(MAX_REDIRECTS + 1):
            check_url(url)
            with session().request(
                prepared.method,
                url,
                data=prepared.body,
                headers=prepared.headers,
                timeout=(settings.DELIVERY_CONNECT_TIMEOUT, settings.DELIVERY_READ_TIMEOUT),
                allow_redirects=False,
                stream=True,
            ) as raw:
                body = (
                    raw.raw.read(settings.DELIVERY_MAX_RESPONSE_BYTES, decode_content=True) or b""
                )
                headers = {k.lower(): v for k, v in raw.headers.items()}
                if raw.is_redirect and "location" in headers:
                    url = urljoin(url, headers["location"])
                    continue
                return Response(raw.status_code, body, headers, elapsed_ms=_ms(started))
        return Response(
            0, b"", {}, error=f"more than {MAX_REDIRECTS} redirects", elapsed_ms=_ms(started)
        )
    except EgressRefused as refused:
        return Response(
            0, b"", {}, error=f"refused by egress policy: {refused}", elapsed_ms=_ms(started)
        )
    except requests.Timeout:
        return Response(0, b"", {}, error="timed out", elapsed_ms=_ms(started))
    except requests.RequestException as exc:
        return Response(
            0, b"", {}, error=f"connection failed: {type(exc).__name__}", elapsed_ms=_ms(started)
        )


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
