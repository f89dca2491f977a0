"""The console's Connection Settings form: each option type's input refuses what its type refuses,
next to the field, and required settings are marked before submit."""

import re

import pytest
from django.urls import reverse

from connections.models import DestinationInstance
from tests.factories import make_instance, make_source


@pytest.fixture
def console(catalog, client_as, owner, workspace):
    return client_as(owner)


@pytest.fixture
def source(workspace):
    return make_source(workspace, "javascript", name="Website")


def _create(console, workspace, source, slug, settings):
    path = reverse("connections:instance-create", args=[workspace.slug, slug, source.pk])
    fields = {f"settings-{name}": value for name, value in settings.items()}
    return console.post(path, {"name": "Mine", "action": "save", **fields})


def _error_next_to(page, label: str) -> str:
    """The first error shown inside the field labelled ``label``."""
    html = page.content.decode()
    label_text = rf'<span class="label-text">{re.escape(label)}<'
    match = re.search(rf"<label[^>]*>{label_text}.*?</label>", html, re.S)
    assert match, f"no field labelled {label}"
    error = re.search(r'class="field-error">([^<]*)<', match[0])
    assert error, f"no error next to {label}"
    return error[1]


@pytest.mark.parametrize(
    ("slug", "values", "label", "words"),
    [
        ("webhooks", {"webhookUrls": "not a url"}, "Webhook URLs", "spaces"),
        ("webhooks", {"webhookUrls": "ftp://example.com/hook"}, "Webhook URLs", "https://"),
        ("webhooks", {"webhookUrls": "http://127.0.0.1:9/h", "headers": "X-A 1"}, "Headers",
         "name: value"),
        ("adjust", {"appToken": "t", "delayTime": "soon"}, "delayTime", "number"),
        ("adobe-analytics", {"reportSuiteId": "r", "timestampOption": "sometimes"},
         "Timestamp Option", "valid choice"),
        ("webhooks", {}, "Webhook URLs", "required"),
    ],
)  # fmt: skip
def test_console_refuses_a_value_of_the_wrong_type_next_to_the_field(
    console, workspace, source, slug, values, label, words
):
    page = _create(console, workspace, source, slug, values)
    assert page.status_code == 200
    assert words in _error_next_to(page, label)
    assert not DestinationInstance.objects.exists()


def test_console_saves_each_type_as_json(console, workspace, source):
    page = _create(
        console,
        workspace,
        source,
        "adjust",
        {"appToken": "t", "delayTime": "7", "setDelay": "on", "customEvents": "Signed Up: abc"},
    )
    assert page.status_code == 302, page.content.decode()[:3000]
    settings = DestinationInstance.objects.get().settings
    assert (settings["delayTime"], settings["setDelay"]) == (7, True)
    assert settings["customEvents"] == {"Signed Up": "abc"}


def test_required_settings_are_marked_before_submit(console, workspace, source):
    path = reverse("connections:instance-create", args=[workspace.slug, "webhooks", source.pk])
    html = console.get(path).content.decode()
    urls = re.search(r'<textarea name="settings-webhookUrls"[^>]*>', html)[0]
    assert " required" in urls
    assert re.search(r'<label class="is-required"><span class="label-text">Webhook URLs<', html)
    secret = re.search(r'<input type="password" name="settings-sharedSecret"[^>]*>', html)[0]
    assert " required" not in secret  # optional


def test_a_stored_required_secret_is_not_required_again(console, workspace, source):
    create_path = reverse(
        "connections:instance-create", args=[workspace.slug, "activecampaign", source.pk]
    )
    secret = r'<input type="password" name="settings-apiKey"[^>]*>'
    assert " required" in re.search(secret, console.get(create_path).content.decode())[0]
    instance = make_instance(source, "activecampaign", settings={"apiKey": "k"})
    path = reverse("connections:instance-detail", args=[workspace.slug, instance.pk])
    assert " required" not in re.search(secret, console.get(path).content.decode())[0]
