"""Natural order for names people give: "Hook 2" before "Hook 10", without regard to case."""

import re

_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple:
    """A sort key that compares runs of digits as numbers and letters without case."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part.casefold())
        for part in _DIGITS.split(text or "")
        if part
    )


def natural_sorted(items, key=lambda item: item.name) -> list:
    """``items`` in the natural order of ``key`` (their ``name`` by default)."""
    return sorted(items, key=lambda item: natural_key(key(item)))
