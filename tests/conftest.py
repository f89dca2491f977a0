import pytest
import redis
from django.conf import settings
from django.test import Client

from segapp.models import Role
from tests.factories import make_member, make_token, make_user, make_workspace
from tests.sinks import SINK_HOSTS


@pytest.fixture
def owner(db):
    return make_user("owner@example.com")


@pytest.fixture
def workspace(owner):
    return make_workspace(owner, "Acme")


@pytest.fixture
def client_as():
    """A signed-in test client for a user."""

    def sign_in(user):
        client = Client()
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def read_only_user(workspace):
    return make_member(workspace, Role.READ_ONLY)


@pytest.fixture
def member_user(workspace):
    return make_member(workspace, Role.MEMBER)


@pytest.fixture
def api_token(workspace):
    """(ApiToken, raw token) with the owner role."""
    return make_token(workspace)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness protects stored passwords, not test data.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _sink_endpoint_hosts(settings):
    settings.ENDPOINT_EXTRA_HOSTS = SINK_HOSTS.split(",")


@pytest.fixture
def catalog(db):
    """The shipped reference data, loaded by the real loader."""
    from catalog.loader import load_catalog

    load_catalog()


@pytest.fixture
def sink():
    """An HTTP server on 127.0.0.1 that records requests (see tests/sinks.py)."""
    from tests.sinks import Sink

    server = Sink()
    yield server
    server.close()


@pytest.fixture
def broker():
    """The test broker's Redis database, with the default queue emptied: tasks left over by other
    tests would otherwise land on the workers started here."""
    assert settings.CELERY_BROKER_URL.startswith("redis://"), "set CELERY_BROKER_URL to Redis"
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete("celery")
    yield client
    client.delete("celery")
