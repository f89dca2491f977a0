"""One tracking message: the rules it must meet, and what the server adds to it (DESIGN §3).

A message that breaks a rule is rejected on its own, with a code and a reason; the rest of its
request is still accepted.
"""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson

from segapp import jsondepth

TYPES = ("identify", "track", "page", "screen", "group", "alias")
_TYPE_SET = frozenset(TYPES)
MAX_ID_LENGTH = 255  # the archive's column; clients send UUIDs (36) or ajs-next ids (~45)


@dataclass(slots=True)
class Accepted:
    message_id: str
    type: str
    event_name: str
    user_id: str
    anonymous_id: str
    timestamp: datetime
    timestamp_text: str  # the same, as written in the payload (COPY takes it as is)
    payload: str


@dataclass(slots=True)
class Rejected:
    index: int
    code: str
    reason: str
    message_id: str
    type: str
    payload: str

    def as_json(self) -> dict:
        return {"index": self.index, "code": self.code, "message": self.reason}


@dataclass(slots=True)
class Arrival:
    """How the message arrived: what its request adds to each of its messages."""

    received_at: datetime
    ip: str
    single_type: str | None = None
    sent_at: object = None
    context: object = None
    integrations: object = None
    received_at_text: str = field(init=False)
    parsed_sent_at: datetime | None = field(init=False)

    def __post_init__(self):
        self.received_at_text = iso(self.received_at)
        self.parsed_sent_at = parse_time(self.sent_at)


def _is_id(value) -> bool:
    # Clients stringify ids; numbers are tolerated (analytics.js users pass them), empty is absent.
    if isinstance(value, str):
        return value != ""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _text(value, limit: int = MAX_ID_LENGTH) -> str:
    """A field's copy for its archive column. PostgreSQL text cannot hold NUL, so it becomes
    U+FFFD there; the payload keeps the field as sent (JSON writes NUL as an escape)."""
    if value.__class__ is str:
        text = value if len(value) <= limit else value[:limit]
    else:
        text = "" if value is None else str(value)[:limit]
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


def refusal(message) -> tuple[str, str] | None:
    """(code, reason) if the message breaks a rule, else None."""
    if not isinstance(message, dict):
        return "invalid_message", "A message must be a JSON object."
    if jsondepth.exceeds(message):
        return "too_deep", f"The message nests deeper than {jsondepth.MAX_DEPTH} levels."
    kind = message.get("type")
    if not isinstance(kind, str) or kind not in _TYPE_SET:
        return "unknown_type", f"Unknown type {kind!r}: expected one of {', '.join(TYPES)}."
    if kind == "alias":
        if not (_is_id(message.get("previousId")) and _is_id(message.get("userId"))):
            return "missing_alias_ids", "An alias needs both previousId and userId."
    elif not (_is_id(message.get("userId")) or _is_id(message.get("anonymousId"))):
        return "missing_identity", "A message needs a userId or an anonymousId."
    if kind == "track":
        event = message.get("event")
        if not isinstance(event, str) or not event:
            return "missing_event", "A track call needs an event name."
    message_id = message.get("messageId")
    if message_id is not None and len(str(message_id)) > MAX_ID_LENGTH:
        return "invalid_message_id", f"messageId is longer than {MAX_ID_LENGTH} characters."
    # The id is a key of the dedupe table and of delivery records, where PostgreSQL cannot hold
    # NUL; replacing it, as other columns do, could make two ids one.
    if isinstance(message_id, str) and "\x00" in message_id:
        return "invalid_message_id", "messageId holds a NUL character."
    return None


def prepare(message, index: int, arrival: Arrival) -> Accepted | Rejected:
    """Checks one message and enriches it the way Segment's API does."""
    if isinstance(message, dict):
        message.pop("writeKey", None)  # analytics.js repeats it in every message; not for storage
        if arrival.single_type is not None:
            message["type"] = arrival.single_type
    problem = refusal(message)
    if problem is not None:
        is_dict = isinstance(message, dict)
        return Rejected(
            index=index,
            code=problem[0],
            reason=problem[1],
            message_id=_text(message.get("messageId")) if is_dict else "",
            type=_text(message.get("type"), 32) if is_dict else "",
            # Pruned: a message too deep to store whole is kept up to the depth limit.
            payload=orjson.dumps(jsondepth.pruned(message)).decode(),
        )

    message_id = message.get("messageId")
    if message_id is None or message_id == "":
        message_id = message["messageId"] = f"api-{uuid.uuid4()}"
    elif not isinstance(message_id, str):
        message_id = message["messageId"] = str(message_id)

    context = message.get("context")
    if not isinstance(context, dict):
        context = message["context"] = {}
    if isinstance(arrival.context, dict):
        context = message["context"] = {**arrival.context, **context}  # the message's values win
    if "ip" not in context:
        context["ip"] = arrival.ip
    if isinstance(arrival.integrations, dict):
        integrations = message.get("integrations")
        own = integrations if isinstance(integrations, dict) else {}
        message["integrations"] = {**arrival.integrations, **own}

    timestamp = _corrected_timestamp(message, arrival)
    timestamp_text = message["timestamp"] = iso(timestamp)
    message["receivedAt"] = arrival.received_at_text

    kind = message["type"]
    if kind == "track":
        event_name = message["event"]
    elif kind in ("page", "screen"):
        event_name = message.get("name")
    else:
        event_name = None
    return Accepted(
        message_id=message_id,
        type=kind,
        event_name=_text(event_name, 200),
        user_id=_text(message.get("userId")),
        anonymous_id=_text(message.get("anonymousId")),
        timestamp=timestamp,
        timestamp_text=timestamp_text,
        payload=orjson.dumps(message).decode(),
    )


def _corrected_timestamp(message: dict, arrival: Arrival) -> datetime:
    """timestamp = receivedAt - (sentAt - originalTimestamp): the client's clock skew removed.

    https://segment.com/docs/connections/spec/common/#timestamp-overview
    """
    sent_at = parse_time(message.get("sentAt"))
    if sent_at is None and arrival.parsed_sent_at is not None:
        sent_at = arrival.parsed_sent_at
        message["sentAt"] = arrival.sent_at  # as Segment stores it: each event says when it left
    given = message.get("timestamp")
    if given is not None:
        message["originalTimestamp"] = given
    original = parse_time(given)
    if original is None:
        return arrival.received_at
    if sent_at is None:
        return original
    try:
        return arrival.received_at - (sent_at - original)
    except OverflowError:  # absurd clocks (year 1 against 9999): keep what the client said
        return original


def parse_time(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is UTC:
            return parsed
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and Z, as Segment writes receivedAt (``moment`` is UTC)."""
    return moment.isoformat(timespec="milliseconds")[:-6] + "Z"  # drops "+00:00"
