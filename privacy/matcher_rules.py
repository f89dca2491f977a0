"""The rules a workspace's own matchers follow, in one place: the console, the admin and the
operations in ``privacy.custom_matchers`` all ask here. No Django.

Python's regular expressions backtrack and have no time limit, so a custom pattern is kept short
and to constructs that cannot backtrack without bound, much as Segment's patterns follow Go's
RE2 syntax; with values examined only ``matchers.MAX_VALUE_LENGTH`` far, every match runs in a
bounded time whatever the data.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from privacy.matchers import BUILTIN_NAMES, KEY, RED, VALUE, YELLOW, key_items
from segapp.refusal import Refusal

# Segment allows 100 custom matchers per workspace.
MAX_CUSTOM_MATCHERS = 100
MAX_PATTERN_LENGTH = 200
MAX_OPEN_REPEATS = 4


@dataclass(frozen=True)
class Proposal:
    name: str
    classification: str
    match_on: str
    pattern: str = ""


def refuse_another_matcher(count: int) -> Refusal | None:
    if count >= MAX_CUSTOM_MATCHERS:
        return Refusal(
            f"A workspace can have up to {MAX_CUSTOM_MATCHERS} custom matchers; delete one "
            "before adding another.",
            rule="custom_matcher_limit",
            status=409,
        )
    return None


def refuse_matcher(proposal: Proposal, taken_names: Iterable[str] = ()) -> Refusal | None:
    """Why a custom matcher may not be saved as proposed, or None. ``taken_names``: the other
    custom matchers' names in the workspace."""
    name = proposal.name.strip()
    if not any(c.isalnum() for c in name):
        return Refusal("Give the matcher a name.", rule="matcher_name", field="name")
    if len(name) > 100:
        return Refusal("Keep the name to 100 characters.", rule="matcher_name", field="name")
    lowered = name.lower()
    if lowered in BUILTIN_NAMES:
        return Refusal(
            f"“{name}” is a built-in matcher already; choose another name.",
            rule="matcher_name_taken",
            field="name",
            status=409,
        )
    if lowered in {n.lower() for n in taken_names}:
        return Refusal(
            f"This workspace already has a matcher named “{name}”.",
            rule="matcher_name_taken",
            field="name",
            status=409,
        )
    if proposal.classification not in (RED, YELLOW):
        # Segment's custom matchers are Red or Yellow: Green is what no matcher suggests.
        return Refusal(
            "A custom matcher classifies as Red or Yellow.",
            rule="matcher_classification",
            field="classification",
        )
    if proposal.match_on not in (KEY, VALUE):
        return Refusal("Match on Key or Value.", rule="matcher_match_on", field="match_on")
    return refuse_pattern(proposal.match_on, proposal.pattern)


def refuse_pattern(match_on: str, pattern: str) -> Refusal | None:
    if not pattern.strip():
        wanted = "a regular expression" if match_on == VALUE else "at least one key name"
        return _pattern_refusal(f"Enter {wanted}.")
    if len(pattern) > MAX_PATTERN_LENGTH:
        return _pattern_refusal(f"Keep the pattern to {MAX_PATTERN_LENGTH} characters.")
    if match_on == VALUE:
        return refuse_regex(pattern)
    names, regexes = key_items(pattern)
    if not names and not regexes:
        return _pattern_refusal("Enter at least one key name.")
    for regex in regexes:
        if refusal := refuse_regex(regex, f"/{regex}/: "):
            return refusal
    return None


def refuse_regex(regex: str, where: str = "") -> Refusal | None:
    """A regular expression Python compiles and that cannot backtrack without bound."""
    if not regex:
        return _pattern_refusal(f"{where}the regular expression is empty.")
    try:
        re.compile(regex)
    except re.error as error:
        at = f" at position {error.pos + 1}" if error.pos is not None else ""
        return _pattern_refusal(f"{where}not a valid regular expression{at}: {error.msg}.")
    if problem := _costly_construct(regex):
        return _pattern_refusal(f"{where}{problem}")
    return None


def _pattern_refusal(message: str) -> Refusal:
    return Refusal(message[:1].upper() + message[1:], rule="matcher_pattern", field="pattern")


def _costly_construct(regex: str) -> str | None:
    """What in a compiled pattern could take exponential time, or that Segment's RE2 syntax
    lacks (backreferences, lookaround); None if nothing."""
    from re import _constants as c
    from re import _parser

    open_repeats = 0

    def walk(items, inside_repeat: bool) -> str | None:
        nonlocal open_repeats
        for op, av in items:
            if op in (c.GROUPREF, c.GROUPREF_EXISTS):
                return "backreferences are not supported (patterns follow RE2, as Segment's do)."
            if op in (c.ASSERT, c.ASSERT_NOT):
                return "lookahead and lookbehind are not supported (patterns follow RE2, as Segment's do)."  # fmt: skip
            if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
                low, high, body = av
                varies = low != high
                if high == c.MAXREPEAT:
                    open_repeats += 1
                if varies and inside_repeat:
                    return (
                        "a repeated group holds another repetition, like (a+)+, which can take "
                        "exponential time; rewrite it with a character class, like [a-z.]+."
                    )
                if problem := walk(body, inside_repeat or varies):
                    return problem
            elif op == c.BRANCH:
                if inside_repeat:
                    return (
                        "a repeated group holds alternatives, like (a|ab)*, which can take "
                        "exponential time; use a character class or repeat each alternative."
                    )
                for branch in av[1]:
                    if problem := walk(branch, inside_repeat):
                        return problem
            elif op in (c.SUBPATTERN, c.ATOMIC_GROUP):
                body = av[-1] if op == c.SUBPATTERN else av
                if problem := walk(body, inside_repeat):
                    return problem
        return None

    problem = walk(_parser.parse(regex), False)
    if problem is None and open_repeats > MAX_OPEN_REPEATS:
        problem = f"use at most {MAX_OPEN_REPEATS} open-ended repetitions (+, *, {{n,}})."
    return problem
