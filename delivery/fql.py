"""Evaluates FQL ASTs (``connections/fql.py`` documents their shapes) against Segment messages.

``compile(ast)`` walks the AST once and returns a closure; evaluating a message only calls
closures. Evaluation never raises, whatever the message holds, and follows Segment's reference
(https://segment.com/docs/api/public-api/fql/) where it speaks:

- A missing field is null; a path step into a non-object (or a non-numeric step into a list) is
  null. ``properties.products.0.id`` indexes lists; a negative or too large index is null.
- ``=`` is true when both sides have the same type and are equal (lists and objects deeply):
  booleans are not numbers (``true = 1`` is false), ints and floats are both numbers
  (``1 = 1.0``), ``x = null`` is true when x is missing or null. ``!=`` is the negation of ``=``.
- ``>``, ``>=``, ``<``, ``<=`` compare numbers only; anything else (null, strings, mixed types)
  makes them false.
- ``x in list`` is true when an item of the list equals x as ``=`` does; false when the right side
  is not a list.
- ``and``, ``or`` and ``!`` treat only the boolean ``true`` as true (null and every non-boolean
  are not true); they always give a boolean. A condition matches only if it evaluates to ``true``.
- Functions: ``contains(s, sub)`` is a substring test on strings and a membership test on lists,
  false otherwise (``contains(null, 'a')`` is false). ``match(s, glob)`` is false unless both are
  strings. ``length`` counts a string's UTF-8 bytes (as Segment documents), a list's items or an
  object's keys; ``length(null)`` is 0, of anything else null. ``typeof`` gives "string",
  "number", "bool", "list", "object" or "null" (Segment's names, plus "object").
  ``lowercase``/``uppercase`` change case; ``snakecase``/``kebabcase`` split into words (at
  spaces, punctuation, ``_``/``-`` and camelCase humps), lowercase them and join with ``_``/``-``
  ("Order Completed" → "order_completed"); ``titlecase`` joins the capitalised words with spaces
  ("order_completed" → "Order Completed"). These return null for anything but a string.
  ``bool``: null, false, 0, "", "false" (any case), "0", [] and {} are false, all else true.
  ``string``: null stays null, strings stay, booleans are "true"/"false", numbers print as in
  JSON (``12``, ``12.5``; an integral float prints without ``.0``), lists and objects as compact
  JSON. ``number``: numbers stay, a string holding a JSON number (spaces around allowed) is
  parsed, all else (booleans included) is null.
"""

import functools
import json
import math
import re
from collections.abc import Callable

from connections.fql import FUNCTIONS, GlobError, glob_regex

__all__ = ["compile", "field_getter", "matches"]

_NUMBERS = (int, float)  # exact types: bool is not a number here
_MISSING = object()


def compile(ast: list) -> Callable[[dict], bool]:
    """The condition of ``ast`` as a function of a message; raises ValueError for an invalid AST."""
    if ast == ["all"]:
        return _match_all
    value = _compile(ast, 0)

    def condition(message: dict) -> bool:
        return value(message) is True

    return condition


def matches(ast: list, message: dict) -> bool:
    return compile(ast)(message)


def _match_all(message: dict) -> bool:
    return True


def _invalid(node, why: str):
    raise ValueError(f"Invalid FQL AST node {node!r}: {why}")


def _constant(node):
    """The value of a literal node (a list literal of literals included), else _MISSING."""
    if node[0] == "lit":
        return node[1]
    if node[0] == "list" and all(
        isinstance(item, list) and item[:1] == ["lit"] for item in node[1:]
    ):
        return [item[1] for item in node[1:]]
    return _MISSING


def _compile(node, depth: int) -> Callable:
    if not isinstance(node, list) or not node or not isinstance(node[0], str):
        _invalid(node, "expected a list starting with the node's name")
    if depth > 400:
        _invalid(node, "nested too deeply")
    tag = node[0]
    if tag == "lit":
        if len(node) != 2 or not (node[1] is None or isinstance(node[1], (str, int, float))):
            _invalid(node, "a literal holds one string, number, boolean or null")
        value = node[1]
        return lambda message: value
    if tag == "path":
        if len(node) < 2 or not all(isinstance(segment, str) for segment in node[1:]):
            _invalid(node, "a path holds one or more strings")
        return field_getter(node[1:])
    if tag == "call":
        if len(node) < 2 or node[1] not in FUNCTIONS:
            _invalid(node, "unknown function")
        if len(node) - 2 != FUNCTIONS[node[1]]:
            _invalid(node, "wrong number of arguments")
        return _call(node, [_compile(arg, depth + 1) for arg in node[2:]])
    children = [_compile(child, depth + 1) for child in node[1:]]
    if tag == "list":
        constant = _constant(node)
        if constant is not _MISSING:
            return lambda message: constant
        return lambda message: [child(message) for child in children]
    if tag == "!":
        if len(children) != 1:
            _invalid(node, "'!' takes one operand")
        (operand,) = children
        return lambda message: operand(message) is not True
    if tag in ("and", "or"):
        if len(children) < 2:
            _invalid(node, f"'{tag}' takes two or more operands")
        return _and(children) if tag == "and" else _or(children)
    if tag in _COMPARE or tag in ("=", "!=", "in"):
        if len(children) != 2:
            _invalid(node, f"'{tag}' takes two operands")
        left, right = children
        if tag == "in":
            return _in(left, right, _constant(node[2]))
        if tag in ("=", "!="):
            return _equality(left, right, _constant(node[2]), negate=tag == "!=")
        return _ordering(_COMPARE[tag], left, right)
    _invalid(node, f"unknown node '{tag}'")


def field_getter(segments: list[str]) -> Callable:
    """A function giving the value at ``segments`` in a message, or None (FQL's path lookup)."""
    steps = tuple(
        (segment, int(segment) if segment.isascii() and segment.isdigit() else None)
        for segment in segments
    )
    if len(steps) == 1 and steps[0][1] is None:
        key = steps[0][0]
        return lambda message: message.get(key) if type(message) is dict else None

    def get(message):
        value = message
        for key, index in steps:
            if type(value) is dict:
                value = value.get(key)
            elif index is not None and type(value) is list:
                value = value[index] if index < len(value) else None
            else:
                return None
        return value

    return get


def _equal(a, b) -> bool:
    """FQL's strict equality: same type (ints and floats are both numbers) and equal value."""
    ta, tb = type(a), type(b)
    if ta is tb:
        if ta is list:
            return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
        if ta is dict:
            return a.keys() == b.keys() and all(_equal(v, b[k]) for k, v in a.items())
        return a == b
    return ta in _NUMBERS and tb in _NUMBERS and a == b


def _equality(left, right, constant, negate: bool) -> Callable:
    if type(constant) is str:
        # Only a string can equal a string: skip the type dance.
        if negate:
            return lambda message: left(message) != constant
        return lambda message: left(message) == constant
    if constant is None:
        if negate:
            return lambda message: left(message) is not None
        return lambda message: left(message) is None
    if negate:
        return lambda message: not _equal(left(message), right(message))
    return lambda message: _equal(left(message), right(message))


_COMPARE = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


def _ordering(compare, left, right) -> Callable:
    def ordering(message):
        a = left(message)
        if type(a) not in _NUMBERS:
            return False
        b = right(message)
        return type(b) in _NUMBERS and compare(a, b)

    return ordering


def _in(left, right, constant) -> Callable:
    if type(constant) is list and all(type(item) is str for item in constant):
        strings = frozenset(constant)
        return lambda message: type(value := left(message)) is str and value in strings

    def contained(message):
        items = right(message)
        if type(items) is not list:
            return False
        value = left(message)
        return any(_equal(value, item) for item in items)

    return contained


def _and(children: list) -> Callable:
    # Pairs, halving long chains so the nesting stays shallow: cheaper per call than all().
    if len(children) == 1:
        return children[0]
    half = len(children) // 2
    a, b = _and(children[:half]), _and(children[half:])
    return lambda message: a(message) is True and b(message) is True


def _or(children: list) -> Callable:
    if len(children) == 1:
        return children[0]
    half = len(children) // 2
    a, b = _or(children[:half]), _or(children[half:])
    return lambda message: a(message) is True or b(message) is True


# Functions.


def _contains(haystack, needle) -> bool:
    if type(haystack) is str:
        return type(needle) is str and needle in haystack
    if type(haystack) is list:
        return any(_equal(item, needle) for item in haystack)
    return False


@functools.lru_cache(maxsize=256)
def _glob(pattern: str):
    try:
        return re.compile(glob_regex(pattern))
    except (GlobError, re.error):
        return None


def _match(value, pattern) -> bool:
    if type(value) is not str or type(pattern) is not str:
        return False
    compiled = _glob(pattern)
    return compiled is not None and compiled.fullmatch(value) is not None


def _length(value):
    if value is None:
        return 0
    if type(value) is str:
        return len(value.encode("utf-8", "surrogatepass"))
    if type(value) in (list, dict):
        return len(value)
    return None


_TYPES = {str: "string", int: "number", float: "number", bool: "bool", list: "list"}


def _typeof(value) -> str:
    if value is None:
        return "null"
    return _TYPES.get(type(value), "object")


def _words(text: str) -> list[str]:
    """Words of ``text``: runs of letters and digits, split again at camelCase humps."""
    words = []
    for run in re.findall(r"[^\W_]+", text):
        start = 0
        for i in range(1, len(run)):
            before, here = run[i - 1], run[i]
            if here.isupper() and (
                before.islower()
                or before.isdigit()
                or (before.isupper() and i + 1 < len(run) and run[i + 1].islower())
            ):
                words.append(run[start:i])
                start = i
        words.append(run[start:])
    return words


def _string_only(convert):
    return lambda value: convert(value) if type(value) is str else None


def _bool(value) -> bool:
    if type(value) is str:
        return value.strip().lower() not in ("", "false", "0")
    if type(value) is float and math.isnan(value):
        return False
    return bool(value)


def _to_string(value):
    if value is None or type(value) is str:
        return value
    if type(value) is bool:
        return "true" if value else "false"
    if type(value) is float and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    if type(value) in _NUMBERS:
        return repr(value)
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        return None


_JSON_NUMBER = re.compile(r"\s*(-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?)\s*")


def _to_number(value):
    if type(value) in _NUMBERS:
        return value
    if type(value) is str:
        found = _JSON_NUMBER.fullmatch(value)
        if found:
            number = float(found.group(1)) if found.group(2) or found.group(3) else int(found[1])
            return number if not (type(number) is float and math.isinf(number)) else None
    return None


_UNARY = {
    "length": _length,
    "typeof": _typeof,
    "lowercase": _string_only(str.lower),
    "uppercase": _string_only(str.upper),
    "snakecase": _string_only(lambda s: "_".join(w.lower() for w in _words(s))),
    "kebabcase": _string_only(lambda s: "-".join(w.lower() for w in _words(s))),
    "titlecase": _string_only(lambda s: " ".join(w[:1].upper() + w[1:].lower() for w in _words(s))),
    "bool": _bool,
    "string": _to_string,
    "number": _to_number,
}


def _call(node: list, args: list) -> Callable:
    name = node[1]
    if name in _UNARY:
        function = _UNARY[name]
        (arg,) = args
        return lambda message: function(arg(message))
    first, second = args
    if name == "contains":
        return lambda message: _contains(first(message), second(message))
    # match: a literal pattern compiles once, here.
    pattern = _constant(node[3])
    if type(pattern) is str:
        compiled = _glob(pattern)
        if compiled is None:
            return lambda message: False
        fullmatch = compiled.fullmatch

        def match_literal(message):
            value = first(message)
            return type(value) is str and fullmatch(value) is not None

        return match_literal
    return lambda message: _match(first(message), second(message))
