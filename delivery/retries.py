"""What follows an attempt: the one place that decides retry, discard or dead letter, and when.

Retries are scheduled in the database (``next_attempt_at``), never with Celery countdowns: a long
ETA on Redis outlives the visibility timeout and runs twice, and a sleeping task holds a worker.
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from delivery.adapters.base import Verdict

MAX_DELAY = 30 * 60.0  # never wait more than this between attempts
# A destination answering 429 may ask for a long pause; cap it so a typo cannot park events.
MAX_RETRY_AFTER = 60 * 60.0


class Next:
    DELIVERED = "delivered"
    RETRY = "retrying"
    DISCARDED = "discarded"
    DEAD = "dead_lettered"


@dataclass(frozen=True)
class Decision:
    state: str
    next_attempt_at: datetime | None = None


def backoff(attempt: int) -> float:
    """Randomized exponential backoff ("full jitter" around the doubling delay) after ``attempt``
    failed attempts, so many failing events do not retry in lockstep."""
    ceiling = min(MAX_DELAY, settings.DELIVERY_RETRY_BASE_DELAY * 2 ** max(attempt - 1, 0))
    return random.uniform(ceiling / 2, ceiling)


def decide(
    verdict: Verdict, attempt: int, first_attempt_at: datetime, now: datetime, retry_after=None
) -> Decision:
    if verdict == Verdict.DELIVERED:
        return Decision(Next.DELIVERED)
    if verdict == Verdict.DISCARD:
        return Decision(Next.DISCARDED)
    window_end = first_attempt_at + timedelta(seconds=settings.DELIVERY_RETRY_WINDOW)
    delay = min(retry_after, MAX_RETRY_AFTER) if retry_after is not None else backoff(attempt)
    when = now + timedelta(seconds=delay)
    if when >= window_end:
        return Decision(Next.DEAD)
    return Decision(Next.RETRY, when)
