"""Egress policy: which URLs Segapp may send to, and the one address each request connects to.

A URL is parsed once, with the parser of the HTTP client that sends it (urllib3's), and refused
when it carries anything two parsers could read differently (userinfo, backslashes, control
characters, whitespace). Its host is resolved once; each address is checked, and the client then
connects to that checked address, so a second lookup (DNS rebinding) can never lead elsewhere.

By default an address that is private, loopback, link-local or otherwise non-public is refused,
so a workspace member cannot point Segapp at the internal network (SSRF).
``SEGAPP_EGRESS_ALLOW_PRIVATE`` lifts this (on in the embedded default, for local tools).
"""

import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings

from connections import endpoints

DEFAULT_PORTS = endpoints.DEFAULT_PORTS
# Seconds a checked answer is reused: connecting to an address that was checked is safe however
# old the answer, so this only bounds how long a tool's DNS change takes to be seen.
RESOLVE_TTL = 30.0


class EgressRefused(Exception):
    """The policy refuses this destination: sending again cannot help (a permanent failure)."""


class UrlInvalid(Exception):
    """The URL cannot be sent to as it stands (a setting stored before it was validated)."""


class ResolveFailed(Exception):
    """The name did not resolve now; it may later (a retryable failure)."""


@dataclass(frozen=True)
class Target:
    """Where one request goes: the URL's parts as the client reads them, and the address."""

    scheme: str
    host: str  # as in the URL: sent as Host and as the TLS server name
    port: int
    path: str  # path and query, as sent on the request line
    address: str = ""

    @property
    def origin(self) -> tuple[str, str, int]:
        return self.scheme, self.host, self.port


def parse(url: str) -> Target:
    """Parses ``url`` as urllib3 will send it, refusing the forms parsers disagree on (the same
    rule a setting passes when it is saved)."""
    if not isinstance(url, str):
        raise UrlInvalid("the URL is not text")
    return _parse(url)


@lru_cache(maxsize=4096)  # an instance sends to the same few URLs, request after request
def _parse(url: str) -> Target:
    try:
        parts = endpoints.parse(url)
    except ValueError as problem:
        raise UrlInvalid(str(problem)) from None
    port = parts.port or DEFAULT_PORTS[parts.scheme]
    return Target(parts.scheme, parts.host.lower(), port, parts.request_uri)


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


_answers: dict[tuple[str, int], tuple[float, list[str]]] = {}
_answers_lock = threading.Lock()


def _lookup(host: str, port: int) -> list[str]:
    key = (host, port)
    with _answers_lock:
        cached = _answers.get(key)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise ResolveFailed(f"{host} does not resolve ({exc})") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    with _answers_lock:
        _answers[key] = (time.monotonic() + RESOLVE_TTL, addresses)
    return addresses


def resolve(target: Target) -> Target:
    """``target`` with the address to connect to: every address its host resolves to is checked
    (one private answer refuses the name, so the order of answers cannot matter)."""
    addresses = _lookup(target.host, target.port)
    if not addresses:
        raise ResolveFailed(f"{target.host} has no address")
    if not settings.EGRESS_ALLOW_PRIVATE:
        for address in addresses:
            if not _is_public(address):
                raise EgressRefused(
                    f"{target.host} resolves to {address}, a private address; "
                    "set SEGAPP_EGRESS_ALLOW_PRIVATE to allow it"
                )
    return Target(target.scheme, target.host, target.port, target.path, addresses[0])


def forget_answers() -> None:
    """Drops cached answers (a test resolver, or a host whose address was just changed)."""
    with _answers_lock:
        _answers.clear()
