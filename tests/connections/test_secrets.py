import io

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from connections.models import DestinationInstance
from segapp import crypto
from tests.factories import make_instance, make_source


@pytest.fixture
def keys(monkeypatch):
    """Sets SEGAPP_ENCRYPTION_KEYS for the test (the key list is read once per process)."""

    def use(*keys):
        monkeypatch.setenv("SEGAPP_ENCRYPTION_KEYS", ",".join(keys))
        crypto._fernet.cache_clear()

    yield use
    crypto._fernet.cache_clear()


def test_secrets_rotate_to_a_new_key(catalog, workspace, keys):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    keys(old)
    instance = make_instance(
        make_source(workspace), "webhooks", settings={"sharedSecret": "rotate-me"}
    )
    keys(new, old)
    out = io.StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert "1 destination instances" in out.getvalue()
    keys(new)  # the old key is gone: the secret must still read
    assert DestinationInstance.objects.get(pk=instance.pk).secrets == {"sharedSecret": "rotate-me"}


def test_a_wrong_key_fails_loudly(catalog, workspace, keys):
    keys(Fernet.generate_key().decode())
    instance = make_instance(make_source(workspace), "webhooks", settings={"sharedSecret": "x"})
    keys(Fernet.generate_key().decode())
    with pytest.raises(ImproperlyConfigured, match="cannot be decrypted"):
        DestinationInstance.objects.get(pk=instance.pk).all_settings()


def test_setting_keys_for_the_first_time_keeps_older_secrets_readable(
    catalog, workspace, keys, monkeypatch
):
    # Written before SEGAPP_ENCRYPTION_KEYS was set: the key derived from the secret key.
    monkeypatch.delenv("SEGAPP_ENCRYPTION_KEYS", raising=False)
    crypto._fernet.cache_clear()
    instance = make_instance(make_source(workspace), "webhooks", settings={"sharedSecret": "old"})
    new = Fernet.generate_key().decode()
    keys(new)
    assert DestinationInstance.objects.get(pk=instance.pk).secrets == {"sharedSecret": "old"}
    call_command("rotate_encryption_keys", stdout=io.StringIO())
    sealed = DestinationInstance.objects.get(pk=instance.pk).encrypted_secrets
    assert Fernet(new.encode()).decrypt(sealed.encode())  # now under the new key itself
