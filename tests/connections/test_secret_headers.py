"""Webhooks' custom headers often carry an Authorization: their values are secrets, encrypted at
rest and shown masked (names stay visible), kept when sent back as the mask, and encrypted in
place for instances saved while the catalog still called them plain."""

import json
from html import unescape

import pytest
from django.urls import reverse

from catalog.loader import DATA_DIR, load_catalog
from catalog.models import DestinationMetadata
from connections import instances
from connections.models import MASK
from tests.api.conftest import Api
from tests.factories import make_instance, make_source, make_token

AUTH = "Bearer acme-internal-token"
HOOK = {"webhookUrls": ["https://hooks.acme.example/in"]}


@pytest.fixture
def source(catalog, workspace):
    return make_source(workspace, "javascript", name="Website")


@pytest.fixture
def hook(source):
    return make_instance(
        source, "webhooks", settings={**HOOK, "headers": {"Authorization": AUTH, "X-Team": "a"}}
    )


def test_header_values_are_stored_encrypted_and_shown_masked(hook, workspace, client_as, owner):
    assert "headers" not in hook.settings
    assert hook.secrets["headers"] == {"Authorization": AUTH, "X-Team": "a"}
    assert AUTH not in hook.encrypted_secrets
    masked = {"Authorization": MASK, "X-Team": MASK}
    assert hook.masked_settings()["headers"] == masked
    api = Api(make_token(workspace)[1])
    body = api.get(f"/destinations/{hook.pk}").json()["data"]["destination"]
    assert body["settings"]["headers"] == masked
    page = client_as(owner).get(
        reverse("connections:instance-detail", args=[workspace.slug, hook.pk])
    )
    text = unescape(page.content.decode())
    assert AUTH not in text and f"Authorization: {MASK}" in text


def test_the_console_keeps_masked_values_and_takes_new_ones(hook, workspace, client_as, owner):
    save = reverse("connections:instance-settings", args=[workspace.slug, hook.pk])
    form = {
        "settings-webhookUrls": HOOK["webhookUrls"][0],
        "settings-headers": f"Authorization: {MASK}\nX-Env: prod",  # X-Team removed
        "action": "save",
    }
    client_as(owner).post(save, form)
    hook.refresh_from_db()
    assert hook.secrets["headers"] == {"Authorization": AUTH, "X-Env": "prod"}


def test_the_api_merges_masked_header_values(hook, workspace):
    api = Api(make_token(workspace)[1])
    headers = {"Authorization": MASK, "X-Team": "b"}
    response = api.patch(f"/destinations/{hook.pk}", {"settings": {"headers": headers}})
    assert response.status_code == 200, response.content
    hook.refresh_from_db()
    assert hook.secrets["headers"] == {"Authorization": AUTH, "X-Team": "b"}
    assert AUTH not in response.content.decode()


def test_copy_settings_brings_the_headers_server_side(hook, source):
    other = make_instance(source, "webhooks", name="Copy", settings=HOOK)
    instances.copy_settings(other, hook, None)
    other.refresh_from_db()
    assert other.secrets["headers"] == hook.secrets["headers"]


def test_headers_saved_while_plain_are_encrypted_when_the_catalog_marks_them_secret(
    source, tmp_path
):
    webhooks = DestinationMetadata.objects.get(slug="webhooks")
    plain = [{**o, "secret": False} if o["name"] == "headers" else o for o in webhooks.options]
    DestinationMetadata.objects.filter(pk=webhooks.pk).update(options=plain)
    hook = make_instance(source, "webhooks", settings={**HOOK, "headers": {"Authorization": AUTH}})
    assert hook.settings["headers"] == {"Authorization": AUTH}  # as stored before this release
    data = tmp_path / "catalog"
    data.mkdir()
    for name in ("destinations.json", "sources.json"):
        (data / name).write_bytes((DATA_DIR / name).read_bytes())

    load_catalog(data)  # the shipped data marks them secret

    hook.refresh_from_db()
    assert "headers" not in hook.settings
    assert hook.secrets["headers"] == {"Authorization": AUTH}
    assert hook.masked_settings()["headers"] == {"Authorization": MASK}
    for version in hook.settings_versions.all():
        assert "headers" not in version.settings
        assert AUTH not in json.dumps(version.settings)
