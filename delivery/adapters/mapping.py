"""Small conversions that many adapters need when they turn Segment messages into a tool's fields.

Everything here is tool-neutral: reading nested message fields, converting Segment's ISO 8601
timestamps, finding the user's traits, email and name, naming things in snake_case, dropping
empty values, and the Basic auth header many tools take.

Two timestamp parsers, because fields differ: ``parse_timestamp`` takes ISO 8601 strings only
(Segment's ``timestamp`` and the dates in traits and properties), ``parse_timestamp_or_unix``
also a Unix time (trait dates such as ``createdAt``, which apps send either way).
"""

import base64
import re
from datetime import UTC, datetime

_MISSING = object()

# A date, optionally with a time and a zone: what Segment libraries send for Date values.
_ISO = re.compile(
    r"^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?)?$"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A Unix time larger than this is in milliseconds (as seconds, it would be after the year 5000).
_LARGEST_SECONDS = 1e11


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


# Times


def is_iso_date(value) -> bool:
    """Whether ``value`` is an ISO 8601 date string, with or without a time and a zone."""
    return isinstance(value, str) and bool(_ISO.match(value))


def parse_timestamp(value) -> datetime | None:
    """An ISO 8601 date string (Segment's ``timestamp``) as an aware datetime; naive means UTC.
    None for anything else, numbers included."""
    if not is_iso_date(value):
        return None
    if value[-1] in "Zz":
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_timestamp_or_unix(value) -> datetime | None:
    """``parse_timestamp``, and a Unix time in seconds (in milliseconds when the number is too
    large to be seconds) as an aware datetime; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if value > _LARGEST_SECONDS else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):  # out of datetime's range, or NaN
            return None
    return parse_timestamp(value)


def _epoch_micros(moment: datetime) -> int:
    # Integer arithmetic: float seconds would round some microsecond values.
    delta = moment - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def epoch_ms(value) -> int | None:
    """Milliseconds since the Unix epoch for an ISO 8601 string, or None."""
    parsed = parse_timestamp(value)
    return None if parsed is None else _epoch_micros(parsed) // 1000


def epoch_micros(value) -> int | None:
    """Microseconds since the Unix epoch for an ISO 8601 string, or None."""
    parsed = parse_timestamp(value)
    return None if parsed is None else _epoch_micros(parsed)


def epoch_seconds(value) -> int | None:
    """Whole seconds since the Unix epoch for an ISO 8601 string or a Unix time, or None."""
    parsed = parse_timestamp_or_unix(value)
    return None if parsed is None else _epoch_micros(parsed) // 1_000_000


def format_iso_utc(moment: datetime) -> str:
    """``2024-05-01T12:00:00.000Z``: an aware datetime in UTC, to the millisecond."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_utc(value) -> str | None:
    """``format_iso_utc`` of an ISO 8601 string or a Unix time, or None if it is not a time."""
    parsed = parse_timestamp_or_unix(value)
    return None if parsed is None else format_iso_utc(parsed)


def dates_to_epoch_seconds(value):
    """The value with every ISO 8601 date string, at any depth, replaced by Unix seconds."""
    if isinstance(value, dict):
        return {key: dates_to_epoch_seconds(item) for key, item in value.items()}
    if isinstance(value, list):
        return [dates_to_epoch_seconds(item) for item in value]
    if is_iso_date(value):
        return epoch_seconds(value)
    return value


# Names and values

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


def flat(values: dict) -> dict:
    """Only the top-level values that are not objects or lists (for tools that store scalars)."""
    return {key: value for key, value in values.items() if not isinstance(value, dict | list)}


# Message fields


def properties(message: dict) -> dict:
    value = message.get("properties")
    return value if isinstance(value, dict) else {}


def page_field(message: dict, name: str):
    """A page's ``url``, ``title`` or ``referrer``: from its properties, else from
    ``context.page``."""
    return properties(message).get(name) or dig(message, f"context.page.{name}")


def user_traits(message: dict) -> dict:
    """The traits a message carries about its user: an identify's ``traits``, else
    ``context.traits`` (a group's ``traits`` describe the group)."""
    if message.get("type") == "identify" and isinstance(message.get("traits"), dict):
        return dict(message["traits"])
    traits = dig(message, "context.traits")
    return dict(traits) if isinstance(traits, dict) else {}


def email_in(values) -> str | None:
    """``values["email"]`` when ``values`` is a dict whose email is a non-empty string."""
    if isinstance(values, dict) and isinstance(values.get("email"), str) and values["email"]:
        return values["email"]
    return None


def user_email(message: dict) -> str | None:
    """The email a message names: an identify's traits, then context traits, then properties."""
    for source in (
        message.get("traits") if message.get("type") == "identify" else None,
        dig(message, "context.traits"),
        message.get("properties"),
    ):
        if email := email_in(source):
            return email
    return None


def person_name(traits: dict):
    """The ``name`` trait, else ``firstName`` and ``lastName`` joined ("" when there is none)."""
    return traits.get("name") or " ".join(
        str(traits[key]) for key in ("firstName", "lastName") if traits.get(key)
    )


# Requests


def basic_auth(user: str, password: str) -> str:
    """The value of an ``Authorization`` header for HTTP Basic auth."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
