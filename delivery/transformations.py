"""Applying a source's transformations to a message, before it fans out to the instances.

``compile`` turns the source's enabled ``Transformation`` rows into one function, built once per
configuration version and reused for every message (see ``delivery.pipeline``).
"""

from collections.abc import Callable

from connections.models import TransformationTarget

Transform = Callable[[dict], dict]
TRAIT_TARGETS = {TransformationTarget.IDENTIFY, TransformationTarget.GROUP}


def identity(message: dict) -> dict:
    return message


def _one(row) -> Transform:
    field = "traits" if row.target in TRAIT_TARGETS else "properties"
    name_key = "event" if row.target == TransformationTarget.TRACK else "name"
    target, event_name, new_name = row.target, row.event_name, row.new_event_name
    renames, drops = dict(row.renames), set(row.drops)

    def apply(message: dict) -> dict:
        if message.get("type") != target:
            return message
        if event_name and message.get(name_key) != event_name:
            return message
        changed = dict(message)
        if new_name:
            changed[name_key] = new_name
        values = message.get(field)
        if isinstance(values, dict) and (renames or drops):
            changed[field] = {
                renames.get(key, key): value for key, value in values.items() if key not in drops
            }
        return changed

    return apply


def compile(rows) -> Transform:
    steps = [_one(row) for row in rows if row.enabled]
    if not steps:
        return identity

    def transform(message: dict) -> dict:
        for step in steps:
            message = step(message)
        return message

    return transform
