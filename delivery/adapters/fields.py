"""Small conversions that several adapters share: timestamps, JSON bodies, Basic auth, traits."""

import base64
import re
from datetime import UTC, datetime

import orjson

# A date, optionally with a time and a zone: what Segment libraries send for Date values.
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")


def json_body(value) -> bytes:
    return orjson.dumps(value)


def basic_auth(user: str, password: str) -> str:
    """The value of an ``Authorization`` header for HTTP Basic auth."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def is_iso_date(value) -> bool:
    return isinstance(value, str) and bool(_ISO.match(value))


def parse_time(value) -> datetime | None:
    """An aware datetime from an ISO 8601 string or a Unix time in seconds (milliseconds when
    the number is too large to be seconds); None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 1e11 else value
        return datetime.fromtimestamp(seconds, UTC)
    if not is_iso_date(value):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def unix_seconds(value) -> int | None:
    parsed = parse_time(value)
    return int(parsed.timestamp()) if parsed else None


def unix_millis(value) -> int | None:
    parsed = parse_time(value)
    return int(parsed.timestamp() * 1000) if parsed else None


def iso_utc(value) -> str | None:
    """``2024-05-01T12:00:00.000Z``, or None if the value is not a time."""
    parsed = parse_time(value)
    if parsed is None:
        return None
    return parsed.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def dates_to_unix(value):
    """The value with every ISO 8601 date string, at any depth, replaced by Unix seconds."""
    if isinstance(value, dict):
        return {key: dates_to_unix(item) for key, item in value.items()}
    if isinstance(value, list):
        return [dates_to_unix(item) for item in value]
    if is_iso_date(value):
        return unix_seconds(value)
    return value


def flat(values: dict) -> dict:
    """Only the top-level values that are not objects or lists (for tools that store scalars)."""
    return {key: value for key, value in values.items() if not isinstance(value, dict | list)}


def traits(message: dict) -> dict:
    """An identify's traits, or the ``context.traits`` other calls carry."""
    found = message.get("traits") if message.get("type") in ("identify", "group") else None
    if found is None:
        found = (message.get("context") or {}).get("traits")
    return dict(found) if isinstance(found, dict) else {}


def user_email(message: dict) -> str | None:
    """The email a message names: traits, then context traits, then properties."""
    for source in (
        message.get("traits") if message.get("type") == "identify" else None,
        (message.get("context") or {}).get("traits"),
        message.get("properties"),
    ):
        if isinstance(source, dict) and isinstance(source.get("email"), str) and source["email"]:
            return source["email"]
    return None
