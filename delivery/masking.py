"""What of an exchange with a tool may be stored or shown: the request and its answer with the
instance's secrets masked. Error records and the Event Tester both go through here, so a page
never shows more of a request than the error log keeps."""

from urllib.parse import quote, quote_plus

import orjson

from connections.models import MASK
from delivery.adapters.base import PreparedRequest
from delivery.sender import Response

# Headers shown as sent. Tools carry keys in many others (Authorization, Api-Key, a signature),
# so every other header is masked whatever its value.
SAFE_HEADERS = {"content-type", "content-length", "user-agent", "accept"}


def masked(text: str, secrets: dict) -> str:
    """``text`` with every secret setting's value replaced by the mask, also where a request
    carries it URL-encoded (a query parameter) or escaped in JSON (a non-ASCII or quoted key)."""
    for value in secrets.values():
        if isinstance(value, str) and len(value) >= 4:
            for form in {
                value,
                quote(value, safe=""),
                quote_plus(value),
                orjson.dumps(value)[1:-1].decode(),
            }:
                text = text.replace(form, MASK)
    return text


def masked_request(request: PreparedRequest, secrets: dict, body_limit: int) -> dict:
    return {
        "method": request.method,
        "url": masked(request.url, secrets),
        "headers": {
            k: (v if k.lower() in SAFE_HEADERS else MASK) for k, v in request.headers.items()
        },
        "body": masked(request.body[:body_limit].decode(errors="replace"), secrets),
    }


def masked_response(response: Response, secrets: dict, body_limit: int) -> dict:
    return {
        "status": response.status,
        "error": masked(response.error, secrets),
        "headers": {k: masked(v, secrets) for k, v in response.headers.items()},
        "body": masked(response.body[:body_limit].decode(errors="replace"), secrets),
        "elapsed_ms": response.elapsed_ms,
    }
