"""Served over HTTPS (secure cookies), the console tells browsers never to use plain HTTP."""

import os
import subprocess
import sys

import pytest

from tests.processes import REPO


def header_in_subprocess(env_overrides: dict, header: str, secure: bool) -> str:
    code = (
        "from django.test import Client; "
        f"r = Client().get('/signin/', secure={secure}); "
        f"print(repr(r.headers.get({header!r})))"
    )
    env = {**os.environ, **env_overrides, "SEGAPP_ALLOWED_HOSTS": "testserver"}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=REPO, env=env, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return result.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("env", "secure", "expected"),
    [
        ({"SEGAPP_SECURE_COOKIES": "1"}, True, "'max-age=31536000'"),
        ({"SEGAPP_SECURE_COOKIES": "1", "SEGAPP_HSTS_SECONDS": "600"}, True, "'max-age=600'"),
        ({"SEGAPP_SECURE_COOKIES": "0"}, True, "None"),
        ({"SEGAPP_SECURE_COOKIES": "1"}, False, "None"),  # never over plain HTTP
    ],
)
def test_hsts_only_with_secure_cookies(env, secure, expected):
    assert header_in_subprocess(env, "Strict-Transport-Security", secure) == expected


def test_hsts_behind_a_tls_proxy_trusts_its_forwarded_proto():
    code_env = {"SEGAPP_SECURE_COOKIES": "1", "SEGAPP_TRUSTED_PROXIES": "1"}
    code = (
        "from django.test import Client; "
        "r = Client().get('/signin/', headers={'X-Forwarded-Proto': 'https'}); "
        "print(repr(r.headers.get('Strict-Transport-Security')))"
    )
    env = {**os.environ, **code_env, "SEGAPP_ALLOWED_HOSTS": "testserver"}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=REPO, env=env, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert result.stdout.strip().splitlines()[-1] == "'max-age=31536000'"
