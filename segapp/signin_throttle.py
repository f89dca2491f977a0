"""Slows down password guessing: per account and per client address, counted in the database.

Each sign-in attempt is counted *before* its password is checked, in one UPSERT per key, so
parallel guesses cannot all slip in under the limit. An attempt over either limit is refused
without checking the password. A correct password then takes its attempt back: the account's
count starts again, the address's loses that one attempt (and no more, so a guesser cannot clear
their address's count by signing in to an account of their own).

A key's count starts again once ``LOGIN_LOCKOUT_SECONDS`` have passed since its last counted
failure; while a key is locked its clock stands still, so the lock ends on time.

Why the database: as for the Public API rate limit (``segapp/api/ratelimit.py``), several web
processes on several machines must share the count, and the database is the store they all have.
"""

import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import F

from segapp.client_ip import client_ip
from segapp.models import SignInFailures
from segapp.refusal import Refusal

log = logging.getLogger("segapp.signin")

# Both PostgreSQL and SQLite read the old row in DO UPDATE. %(cutoff)s: older failures are
# forgotten; %(limit)s: at or over it, the clock of the last failure stands still.
_COUNT = """
INSERT INTO segapp_signinfailures (key, failures, last_failure_time)
VALUES (%(key)s, 1, %(now)s)
ON CONFLICT (key) DO UPDATE SET
    failures = CASE WHEN segapp_signinfailures.last_failure_time > %(cutoff)s
                    THEN segapp_signinfailures.failures + 1 ELSE 1 END,
    last_failure_time = CASE
        WHEN segapp_signinfailures.last_failure_time > %(cutoff)s
             AND segapp_signinfailures.failures >= %(limit)s
        THEN segapp_signinfailures.last_failure_time ELSE excluded.last_failure_time END
RETURNING failures, last_failure_time
"""


@dataclass(frozen=True)
class Attempt:
    account_key: str
    address_key: str
    address: str


def _count(key: str, limit: int, now: float) -> tuple[int, float]:
    params = {
        "key": key,
        "now": now,
        "cutoff": now - settings.LOGIN_LOCKOUT_SECONDS,
        "limit": limit,
    }
    with connection.cursor() as cursor:
        cursor.execute(_COUNT, params)
        return cursor.fetchone()


def begin_attempt(request, email: str) -> Attempt:
    """Counts one sign-in attempt; raises a ``Refusal`` if the account or the address is over its
    limit (the password must then not be checked)."""
    address = client_ip(request)
    attempt = Attempt(
        f"account:{(email or '').strip().lower()}"[:300], f"address:{address}", address
    )
    now = time.time()
    for limit_name, key, limit in (
        ("account", attempt.account_key, settings.LOGIN_FAILURE_LIMIT),
        ("address", attempt.address_key, settings.LOGIN_ADDRESS_FAILURE_LIMIT),
    ):
        failures, last_failure = _count(key, limit, now)
        if failures > limit:
            wait = last_failure + settings.LOGIN_LOCKOUT_SECONDS - now
            log.warning(
                "sign-in throttled",
                extra={"limit": limit_name, "address": address, "failures": failures},
            )
            minutes = max(1, math.ceil(wait / 60))
            raise Refusal(
                f"Too many failed sign-ins; try again in {minutes} minute{'s' * (minutes != 1)}.",
                rule=f"sign-in-throttled-{limit_name}",
                status=429,
            )
    return attempt


def succeeded(attempt: Attempt) -> None:
    """The password was right: the attempt was not a failure."""
    SignInFailures.objects.filter(key=attempt.account_key).delete()
    SignInFailures.objects.filter(key=attempt.address_key, failures__gt=0).update(
        failures=F("failures") - 1
    )
