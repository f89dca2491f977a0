"""The one outbound HTTP transport: every request Segapp makes to a host a customer chose (adapters,
the Event Tester, and whatever else sends) goes through ``send``.

Each URL is parsed and resolved once by ``delivery/egress.py``, and the connection goes to the
address that was checked: the name is sent as ``Host`` and as the TLS server name, and pooled
connections are keyed by that address, so neither a second DNS answer nor a reused connection can
lead anywhere unchecked. Redirects are followed by hand, each hop checked like the first, and a
hop to another host carries no credentials. Timeouts are short and what is read back is capped.

Nothing raises out of ``send``: a request that got no answer comes back with ``status`` 0, the
reason, and whether trying again could help (``permanent``).
"""

import logging
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urljoin

import certifi
import urllib3
from django.conf import settings
from urllib3._collections import RecentlyUsedContainer
from urllib3.exceptions import HTTPError, TimeoutError

from delivery import egress
from delivery.adapters.base import PreparedRequest

logger = logging.getLogger(__name__)

MAX_REDIRECTS = 3
# Headers a redirect may carry to another host; credentials and signatures stay behind.
CROSS_HOST_HEADERS = {"content-type", "accept", "user-agent"}
# Pools kept per process (one per tool address); the least recently used is closed first.
MAX_POOLS = 256


@dataclass
class Response:
    """What came back, or why nothing did (``status`` 0, with ``permanent`` saying whether
    sending again could ever help)."""

    status: int
    body: bytes
    headers: dict[str, str]
    error: str = ""
    elapsed_ms: float = 0.0
    permanent: bool = False

    @property
    def retry_after(self) -> float | None:
        value = self.headers.get("retry-after")
        if value is None:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            return None  # an HTTP date; the backoff schedule applies instead


_pools: RecentlyUsedContainer | None = None
_pools_lock = threading.Lock()


def _pool(target: egress.Target) -> urllib3.HTTPConnectionPool:
    """A connection pool to the checked address of ``target``, made in the process that uses it
    (pools and their sockets do not survive a fork)."""
    global _pools
    key = (*target.origin, target.address)
    with _pools_lock:
        if _pools is None:
            _pools = RecentlyUsedContainer(MAX_POOLS, dispose_func=lambda pool: pool.close())
        pool = _pools.get(key)
        if pool is None:
            size = max(settings.DELIVERY_PARALLEL_REQUESTS, 1)
            if target.scheme == "https":
                pool = urllib3.HTTPSConnectionPool(
                    target.address,
                    target.port,
                    maxsize=size,
                    cert_reqs=ssl.CERT_REQUIRED,
                    ca_certs=certifi.where(),
                    server_hostname=target.host.strip("[]"),
                    assert_hostname=target.host.strip("[]"),
                )
            else:
                pool = urllib3.HTTPConnectionPool(target.address, target.port, maxsize=size)
            _pools[key] = pool
    return pool


def _host_header(target: egress.Target) -> str:
    default = egress.DEFAULT_PORTS[target.scheme] == target.port
    return target.host if default else f"{target.host}:{target.port}"


def _exchange(method: str, target: egress.Target, body: bytes | None, headers: dict):
    """One request to the checked address; returns (status, body, lower-cased headers)."""
    response = _pool(target).urlopen(
        method,
        target.path,
        body=body,
        headers={**headers, "Host": _host_header(target)},
        redirect=False,
        retries=False,
        assert_same_host=False,
        preload_content=False,
        timeout=urllib3.Timeout(
            connect=settings.DELIVERY_CONNECT_TIMEOUT, read=settings.DELIVERY_READ_TIMEOUT
        ),
    )
    try:
        cap = settings.DELIVERY_MAX_RESPONSE_BYTES
        data = response.read(cap + 1, decode_content=True) or b""
        if len(data) > cap:
            # The rest is never read, so this connection cannot serve another request.
            data = data[:cap]
            response.close()
        return response.status, data, {k.lower(): v for k, v in response.headers.items()}
    finally:
        response.release_conn()


def _next_hop(method: str, status: int, body, headers: dict, previous, url: str):
    """The request a redirect asks for, as browsers and ``requests`` make it."""
    target = egress.parse(url)
    if status == 303 or (status in (301, 302) and method == "POST"):
        method, body = "GET", None
        headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    if target.origin != previous.origin:
        headers = {k: v for k, v in headers.items() if k.lower() in CROSS_HOST_HEADERS}
    return method, target, body, headers


def send(prepared: PreparedRequest) -> Response:
    started = time.perf_counter()

    def failed(error: str, permanent: bool = False) -> Response:
        return Response(0, b"", {}, error=error, elapsed_ms=_ms(started), permanent=permanent)

    method, body, headers = prepared.method, prepared.body, dict(prepared.headers)
    url = prepared.url
    try:
        target = egress.parse(url)
        for _ in range(MAX_REDIRECTS + 1):
            target = egress.resolve(target)
            status, data, answer = _exchange(method, target, body, headers)
            if status in (301, 302, 303, 307, 308) and "location" in answer:
                # The joined URL is parsed and checked like the first one.
                url = urljoin(url, answer["location"])
                method, target, body, headers = _next_hop(
                    method, status, body, headers, target, url
                )
                continue
            return Response(status, data, answer, elapsed_ms=_ms(started))
        return failed(f"more than {MAX_REDIRECTS} redirects")
    except egress.EgressRefused as refused:
        return failed(f"refused by egress policy: {refused}", permanent=True)
    except egress.UrlInvalid as invalid:
        # Stored before settings were validated: retried, then dead-lettered for re-delivery
        # once the setting is fixed.
        return failed(f"cannot send: {invalid}")
    except egress.ResolveFailed as unresolved:
        return failed(f"DNS lookup failed: {unresolved}")
    except TimeoutError:
        return failed("timed out")
    except HTTPError as exc:
        return failed(f"connection failed: {type(exc).__name__}")
    except Exception as exc:  # a header the wire cannot carry, a TLS library error…
        # Any failure is an attempt that retries.decide judges; the job must never loop.
        logger.warning("request could not be sent", extra={"error": type(exc).__name__})
        return failed(f"request could not be sent: {type(exc).__name__}")


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
