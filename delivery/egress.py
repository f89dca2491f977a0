"""Egress policy: where destinations may send.

By default a destination URL that resolves to a private, loopback, link-local or otherwise
non-public address is refused, so a workspace member cannot point Segapp at the internal network
(SSRF). ``SEGAPP_EGRESS_ALLOW_PRIVATE`` lifts this (on in the embedded default, for local tools).
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


class EgressRefused(Exception):
    pass


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return ip.is_global and not ip.is_multicast


def check_url(url: str) -> None:
    """Raises EgressRefused unless ``url`` is http(s) and every address it resolves to is allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        # The URL itself stays out of the message: it may be a secret setting (Slack's webhook).
        got = f"a {parts.scheme}: URL" if parts.scheme else "no scheme"
        raise EgressRefused(f"Only http and https URLs can receive events (got {got})")
    if settings.EGRESS_ALLOW_PRIVATE:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise EgressRefused(f"{parts.hostname} does not resolve: {exc}") from None
    for info in infos:
        if not _is_public(info[4][0]):
            raise EgressRefused(
                f"{parts.hostname} resolves to {info[4][0]}, a private address; "
                "set SEGAPP_EGRESS_ALLOW_PRIVATE to allow it"
            )
