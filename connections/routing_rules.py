"""Destination filters of device-mode instances as analytics.js routing rules.

analytics.js applies ``middlewareSettings.routingRules`` in the browser with Segment's tsub
library (vendored in ``@segment/analytics-next``, ``src/vendor/tsub``). A rule names a destination
and pairs matchers with transformer lists:

- a matcher is ``{"type": "all", "ir": ""}`` or ``{"type": "fql", "ir": "<JSON of the FQL IR>"}``;
  in the IR an operand that is a string is a field path, ``{"value": v}`` a literal, a list an
  operator or function application (``["=", "event", {"value": "A"}]``,
  ``["lowercase", "event"]``) or, on the right of ``in``, a list of operands;
- transformers are ``{"type": "drop"}``, ``{"type": "sample_event", "config": {"sample":
  {"percent", "path"}}}``, ``{"type": "drop_properties", "config": {"drop": fields}}`` and
  ``{"type": "allow_properties", "config": {"allow": fields}}``.

tsub knows fewer functions than FQL (``contains``, ``match``, ``length``, ``lowercase``) and
evaluates them in fewer places: a filter beyond that cannot run in the browser. ``untranslatable`` says so, so
the console can warn, and such a filter is left out of the rules rather than approximated.
"""

import orjson

# typeof is left out: the browser names types as JavaScript does ("boolean", "object"), FQL not.
BROWSER_FUNCTIONS = {"contains", "match", "length", "lowercase"}
# Segment's order of actions; the browser applies them in the same order across filters.
ACTION_ORDER = ["SAMPLE", "DROP", "DROP_PROPERTIES", "ALLOW_PROPERTIES"]


class Untranslatable(ValueError):
    pass


def ir_path(segments) -> str:
    return ".".join(segment.replace(".", "\\.") for segment in segments)


def to_ir(node: list, calls_evaluated: bool = True):
    """tsub's IR for one node of our FQL syntax tree (``connections.fql``).

    tsub evaluates a function only as a condition of its own or as an operand of a comparison;
    elsewhere (another function's argument, either side of ``in``, a list item) it would compare
    the unevaluated expression, so such a filter cannot run in the browser.
    """
    kind = node[0]
    if kind == "lit":
        return {"value": node[1]}
    if kind == "path":
        return ir_path(node[1:])
    if kind == "list":
        return [to_ir(item, False) for item in node[1:]]
    if kind == "call":
        name = node[1]
        if name not in BROWSER_FUNCTIONS:
            raise Untranslatable(f"{name}() cannot run in analytics.js")
        if not calls_evaluated:
            raise Untranslatable(f"{name}() cannot be nested there in analytics.js")
        return [name, *(to_ir(arg, False) for arg in node[2:])]
    if kind in ("!", "and", "or", "=", "!=", ">", ">=", "<", "<=", "in"):
        return [kind, *(to_ir(arg, kind != "in") for arg in node[1:])]
    raise Untranslatable(f"{kind} has no analytics.js equivalent")


def untranslatable(condition_ast: list) -> str | None:
    """Why this condition cannot run in the browser, or None if it can."""
    if condition_ast == ["all"]:
        return None
    try:
        to_ir(condition_ast)
    except Untranslatable as reason:
        return str(reason)
    return None


def matcher(condition_ast: list) -> dict:
    if condition_ast == ["all"]:
        return {"type": "all", "ir": ""}
    return {"type": "fql", "ir": orjson.dumps(to_ir(condition_ast)).decode()}


def transformer(action: dict) -> dict:
    kind = action["type"]
    if kind == "SAMPLE":
        sample = {"percent": action["percent"]}
        if action.get("path"):
            sample["path"] = action["path"]
        return {"type": "sample_event", "config": {"sample": sample}}
    if kind == "DROP":
        return {"type": "drop"}
    key = "drop" if kind == "DROP_PROPERTIES" else "allow"
    return {"type": kind.lower(), "config": {key: action.get("fields", {})}}


def rule_for(destination_name: str, filters) -> dict | None:
    """One rule for a destination from its enabled filters (in the instance's order), or None if
    none can run in the browser."""
    matchers, transformers = [], []
    usable = [f for f in filters if f.enabled and untranslatable(f.condition_ast) is None]
    for action_type in ACTION_ORDER:
        for item in usable:
            actions = [a for a in item.actions if a.get("type") == action_type]
            if actions:
                matchers.append(matcher(item.condition_ast))
                transformers.append([transformer(a) for a in actions])
    if not matchers:
        return None
    return destination_rule(destination_name, matchers, transformers)


def destination_rule(destination_name: str, matchers: list, transformers: list) -> dict:
    return {
        "scope": "destinations",
        "target_type": "workspace::project::destination::config",
        "matchers": matchers,
        "transformers": transformers,
        "destinationName": destination_name,
    }
