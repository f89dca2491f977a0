"""JSON request and response bodies, and helpers for tools whose batch APIs take a JSON array of
items and may reject some of them.

Every adapter encodes its request bodies with ``encode_json`` (``split`` measures items the same
way) and reads its tools' answers with ``parse_json_response``.

A message can become several items (an Amplitude page call with two naming settings on) and a
batch can carry items of many messages, so a request remembers which message each item came from:
the tool's answer names items by their index in the array.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

import orjson

from delivery.adapters.base import PreparedRequest, Result, Verdict


def encode_json(value) -> bytes:
    """A request body (or part of one) as JSON bytes."""
    return orjson.dumps(value)


def parse_json_response(body: bytes) -> dict:
    """The JSON object a tool answered with, or {} when the response body is not one."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


@dataclass
class ItemizedRequest(PreparedRequest):
    """A request whose body holds an array of items; ``item_message_ids[i]`` is the message that
    item ``i`` came from."""

    item_message_ids: list[str] = field(default_factory=list)


def split(
    items: list[tuple[str, dict]], max_items: int, max_bytes: int
) -> Iterable[list[tuple[str, dict]]]:
    """``(message id, item)`` pairs in runs of at most ``max_items`` items whose JSON encodings
    add up to at most ``max_bytes`` (an item larger than that goes alone; the tool refuses it)."""
    run, size = [], 0
    for message_id, item in items:
        item_size = len(encode_json(item)) + 1  # the comma between items
        if run and (len(run) >= max_items or size + item_size > max_bytes):
            yield run
            run, size = [], 0
        run.append((message_id, item))
        size += item_size
    if run:
        yield run


def message_ids(run: list[tuple[str, dict]]) -> list[str]:
    """The distinct message ids of a run, in order."""
    return list(dict.fromkeys(message_id for message_id, _ in run))


def per_item_result(
    request: ItemizedRequest,
    failed: dict[int, str],
    *,
    others: Verdict,
    others_reason: str = "",
) -> Result:
    """A result that discards the messages owning the ``failed`` item indexes (index → reason)
    and gives every other message of the request ``others``."""
    per_message: dict[str, tuple[Verdict, str]] = {}
    for index, reason in failed.items():
        if 0 <= index < len(request.item_message_ids):
            per_message.setdefault(request.item_message_ids[index], (Verdict.DISCARD, reason))
    for message_id in request.message_ids:
        per_message.setdefault(message_id, (others, others_reason))
    delivered = any(verdict == Verdict.DELIVERED for verdict, _ in per_message.values())
    reason = "; ".join(sorted({reason for verdict, reason in per_message.values() if reason}))
    overall = Verdict.DELIVERED if delivered else Verdict.DISCARD
    return Result(overall, reason[:500], per_message=per_message)
