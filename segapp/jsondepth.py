"""One cap on how deep JSON from outside may nest, for every body we parse.

orjson reads up to 1,024 levels but writes only up to about 254, and Python's own ``json`` stops
near 1,000 with a ``RecursionError``: a body between those limits is accepted, then fails when it
is stored, shown or sent on. Refusing it when it is read keeps every later step within both.
"""

import orjson

# Real events nest a handful of levels (context.device, properties.products[].variants); 64 leaves
# them plenty of room while an adapter may wrap a message a few levels deeper (an "events" list
# inside a request body) and still stay far below orjson's output limit.
MAX_DEPTH = 64


class TooDeep(ValueError):
    def __init__(self, max_depth: int = MAX_DEPTH):
        super().__init__(f"The JSON nests deeper than {max_depth} levels.")


def exceeds(value, max_depth: int = MAX_DEPTH) -> bool:
    """Whether ``value`` holds objects or arrays more than ``max_depth`` levels deep (``[]`` is
    one level, a string none). A loop rather than recursion: values come nested up to 1,024."""
    if not isinstance(value, dict | list):
        return False
    pending = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > max_depth:
            return True
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, dict | list):
                pending.append((child, depth + 1))
    return False


def loads(data: bytes | str, max_depth: int = MAX_DEPTH):
    """orjson's ``loads``, raising ``TooDeep`` (a ``ValueError``, like ``JSONDecodeError``) for a
    value that nests past ``max_depth``."""
    value = orjson.loads(data)
    if exceeds(value, max_depth):
        raise TooDeep(max_depth)
    return value


def pruned(value, max_depth: int = MAX_DEPTH):
    """``value`` with what nests past ``max_depth`` replaced by "…", to record or show it
    (recursion is bounded here by ``max_depth``)."""
    if not isinstance(value, dict | list):
        return value
    if max_depth == 0:
        return "…"
    if isinstance(value, dict):
        return {key: pruned(child, max_depth - 1) for key, child in value.items()}
    return [pruned(child, max_depth - 1) for child in value]
