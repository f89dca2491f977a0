"""Guessing passwords is slowed down per account and per client address, on the console's
sign-in page and the admin's alike; the counts live in the database, shared by every process."""

import logging

import pytest
from django.db.models import F
from django.test import Client

from segapp.models import SignInFailures, User
from tests.factories import PASSWORD, make_user

SIGN_IN = "/signin/"
ADMIN_SIGN_IN = "/admin/login/"
THROTTLED = "Too many failed sign-ins; try again in"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.LOGIN_FAILURE_LIMIT = 5
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 8
    settings.LOGIN_LOCKOUT_SECONDS = 900


def sign_in(email, password, url=SIGN_IN, address="192.0.2.10"):
    client = Client(REMOTE_ADDR=address)
    response = client.post(url, {"username": email, "password": password})
    response.signed_in = "_auth_user_id" in client.session
    return response


def fail(email, times, url=SIGN_IN, address="192.0.2.10"):
    for _ in range(times):
        response = sign_in(email, "wrong-password", url, address)
        assert not response.signed_in and THROTTLED not in response.content.decode()


@pytest.mark.parametrize("url", [SIGN_IN, ADMIN_SIGN_IN])
def test_right_password_is_refused_after_too_many_failures(db, url):
    person = User.objects.create_superuser("staff@example.com", PASSWORD)
    fail(person.email, 5, url)
    response = sign_in(person.email, PASSWORD, url)
    assert not response.signed_in
    assert f"{THROTTLED} 15 minutes" in response.content.decode()
    if url == SIGN_IN:
        assert response.status_code == 429


def test_the_lock_ends_after_the_lockout(db):
    person = make_user()
    fail(person.email, 5)
    assert not sign_in(person.email, PASSWORD).signed_in
    assert not sign_in(person.email, PASSWORD).signed_in  # trying again does not extend it
    SignInFailures.objects.update(last_failure_time=F("last_failure_time") - 901)
    assert sign_in(person.email, PASSWORD).signed_in


def test_one_address_guessing_many_accounts_is_throttled(db):
    victim = make_user()
    for n in range(4):
        fail(f"guess{n}@example.com", 2)  # 8 failures, never 5 on one account
    assert not sign_in(victim.email, PASSWORD).signed_in
    assert sign_in(victim.email, PASSWORD, address="198.51.100.20").signed_in  # elsewhere: fine


def test_success_resets_the_account_count_but_not_the_address_count(db):
    person = make_user()
    fail(person.email, 4)
    assert sign_in(person.email, PASSWORD).signed_in
    fail(person.email, 4)  # the account's count started again: 4 more are allowed
    # 8 failures from this address: the success did not take any back.
    assert THROTTLED in sign_in(make_user().email, PASSWORD).content.decode()


def test_a_post_without_a_password_resets_nothing(db):
    person = make_user()
    for _ in range(5):
        fail(person.email, 1)
        sign_in(person.email, "")
    assert THROTTLED in sign_in(person.email, PASSWORD).content.decode()


def test_throttled_sign_in_is_logged_without_the_password(db, caplog):
    person = make_user()
    fail(person.email, 5)
    with caplog.at_level(logging.WARNING, logger="segapp.signin"):
        sign_in(person.email, PASSWORD)
    records = [r for r in caplog.records if r.name == "segapp.signin"]
    assert records and records[-1].limit == "account" and records[-1].address == "192.0.2.10"
    assert PASSWORD not in caplog.text


def test_address_is_read_through_the_trusted_proxies(db, settings):
    settings.TRUSTED_PROXIES = 1
    person = make_user()
    for n in range(4):
        fail(f"guess{n}@example.com", 2, address="10.0.0.1")  # the proxy's own address
    client = Client(REMOTE_ADDR="10.0.0.1", headers={"X-Forwarded-For": "198.51.100.20"})
    client.post(SIGN_IN, {"username": person.email, "password": PASSWORD})
    assert "_auth_user_id" in client.session
