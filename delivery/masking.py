"""What of an exchange with a tool may be stored or shown: the request and its answer with the
instance's secrets masked. Error records and the Event Tester both go through here, so a page
never shows more of a request than the error log keeps."""

from urllib.parse import quote, quote_plus

import orjson
from django.conf import settings

from connections.models import MASK
from delivery.adapters.base import PreparedRequest
from delivery.sender import Response

# Headers shown as sent. Tools carry keys in many others (Authorization, Api-Key, a signature),
# so every other header is masked whatever its value.
SAFE_HEADERS = {"content-type", "content-length", "user-agent", "accept"}


def _values(value) -> list[str]:
    """A secret setting's values as text: a string, a number as written, each value of a map
    (custom headers) or list. Even a short one: a key of three characters is still a key."""
    if isinstance(value, dict):
        return [text for item in value.values() for text in _values(item)]
    if isinstance(value, list):
        return [text for item in value for text in _values(item)]
    if isinstance(value, bool) or value is None:
        return []  # a flag is no secret, and masking "True" would mask every "True"
    return [str(value)] if str(value) else []


def _forms(secrets: dict) -> list[str]:
    """Every way a request may carry a secret: as written, URL-encoded (a query parameter) or
    escaped in JSON (a non-ASCII or quoted key); longest first, so a secret that contains
    another is masked whole."""
    forms = set()
    for value in _values(list(secrets.values())):
        forms |= {
            value,
            quote(value, safe=""),
            quote_plus(value),
            orjson.dumps(value)[1:-1].decode(),
        }
    return sorted(forms, key=len, reverse=True)


def masked(text: str, secrets: dict) -> str:
    """``text`` with every secret setting's value replaced by the mask, in each of its forms."""
    for form in _forms(secrets):
        text = text.replace(form, MASK)
    return text


def _masked_cut(text: str, secrets: dict, limit: int, *, cut: bool = False) -> str:
    """``text`` masked whole, then cut to ``limit`` characters. Where it was cut (here, or
    before: a response read up to its cap), a tail that begins a secret is masked too, so no
    part of a secret survives the cut."""
    text = masked(text, secrets)
    cut = cut or len(text) > limit
    text = text[:limit]
    if not cut:
        return text
    dangling = max(
        (k for form in _forms(secrets) for k in range(1, len(form)) if text.endswith(form[:k])),
        default=0,
    )
    return text[: len(text) - dangling] + MASK if dangling else text


def masked_request(request: PreparedRequest, secrets: dict, body_limit: int) -> dict:
    return {
        "method": request.method,
        "url": masked(request.url, secrets),
        "headers": {
            k: (masked(v, secrets) if k.lower() in SAFE_HEADERS else MASK)
            for k, v in request.headers.items()
        },
        "body": _masked_cut(request.body.decode(errors="replace"), secrets, body_limit),
    }


def masked_response(response: Response, secrets: dict, body_limit: int) -> dict:
    capped = len(response.body) >= settings.DELIVERY_MAX_RESPONSE_BYTES
    return {
        "status": response.status,
        "error": masked(response.error, secrets),
        "headers": {k: masked(v, secrets) for k, v in response.headers.items()},
        "body": _masked_cut(
            response.body.decode(errors="replace"), secrets, body_limit, cut=capped
        ),
        "elapsed_ms": response.elapsed_ms,
    }
