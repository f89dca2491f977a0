"""Data controls in the device-mode settings document, where analytics.js can apply them.

analytics.js runs ``middlewareSettings.routingRules`` in the browser (``connections.routing_rules``
describes the shape). A classified field the controls block becomes a rule that drops the event
when the field is there (``typeof`` the field is not ``"undefined"``: tsub reads an absent field as
``undefined``, so a comparison with null would match every event); every field to drop, hash or
encrypt becomes a ``drop_properties`` of it (keyed by the path of the object that holds it), since
the browser can neither hash nor encrypt: it never gets such a field in clear.
"""

import orjson

from connections.routing_rules import destination_rule, ir_path
from privacy.guard import Guard, guards_for_source

# The objects of a message a ``drop_properties`` transformer reaches into.
OBJECTS = ("properties", "traits", "context")


def routing_rules(source_id: str, device: dict[str, str]) -> list[dict]:
    """Rules for the device-mode instances ``device`` (destination name → instance id)."""
    if not device:
        return []
    guards = guards_for_source(source_id)
    rules = []
    for name, instance_id in device.items():
        if (guard := guards.get(instance_id)) and (rule := _rule(name, guard)):
            rules.append(rule)
    return rules


def _rule(destination_name: str, guard: Guard) -> dict | None:
    matchers, transformers = [], []
    for path in guard.block:
        present = ["!=", ["typeof", ir_path(path)], {"value": "undefined"}]
        matchers.append({"type": "fql", "ir": orjson.dumps(present).decode()})
        transformers.append([{"type": "drop"}])
    # tsub reads a key as the path of an object and deletes the listed keys of that object.
    dropped: dict[str, list[str]] = {}
    for path in (*guard.drop, *guard.hash, *guard.encrypt):
        if path[0] in OBJECTS and len(path) > 1:
            dropped.setdefault(".".join(path[:-1]), []).append(path[-1])
    if dropped:
        matchers.append({"type": "all", "ir": ""})
        transformers.append([{"type": "drop_properties", "config": {"drop": dropped}}])
    if not matchers:
        return None
    return destination_rule(destination_name, matchers, transformers)
