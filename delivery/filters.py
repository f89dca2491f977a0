"""Runs destination filters' actions on a message (``connections/filter_actions.py`` describes
the actions and checks them when a filter is saved).

Segment's order (https://segment.com/docs/connections/destinations/destination-filters/): every
filter's condition is evaluated against the message as it arrived, so the order of the filters
does not change which ones match; then, across all matching filters, the actions run by kind:
sample, drop, drop properties, allow properties. Within a kind they run in the filters' order;
two allow-lists of the same object keep only what both list.

Decisions where Segment's documents are silent:

- A condition that raises, or an action that cannot run (bad stored data), drops the message:
  like Segment, a filter we cannot apply must not let data it was meant to hold back through.
- Sampling with a ``path`` hashes the filter's id with the JSON of the value at the path
  (BLAKE2b, 64 bits, read as a share in [0, 1)) and keeps the message when the share is below
  ``percent``: one value always gets the same decision from one filter, and different filters
  sample independently. A message without a value there (missing or null) is sampled at random,
  so events without a user id still keep ``percent`` of their volume.
"""

import functools
import hashlib
import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass

from connections.filter_actions import ALWAYS_KEPT, FIELD_OBJECTS, PROTECTED, parse_field_path
from delivery.fql import field_getter

__all__ = ["FilterSpec", "apply", "filter_named"]

logger = logging.getLogger(__name__)

_GONE = object()


@dataclass(frozen=True)
class FilterSpec:
    """A compiled filter: its id (for reasons and sampling), its condition and its actions."""

    id: str
    condition: Callable[[dict], bool]
    actions: list[dict]


class _InvalidAction(ValueError):
    pass


def apply(filters: list[FilterSpec], message: dict) -> tuple[dict | None, str]:
    """``(None, reason)`` when a filter drops or samples out the message, else ``(copy, "")``
    where the copy has the property actions applied; ``message`` itself is never changed."""
    matching = []
    for spec in filters:
        try:
            matched = spec.condition(message)
        except Exception:
            logger.exception("Destination filter %s: its condition failed", spec.id)
            return None, f"filter {spec.id}: condition failed"
        if matched:
            matching.append(spec)
    if not matching:
        return dict(message), ""

    samples, drops, removals, allowances = [], [], [], []
    by_type = {
        "SAMPLE": samples,
        "DROP": drops,
        "DROP_PROPERTIES": removals,
        "ALLOW_PROPERTIES": allowances,
    }
    try:
        for spec in matching:
            for action in spec.actions:
                kind = action.get("type") if isinstance(action, dict) else None
                if kind not in by_type:
                    raise _InvalidAction(f"unknown action type {kind!r}")
                by_type[kind].append((spec, action))
        for spec, action in samples:
            if not _sampled_in(spec.id, action, message):
                return None, f"filter {spec.id}: sampled out"
        if drops:
            return None, f"filter {drops[0][0].id}: dropped"
        if not removals and not allowances:
            return dict(message), ""
        result = _copy(message)
        for spec, action in removals:
            for key, paths in _fields(spec, action):
                target = result if key == "" else result.get(key)
                for segments in paths:
                    if key == "" and len(segments) == 1 and segments[0] in PROTECTED:
                        continue
                    _drop(target, segments)
        for spec, action in allowances:
            for key, paths in _fields(spec, action):
                tree = _tree(paths)
                if key == "":
                    result = _pick_dict(result, tree, ALWAYS_KEPT)
                elif type(result.get(key)) is dict:
                    result[key] = _pick_dict(result[key], tree)
    except _InvalidAction as error:
        logger.error("Destination filter %s: %s", spec.id, error)
        return None, f"filter {spec.id}: invalid action ({error})"
    return result, ""


def filter_named(reason: str) -> str | None:
    """The id of the filter that a reason from ``apply`` names ("filter <id>: dropped"), or None."""
    if reason.startswith("filter "):
        return reason.removeprefix("filter ").split(":", 1)[0]
    return None


# Sampling.


@functools.lru_cache(maxsize=1024)
def _getter(path: str) -> Callable:
    try:
        return field_getter(parse_field_path(path))
    except ValueError as error:
        raise _InvalidAction(str(error)) from None


def _sampled_in(filter_id: str, action: dict, message: dict) -> bool:
    percent = action.get("percent")
    if type(percent) not in (int, float) or percent != percent:
        raise _InvalidAction("'percent' is not a number")
    if percent >= 1:
        return True
    if percent <= 0:
        return False
    path = action.get("path")
    if path:
        if not isinstance(path, str):
            raise _InvalidAction("'path' is not a string")
        value = _getter(path)(message)
        if value is not None:
            return sample_share(filter_id, value) < percent
    return random.random() < percent


def sample_share(filter_id: str, value) -> float:
    """The share in [0, 1) that a sampling filter gives ``value``: the same every time."""
    encoded = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    digest = hashlib.blake2b(
        f"{filter_id}\0{encoded}".encode("utf-8", "surrogatepass"), digest_size=8
    ).digest()
    return int.from_bytes(digest, "big") / 2**64


# Dropping and allowing properties.


@functools.lru_cache(maxsize=4096)
def _segments(path: str) -> tuple[str, ...]:
    try:
        return tuple(parse_field_path(path))
    except ValueError as error:
        raise _InvalidAction(str(error)) from None


def _fields(spec: FilterSpec, action: dict) -> list[tuple[str, list[tuple[str, ...]]]]:
    fields = action.get("fields")
    if not isinstance(fields, dict):
        raise _InvalidAction("'fields' is not an object")
    parsed = []
    for key, paths in fields.items():
        if key not in FIELD_OBJECTS:
            raise _InvalidAction(f"'fields' cannot filter {key!r}")
        if not isinstance(paths, list):
            raise _InvalidAction(f"'fields.{key}' is not a list")
        if not all(isinstance(path, str) for path in paths):
            raise _InvalidAction(f"'fields.{key}' holds something other than field names")
        parsed.append((key, [_segments(path) for path in paths]))
    return parsed


def _copy(value):
    """A deep copy of JSON data (dicts and lists copied, the rest shared: it is immutable)."""
    if type(value) is dict:
        return {key: _copy(item) for key, item in value.items()}
    if type(value) is list:
        return [_copy(item) for item in value]
    return value


def _drop(target, segments: tuple[str, ...]) -> None:
    """Removes the field at ``segments`` from ``target``, in every element of the lists met."""
    if type(target) is list:
        for item in target:
            _drop(item, segments)
    elif type(target) is dict:
        head = segments[0]
        if len(segments) == 1:
            target.pop(head, None)
        elif head in target:
            _drop(target[head], segments[1:])


def _tree(paths: list[tuple[str, ...]]) -> dict:
    """The allowed paths as a tree: key → subtree, or None where everything below is kept."""
    tree: dict = {}
    for segments in paths:
        node = tree
        for depth, segment in enumerate(segments):
            if depth == len(segments) - 1:
                node[segment] = None
            elif segment in node and node[segment] is None:
                break  # an ancestor is kept whole
            else:
                node = node.setdefault(segment, {})
    return tree


def _pick(value, tree):
    """What ``tree`` keeps of ``value`` (_GONE for nothing); lists keep what each element keeps."""
    if tree is None:
        return value
    if type(value) is dict:
        return _pick_dict(value, tree)
    if type(value) is list:
        return [kept for item in value if (kept := _pick(item, tree)) is not _GONE]
    return _GONE  # a plain value cannot hold the fields named below it


def _pick_dict(value: dict, tree: dict, always: frozenset = frozenset()) -> dict:
    picked = {}
    for key, item in value.items():
        if key in tree:
            kept = _pick(item, tree[key])
            if kept is not _GONE:
                picked[key] = kept
        elif key in always:
            picked[key] = item
    return picked
