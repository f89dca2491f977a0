import pytest
import redis
from django.conf import settings
from django.test import Client

from segapp.models import Role
from tests.factories import make_member, make_token, make_user, make_workspace
from tests.sinks import SINK_HOSTS
from tests.warehouse_db import reader, warehouse_db  # noqa: F401  (fixtures)


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
def _sweeps_on_demand(settings):
    # In-process tests run a sweep task whenever they need it; in a deployment one run acts per
    # interval (tests/segapp/test_sweeps.py holds those rules).
    settings.SWEEPS = dict.fromkeys(settings.SWEEPS, 0)


@pytest.fixture(autouse=True)
def _sink_endpoint_hosts(settings):
    settings.ENDPOINT_EXTRA_HOSTS = SINK_HOSTS.split(",")


@pytest.fixture(autouse=True)
def _progress_notes_closed():
    # A delivery run in this process keeps a connection for its progress notes, as a worker
    # process does until it stops: closed after each test, so the test database can be dropped.
    yield
    from delivery.progress import close_notes

    close_notes()


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


@pytest.fixture(scope="module")
def workspaces_a_and_b(django_db_setup, django_db_blocker):
    """Two workspaces, each with one of every object (``make_one_of_everything``), their owners,
    and A's read-only member. Made once per module, inside a transaction rolled back after it: the
    tests of the module only read them, and each test's own changes are rolled back too."""
    from django.db import transaction
    from django.test import override_settings

    from catalog.loader import load_catalog
    from tests.factories import make_one_of_everything

    quick = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        DELIVERY_RETRY_WINDOW=0,
        EGRESS_ALLOW_PRIVATE=True,
    )
    with django_db_blocker.unblock(), transaction.atomic(), quick:
        load_catalog()
        unreachable = "http://127.0.0.1:9/hook"  # the discard port: nothing listens
        a = make_one_of_everything(make_user(), "Alpha", unreachable)
        b = make_one_of_everything(make_user(), "Beta", unreachable)
        a["read_only_user"] = make_member(a["workspace"], Role.READ_ONLY)
        a["read_only_raw_token"] = make_token(a["workspace"], Role.READ_ONLY)[1]
        b["owner_raw_token"] = make_token(b["workspace"], Role.OWNER)[1]
        for each in (a, b):
            each["owner"] = each["workspace"].memberships.get(role=Role.OWNER).user
        yield a, b
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def workspace_a_rows(workspaces_a_and_b, django_db_blocker):
    """Workspace A's rows as made, for tests to show that a request changed none of them."""
    from tests.snapshots import workspace_rows

    with django_db_blocker.unblock():
        return workspace_rows(workspaces_a_and_b[0]["workspace"])
