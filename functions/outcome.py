"""What one invocation of a function came to: its return value or its error, its logs and its
fetches."""

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from functions.transport import Exchange

# The name the customer's code runs under, so that stack frames tell its lines from ours.
SOURCE_NAME = "function.js"
FRAME = re.compile(r"^\s+at .*\b" + re.escape(SOURCE_NAME) + r":(\d+):\d+\)?$", re.MULTILINE)


class Exceeded(StrEnum):
    CPU_TIME = "cpu_time"
    WALL_TIME = "wall_time"
    MEMORY = "memory"


@dataclass(frozen=True)
class Failure:
    """An error the function threw (``name`` is its JS class: ``RetryError``, ``TypeError``…),
    or a limit it passed (``exceeded``). ``line`` counts from the customer's first line."""

    name: str
    message: str
    line: int | None = None
    stack: str = ""  # the customer's frames only
    exceeded: Exceeded | None = None


@dataclass(frozen=True)
class LogLine:
    level: str  # log, info, warn, error, debug
    message: str


@dataclass
class Outcome:
    value: Any = None  # what the handler returned, as JSON; None on error
    error: Failure | None = None
    # The function has no handler for this call (no onAlias, say): Segment's "not supported".
    missing_handler: bool = False
    logs: list[LogLine] = field(default_factory=list)
    logs_dropped: int = 0
    exchanges: list[Exchange] = field(default_factory=list)
    cpu_seconds: float = 0.0  # time JavaScript ran, waits for fetches and timers excluded
    wall_seconds: float = 0.0


def thrown(error: dict) -> Failure:
    """A Failure from what the sandbox reports of a thrown error: name, message, stack."""
    stack = error.get("stack") or ""
    frames = FRAME.findall(stack)
    return Failure(
        name=error["name"],
        message=error["message"],
        line=error.get("line") or (int(frames[0]) if frames else None),
        stack="\n".join(m.group(0) for m in FRAME.finditer(stack)),
    )


def exceeded(limit: Exceeded, detail: str) -> Failure:
    name = "MemoryLimitExceeded" if limit is Exceeded.MEMORY else "TimeLimitExceeded"
    return Failure(name=name, message=detail, exceeded=limit)
