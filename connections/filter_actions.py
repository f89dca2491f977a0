r"""Destination filter actions, in the Public API's DestinationFilterActionV1 shape, checked when a
filter is saved (``delivery/filters.py`` runs them)::

    {"type": "SAMPLE", "percent": 0.25}                  keep 25% of the matching events
    {"type": "SAMPLE", "percent": 0.25, "path": "userId"}  ... the same 25% of users every time
    {"type": "DROP"}                                     do not send the matching events
    {"type": "DROP_PROPERTIES", "fields": {"properties": ["email", "address.city"],
                                           "context": ["ip"], "": ["anonymousId"]}}
    {"type": "ALLOW_PROPERTIES", "fields": {"properties": ["total", "currency"]}}

``fields`` maps an object of the message to the fields to drop from it (or the only ones to keep):
``"properties"``, ``"context"``, ``"traits"`` (the top-level ``traits`` of identify and group
calls; ``context.traits`` is ``"context": ["traits.x"]``) or ``""`` for the message itself. A field
is a dot-separated path into that object; ``\`` escapes a ``.`` or ``\`` that belongs to a key
(``"foo\.bar"``). Where a path meets a list, it applies to every element of the list, as in
Segment ("products.price" drops the price of every product); there are no indexes.

``percent`` is the share of matching events that are kept (sampled in), from 0 to 1. ``path``,
when given, is a field path from the message's top (``"userId"``, ``"properties.account"``).

At the top level, ``type`` and ``messageId`` can be neither dropped nor left out: every event
needs them to be delivered. An allow-list of ``""`` keeps ``type``, ``messageId``, ``userId``
and ``anonymousId`` besides the fields it names.
"""

import math

__all__ = [
    "ACTION_TYPES",
    "ALWAYS_KEPT",
    "FIELD_OBJECTS",
    "PROTECTED",
    "parse_field_path",
    "validate_actions",
]

ACTION_TYPES = ("SAMPLE", "DROP", "DROP_PROPERTIES", "ALLOW_PROPERTIES")
FIELD_OBJECTS = ("", "properties", "context", "traits")
# Top-level fields no action removes, and those an allow-list of the top level keeps anyway.
PROTECTED = frozenset({"type", "messageId"})
ALWAYS_KEPT = PROTECTED | {"userId", "anonymousId"}

_KEYS = {
    "SAMPLE": {"type", "percent", "path"},
    "DROP": {"type"},
    "DROP_PROPERTIES": {"type", "fields"},
    "ALLOW_PROPERTIES": {"type", "fields"},
}


def parse_field_path(path: str) -> list[str]:
    r"""Splits ``path`` at the dots not escaped by ``\``; raises ValueError if a segment is empty
    or the path ends with a lone ``\``."""
    segments, chars = [], []
    i, n = 0, len(path)
    while i < n:
        c = path[i]
        if c == "\\":
            if i + 1 >= n:
                raise ValueError(f"'{path}' ends with a lone '\\'")
            chars.append(path[i + 1])
            i += 2
            continue
        if c == ".":
            if not chars:
                raise ValueError(f"'{path}' has an empty field name")
            segments.append("".join(chars))
            chars = []
        else:
            chars.append(c)
        i += 1
    if not chars:
        raise ValueError(f"'{path}' has an empty field name")
    segments.append("".join(chars))
    return segments


def validate_actions(actions) -> list[str]:
    """Every problem with a filter's actions, as sentences for people; empty when they are valid."""
    if not isinstance(actions, list):
        return ["The actions must be a list."]
    if not actions:
        return ["A filter needs at least one action."]
    errors = []
    for number, action in enumerate(actions, 1):
        errors.extend(f"Action {number}: {error}" for error in _action_errors(action))
    return errors


def _action_errors(action) -> list[str]:
    if not isinstance(action, dict):
        return ["an action must be an object with a 'type'."]
    kind = action.get("type")
    if kind not in ACTION_TYPES:
        known = ", ".join(ACTION_TYPES)
        return [f"unknown type {kind!r}; the types are {known}."]
    errors = [
        f"'{key}' does not belong in a {kind} action."
        for key, value in action.items()
        if key not in _KEYS[kind] and value is not None
    ]
    if kind == "SAMPLE":
        errors.extend(_sample_errors(action))
    elif kind in ("DROP_PROPERTIES", "ALLOW_PROPERTIES"):
        errors.extend(_fields_errors(kind, action.get("fields")))
    return errors


def _sample_errors(action: dict) -> list[str]:
    errors = []
    percent = action.get("percent")
    if type(percent) not in (int, float) or math.isnan(percent):
        errors.append("'percent' must be a number from 0 to 1 (the share of events kept).")
    elif not 0 <= percent <= 1:
        errors.append(f"'percent' must be from 0 to 1 (the share of events kept), not {percent}.")
    path = action.get("path")
    if path is not None:
        if not isinstance(path, str) or not path:
            errors.append("'path' must be a field path such as 'userId'.")
        else:
            try:
                parse_field_path(path)
            except ValueError as error:
                errors.append(f"'path': {error}.")
    return errors


def _fields_errors(kind: str, fields) -> list[str]:
    if not isinstance(fields, dict) or not fields:
        return [
            "'fields' must map 'properties', 'context', 'traits' or '' (the top level) to lists"
            " of field names."
        ]
    errors = []
    for key, names in fields.items():
        if key not in FIELD_OBJECTS:
            errors.append(
                f"'fields' cannot filter {key!r}; it takes 'properties', 'context', 'traits'"
                " and '' (the top level)."
            )
            continue
        label = f"'fields.{key}'" if key else "'fields' of the top level ('')"
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            errors.append(f"{label} must be a list of field names.")
            continue
        for name in names:
            try:
                segments = parse_field_path(name)
            except ValueError as error:
                errors.append(f"{label}: {error}.")
                continue
            top_level = key == "" and len(segments) == 1
            if kind == "DROP_PROPERTIES" and top_level and segments[0] in PROTECTED:
                errors.append(f"{label}: '{name}' cannot be dropped; every event needs it.")
    return errors
