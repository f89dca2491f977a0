"""The connections console through HTTP: sources, write keys, both add flows, the instance page."""

import re

import orjson
import pytest
from django.urls import reverse

from connections.models import MASK, DestinationInstance, Source
from segapp.models import AuditEntry
from tests.factories import make_instance, make_source


@pytest.fixture
def console(catalog, client_as, owner, workspace):
    return client_as(owner)


def url(name, workspace, *args):
    return reverse(f"connections:{name}", args=[workspace.slug, *args])


def test_create_source_from_the_catalog_gets_a_write_key(console, workspace):
    response = console.post(
        url("source-create", workspace, "javascript"), {"name": "Website", "slug": "website"}
    )
    source = Source.objects.get(slug="website")
    assert response.url == url("source-detail", workspace, source.pk)
    page = console.get(response.url).content.decode()
    key = source.write_keys.get().key
    assert key in page and "Website" in page and "Add Destination" in page
    assert AuditEntry.objects.filter(action="source.created", object_id=source.pk).exists()


def test_duplicate_source_slug_is_refused_on_the_form(console, workspace):
    make_source(workspace, "javascript", name="Website")
    response = console.post(
        url("source-create", workspace, "python"), {"name": "Backend", "slug": "website"}
    )
    assert (
        response.status_code == 200
        and "already used by another source" in response.content.decode()
    )


def test_write_key_rotation_keeps_at_least_one_key(console, workspace):
    source = make_source(workspace)
    old = source.write_keys.get()
    console.post(url("write-key-add", workspace, source.pk))
    assert source.write_keys.count() == 2
    console.post(url("write-key-delete", workspace, source.pk, old.pk))
    remaining = source.write_keys.get()
    page = console.post(
        url("write-key-delete", workspace, source.pk, remaining.pk), headers={"HX-Request": "true"}
    )
    assert "at least one write key" in page.content.decode()
    assert list(source.write_keys.all()) == [remaining] and remaining.key != old.key


def test_source_toggle_disables_and_enables(console, workspace):
    source = make_source(workspace)
    response = console.post(
        url("source-toggle", workspace, source.pk),
        {"enabled": "false"},
        headers={"HX-Request": "true"},
    )
    assert 'aria-checked="false"' in response.content.decode()
    source.refresh_from_db()
    assert not source.enabled


def test_confirm_source_disables_sources_with_the_reason(console, workspace):
    web = make_source(workspace, "javascript", name="Web")
    server = make_source(workspace, "python", name="Backend")
    make_instance(web, "hotjar")
    page = console.get(url("instance-confirm-source", workspace, "hotjar")).content.decode()
    assert f'value="{web.pk}" disabled' in page
    assert "one instance of it" in page
    assert f'value="{server.pk}" disabled' in page
    assert "cloud mode only" in page
    # a forged POST for a refused source goes nowhere
    assert (
        console.post(
            url("instance-confirm-source", workspace, "hotjar"), {"source": web.pk}
        ).status_code
        == 200
    )


def test_catalog_flow_creates_a_disabled_instance_with_encrypted_secret(console, workspace):
    source = make_source(workspace, "javascript", name="Web")
    response = console.post(
        url("instance-confirm-source", workspace, "webhooks"), {"source": source.pk}
    )
    create_url = url("instance-create", workspace, "webhooks", source.pk)
    confirm_url = url("instance-confirm-source", workspace, "webhooks")
    assert response.url == f"{create_url}?next={confirm_url.replace('/', '%2F')}"
    form = console.get(create_url).content.decode()
    assert 'value="Webhooks"' in form  # the name is prefilled with the destination's
    response = console.post(create_url, {
        "name": "Orders hook",
        "settings-webhookUrls": "https://hooks.example.com/a\nhttps://hooks.example.com/b",
        "settings-headers": "X-Team: data",
        "settings-sharedSecret": "s3cret-value",
        "action": "save",
    })  # fmt: skip
    instance = DestinationInstance.objects.get(name="Orders hook")
    assert response.url == url("instance-detail", workspace, instance.pk)
    assert instance.enabled is False and instance.mode == "cloud"
    assert instance.settings["webhookUrls"] == [
        "https://hooks.example.com/a",
        "https://hooks.example.com/b",
    ]
    assert "headers" not in instance.settings and "sharedSecret" not in instance.settings
    assert "s3cret-value" not in instance.encrypted_secrets
    assert instance.secrets == {"sharedSecret": "s3cret-value", "headers": {"X-Team": "data"}}
    page = console.get(response.url).content.decode()
    assert "s3cret-value" not in page and "Stored. Leave empty to keep it." in page
    entry = AuditEntry.objects.get(action="instance.created")
    assert entry.after["settings"]["sharedSecret"] == MASK


def test_invalid_settings_are_shown_inline(console, workspace):
    source = make_source(workspace)
    page = console.post(
        url("instance-create", workspace, "amplitude", source.pk), {"name": "Amp", "action": "save"}
    )
    assert page.status_code == 200
    assert re.search(r"API Key.*?This setting is required", page.content.decode(), re.S)
    assert not DestinationInstance.objects.exists()


def test_saving_without_touching_a_secret_keeps_it(console, workspace):
    instance = make_instance(
        make_source(workspace), "webhooks", settings={"sharedSecret": "keep-me"}
    )
    same_host = "http://127.0.0.1:9/other-path"  # the secret stays with its host
    console.post(url("instance-settings", workspace, instance.pk),
                 {"settings-webhookUrls": same_host, "settings-sharedSecret": "", "action": "save"})  # fmt: skip
    instance.refresh_from_db()
    assert instance.secrets == {"sharedSecret": "keep-me"}
    assert instance.settings["webhookUrls"] == [same_host]


def test_copy_settings_from_other_destination_copies_secrets_server_side(console, workspace):
    web, server = make_source(workspace, "javascript"), make_source(workspace, "python")
    original = make_instance(
        web,
        "webhooks",
        name="Prod",
        settings={"sharedSecret": "copied-secret", "headers": {"A": "1"}},
    )
    create_url = url("instance-create", workspace, "webhooks", server.pk)
    page = console.post(
        create_url, {"name": "Prod copy", "copy_from": original.pk, "action": "copy"}
    ).content.decode()
    assert "copied-secret" not in page and "Copied from Prod" in page
    assert f"A: {MASK}" in page and "A: 1" not in page  # header names shown, values secret
    console.post(create_url, {"name": "Prod copy", "copy_from": original.pk, "action": "save",
                              "settings-webhookUrls": "http://127.0.0.1:9/x", "settings-headers": f"A: {MASK}"})  # fmt: skip
    copy = DestinationInstance.objects.get(name="Prod copy")
    assert copy.source == server
    assert copy.secrets == {"sharedSecret": "copied-secret", "headers": {"A": "1"}}


def test_copy_settings_on_the_instance_page(console, workspace):
    source = make_source(workspace)
    first = make_instance(
        source, "webhooks", name="A", settings={"sharedSecret": "one", "headers": {"H": "1"}}
    )
    second = make_instance(source, "webhooks", name="B")
    page = console.post(
        url("instance-settings", workspace, second.pk), {"copy_from": first.pk, "action": "copy"}
    )
    assert "Copied the settings of A" in page.content.decode() and "one" not in re.findall(
        r"value=\"([^\"]*)\"", page.content.decode()
    )
    second.refresh_from_db()
    assert second.secrets == {"sharedSecret": "one", "headers": {"H": "1"}}


def test_copy_from_another_destination_or_workspace_is_refused(console, workspace):
    from tests.factories import make_workspace

    source = make_source(workspace)
    target = make_instance(source, "webhooks")
    other_tool = make_instance(source, "slack")
    foreign = make_instance(make_source(make_workspace()), "webhooks")
    for other in (other_tool, foreign):
        response = console.post(
            url("instance-settings", workspace, target.pk),
            {"copy_from": other.pk, "action": "copy"},
        )
        assert response.status_code == 404


def test_toggle_rename_mode_and_delete(console, workspace):
    source = make_source(workspace)
    first = make_instance(source, "amplitude", name="US")
    second = make_instance(source, "amplitude", name="EU")
    htmx = {"HX-Request": "true"}
    response = console.post(
        url("instance-toggle", workspace, second.pk), {"enabled": "true"}, headers=htmx
    )
    assert "instanceChanged" in orjson.loads(response["HX-Trigger"])
    assert 'aria-checked="true"' in response.content.decode()
    refused = console.post(
        url("instance-rename", workspace, second.pk), {"name": "us"}, headers=htmx
    )
    assert "already has an instance named" in refused.content.decode()
    assert "HX-Trigger" not in refused  # nothing changed: the other fragments stay
    console.post(url("instance-rename", workspace, second.pk), {"name": "Europe"}, headers=htmx)
    console.post(url("instance-mode", workspace, first.pk), {"mode": "device"}, headers=htmx)
    page = console.post(
        url("instance-mode", workspace, second.pk), {"mode": "device"}, headers=htmx
    ).content.decode()
    assert "Only one instance of Amplitude per source can run in device mode" in page
    second.refresh_from_db()
    first.refresh_from_db()
    assert (second.name, second.enabled, second.mode, first.mode) == (
        "Europe",
        True,
        "cloud",
        "device",
    )
    assert (
        console.get(url("instance-delete", workspace, second.pk)).status_code == 200
    )  # the confirmation
    console.post(url("instance-delete", workspace, second.pk))
    assert not DestinationInstance.objects.filter(pk=second.pk).exists()
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {
        "instance.enabled",
        "instance.renamed",
        "instance.mode_changed",
        "instance.deleted",
    } <= actions


def test_add_destination_from_a_source_goes_straight_to_connection_settings(console, workspace):
    source = make_source(workspace)
    results = console.get(
        url("source-add-destination", workspace, source.pk), {"q": "slack"}
    ).content.decode()
    entry_url = url("source-add-destination-entry", workspace, source.pk, "slack")
    assert entry_url in results
    entry = console.get(entry_url).content.decode()
    assert (
        url("instance-create", workspace, "slack", source.pk) in entry
        and "Configure Slack" in entry
    )


def test_each_change_bumps_the_source_configuration_version(console, workspace):
    source = make_source(workspace)
    instance = make_instance(source, "webhooks")
    before = Source.objects.get(pk=source.pk).config_version
    console.post(url("instance-toggle", workspace, instance.pk), {"enabled": "true"})
    assert Source.objects.get(pk=source.pk).config_version == before + 1
