"""The client's address, for the tracking API's ``context.ip`` and for sign-in throttling.

X-Forwarded-For is a list anyone can start: each proxy appends the address it received the
request from. Only the entries our own proxies appended can be believed, so with
``SEGAPP_TRUSTED_PROXIES`` = N the client is the N-th entry from the right, and with 0 (no proxy
in front) the header is ignored and the peer address is the client.
"""

import ipaddress

from django.conf import settings


def client_ip(request_or_environ) -> str:
    """``request_or_environ``: a Django request, or a WSGI environ / ``request.META``."""
    meta = getattr(request_or_environ, "META", request_or_environ)
    peer = meta.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXIES
    if not proxies:
        return peer
    hops = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if not hops:
        return peer
    # Fewer entries than proxies: the request entered behind the outermost one, whose inner
    # neighbour wrote the first entry.
    candidate = hops[-min(proxies, len(hops))]
    return candidate if _is_address(candidate) else peer


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
