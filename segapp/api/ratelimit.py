"""The Public API rate limit: a fixed window per token, counted in the database.

Why the database: several gunicorn processes on several machines serve the API, so an in-process
counter would let each of them grant the whole limit. The database is the one store every process
already shares in both deployment shapes (the embedded default has no Redis, and Django's cache is
per-process there). One UPSERT per request both counts the request and returns the new count,
atomically, in a single row per token (no clean-up: a new window overwrites the old one).
"""

import math
import time

from django.conf import settings
from django.db import connection
from rest_framework.throttling import BaseThrottle

from segapp.api.auth import TokenPrincipal

# PostgreSQL and SQLite (3.35+) both speak INSERT … ON CONFLICT … RETURNING. Every expression in
# DO UPDATE reads the row as it was, so the window check and the reset see the same old values.
_COUNT = """
INSERT INTO segapp_apiratewindow (token_id, window_index, hits) VALUES (%s, %s, 1)
ON CONFLICT (token_id) DO UPDATE SET
    hits = CASE WHEN segapp_apiratewindow.window_index = excluded.window_index
                THEN segapp_apiratewindow.hits + 1 ELSE 1 END,
    window_index = excluded.window_index
RETURNING hits
"""


def count_request(token_id: str, window_index: int) -> int:
    """Counts one request of ``token_id`` in ``window_index``; returns the window's count."""
    with connection.cursor() as cursor:
        cursor.execute(_COUNT, [token_id, window_index])
        return cursor.fetchone()[0]


class TokenRateThrottle(BaseThrottle):
    """Allows ``API_RATE_LIMIT`` requests per token per ``API_RATE_WINDOW`` seconds."""

    def allow_request(self, request, view):
        limit, window = settings.API_RATE_LIMIT, settings.API_RATE_WINDOW
        if not limit or not isinstance(request.user, TokenPrincipal):
            return True
        now = time.time()
        index = int(now // window)
        hits = count_request(request.user.token.pk, index)
        reset = (index + 1) * window
        self.seconds_left = reset - now
        # Read by RateLimitHeadersMiddleware, which sees the Django request, not DRF's wrapper.
        request._request.rate_limit = (limit, max(limit - hits, 0), reset)
        return hits <= limit

    def wait(self):
        return math.ceil(self.seconds_left)


class RateLimitHeadersMiddleware:
    """Adds ``X-RateLimit-Limit``, ``-Remaining`` and ``-Reset`` (Unix time) to API responses that
    were counted, including the 429 itself (which also carries ``Retry-After``, in seconds)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        rate_limit = getattr(request, "rate_limit", None)
        if rate_limit is not None:
            limit, remaining, reset = rate_limit
            response["X-RateLimit-Limit"] = str(limit)
            response["X-RateLimit-Remaining"] = str(remaining)
            response["X-RateLimit-Reset"] = str(reset)
        return response
