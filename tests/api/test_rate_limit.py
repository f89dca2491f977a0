"""The Public API rate limit: per token, shared by every web process (it lives in the database),
with X-RateLimit-* headers on every counted response and Retry-After on the 429."""

import os
import subprocess
import sys
import time

import pytest

from segapp.api.ratelimit import count_request
from tests import processes
from tests.api.conftest import errors_of
from tests.factories import make_token

DAY = 86_400


@pytest.fixture
def limit_3(settings):
    settings.API_RATE_LIMIT = 3
    # A day-long window, so the test never straddles two windows (and gets a fresh count).
    settings.API_RATE_WINDOW = DAY


def test_fourth_request_in_a_window_is_429_with_headers(limit_3, api, api_as):
    for remaining in (2, 1, 0):
        response = api.get("/")
        assert response.status_code == 200
        assert response["X-RateLimit-Limit"] == "3"
        assert response["X-RateLimit-Remaining"] == str(remaining)
    reset = int(response["X-RateLimit-Reset"])
    assert 0 < reset - time.time() <= DAY and reset % DAY == 0
    refused = api.post("/sources", {})  # a change is counted like a read
    (error,) = errors_of(refused, 429)
    assert error["type"] == "too-many-requests"
    assert refused["X-RateLimit-Remaining"] == "0"
    assert 1 <= int(refused["Retry-After"]) <= DAY
    other = api_as()  # another token has its own budget
    assert other.get("/").status_code == 200


def test_a_new_window_starts_from_one(api):
    token_id = api.token.pk
    assert [count_request(token_id, 100) for _ in range(3)] == [1, 2, 3]
    assert count_request(token_id, 101) == 1


def test_zero_turns_the_limit_off(settings, api):
    settings.API_RATE_LIMIT = 0
    response = api.get("/")
    assert response.status_code == 200 and "X-RateLimit-Limit" not in response


def test_unauthenticated_requests_and_the_docs_are_not_counted(limit_3, client):
    assert "X-RateLimit-Limit" not in client.get("/api/sources")
    for _ in range(5):
        assert client.get("/api/schema/").status_code == 200


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_count_is_shared_with_other_processes(workspace):
    """Two requests here, a third from another Python process: the database holds one count."""
    token, _ = make_token(workspace)
    count_request(token.pk, 7)
    count_request(token.pk, 7)
    code = f"from segapp.api.ratelimit import count_request; print(count_request({token.pk!r}, 7))"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=processes.REPO, capture_output=True,
        text=True, timeout=60, env={**os.environ, "DATABASE_URL": processes.test_database_url()},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "3"
    assert count_request(token.pk, 7) == 4
