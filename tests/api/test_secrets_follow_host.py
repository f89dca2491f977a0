"""Secrets follow the host they were entered for: changing where an instance's requests go (an
endpoint override, a webhook URL) lets go of its stored secrets unless new ones come with the
change, so whoever may edit settings cannot have them sent to a server of their choosing."""

from connections.models import MASK
from tests.api.conftest import errors_of, patch_settings
from tests.factories import make_instance


def test_pointing_webhooks_elsewhere_drops_the_stored_secrets(member_api, source):
    hook = make_instance(
        source,
        "webhooks",
        settings={
            "webhookUrls": ["https://hooks.acme.example/in"],
            "sharedSecret": "signing-key",
            "headers": {"Authorization": "Bearer acme-internal"},
        },
    )
    response = patch_settings(member_api, hook, {"webhookUrls": ["https://attacker.example/in"]})
    assert response.status_code == 200, response.content
    hook.refresh_from_db()
    assert hook.secrets == {}
    assert hook.settings["webhookUrls"] == ["https://attacker.example/in"]


def test_same_hosts_keep_the_stored_secrets(api, source):
    urls = ["https://hooks.acme.example/in", "https://hooks.acme.example/other"]
    hook = make_instance(
        source, "webhooks", settings={"webhookUrls": urls[:1], "sharedSecret": "signing-key"}
    )
    assert patch_settings(api, hook, {"webhookUrls": urls}).status_code == 200
    hook.refresh_from_db()
    assert hook.secrets == {"sharedSecret": "signing-key"}


def test_new_host_with_new_secrets_keeps_what_was_entered(api, source):
    hook = make_instance(
        source,
        "webhooks",
        settings={"webhookUrls": ["https://hooks.acme.example/in"], "sharedSecret": "old"},
    )
    changed = {"webhookUrls": ["https://new.acme.example/in"], "sharedSecret": "new"}
    assert patch_settings(api, hook, changed).status_code == 200
    hook.refresh_from_db()
    assert hook.secrets == {"sharedSecret": "new"}


def test_a_new_region_drops_the_key_until_it_is_entered_again(api, source):
    intercom = make_instance(source, "intercom", settings={"apiKey": "intercom-token-1"})
    eu = "https://api.eu.intercom.io"
    response = patch_settings(api, intercom, {"endpoint": eu})
    assert response.status_code == 200, response.content
    intercom.refresh_from_db()
    assert intercom.settings["endpoint"] == eu and intercom.secrets == {}
    response = patch_settings(api, intercom, {"endpoint": eu, "apiKey": "intercom-eu-token"})
    assert response.json()["data"]["destination"]["settings"]["apiKey"] == MASK
    intercom.refresh_from_db()
    assert intercom.secrets == {"apiKey": "intercom-eu-token"}


def test_a_required_secret_must_be_entered_again_for_a_new_host(api, source):
    braze = make_instance(source, "braze", settings={"appGroupId": "rest-key", "apiKey": "app"})
    moved = {"restCustomEndpoint": "https://rest.fra-02.braze.eu"}
    (error,) = errors_of(patch_settings(api, braze, moved), 422)
    assert error["field"] == "settings.appGroupId" and "Enter it again" in error["message"]
    braze.refresh_from_db()
    assert braze.secrets == {"appGroupId": "rest-key"}
