"""Small conversions that many adapters need when they turn Segment messages into a tool's fields.

Everything here is tool-neutral: reading nested message fields, converting Segment's ISO 8601
timestamps, naming things in snake_case, dropping empty values.
"""

import re
from datetime import UTC, datetime

_MISSING = object()


def dig(data, path: str, default=None):
    """``data["a"]["b"]`` for ``path`` "a.b", or ``default`` when any step is missing."""
    current = data
    for key in path.split("."):
        if not isinstance(current, dict):
            return default
        current = current.get(key, _MISSING)
        if current is _MISSING:
            return default
    return current


def parse_timestamp(value) -> datetime | None:
    """An ISO 8601 string (Segment's ``timestamp``) as an aware datetime; naive means UTC."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def epoch_ms(value) -> int | None:
    """Milliseconds since the Unix epoch for an ISO 8601 string, or None."""
    parsed = parse_timestamp(value)
    return None if parsed is None else _epoch_micros(parsed) // 1000


def epoch_micros(value) -> int | None:
    """Microseconds since the Unix epoch for an ISO 8601 string, or None."""
    parsed = parse_timestamp(value)
    return None if parsed is None else _epoch_micros(parsed)


def _epoch_micros(moment: datetime) -> int:
    # Integer arithmetic: float seconds would round some microsecond values.
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def snake_case(name: str, max_length: int | None = None) -> str:
    """ "Order Completed" → "order_completed", "productId" → "product_id"; letters, digits and
    single underscores only, cut to ``max_length``."""
    words = _CAMEL_BOUNDARY.sub("_", str(name)).lower()
    result = _NOT_WORD.sub("_", words).strip("_")
    if max_length is not None:
        result = result[:max_length].rstrip("_")
    return result


def compact(data: dict) -> dict:
    """``data`` without the keys whose value is None, "" or an empty dict or list."""
    return {k: v for k, v in data.items() if v is not None and v != "" and v != {} and v != []}


def user_traits(message: dict) -> dict:
    """The traits a message carries about its user: an identify's ``traits``, else
    ``context.traits``."""
    if message.get("type") == "identify" and isinstance(message.get("traits"), dict):
        return message["traits"]
    traits = dig(message, "context.traits")
    return traits if isinstance(traits, dict) else {}


def properties(message: dict) -> dict:
    value = message.get("properties")
    return value if isinstance(value, dict) else {}
