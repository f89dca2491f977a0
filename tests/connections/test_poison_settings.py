"""Values that would break or bend a request later (an unparseable URL, a header that splits the
request) are refused when saved, with the setting named, on every entry point: the console, the
Public API and Copy Settings (the admin shows settings read-only)."""

import json
import re
from html import unescape
from pathlib import Path

import pytest
from django.urls import reverse

from connections.instances import copy_settings
from connections.models import DestinationInstance
from connections.settings_schema import SettingsInvalid
from tests.api.conftest import Api, errors_of
from tests.factories import make_instance, make_source, make_token

POISON = json.loads(
    (Path(__file__).parents[1] / "fixtures/settings/poison_values.json").read_text()
)
URLS = [pytest.param(value, message, id=repr(value)) for value, message in POISON["urls"]]
HEADERS = [pytest.param(value, message, id=repr(value)) for value, message in POISON["headers"]]


@pytest.fixture
def source(catalog, workspace):
    return make_source(workspace, "javascript", name="Website")


@pytest.fixture
def hook(source):
    return make_instance(source, "webhooks", settings={"webhookUrls": ["https://ok.example/in"]})


@pytest.fixture
def api(workspace):
    return Api(make_token(workspace)[1])


def api_error(api, hook, settings) -> dict:
    (error,) = errors_of(api.patch(f"/destinations/{hook.pk}", {"settings": settings}), 422)
    return error


def refused_as_unstorable(error, value) -> bool:
    """NUL cannot be stored at all: the API refuses it for every setting before any setting's
    own rule looks at it (segapp/api/fields.py)."""
    return "\\x00" in repr(value) and (error["field"] == "settings" and "NUL" in error["message"])


@pytest.mark.parametrize("url, message", URLS)
def test_api_refuses_poison_webhook_urls(api, hook, url, message):
    error = api_error(api, hook, {"webhookUrls": [url]})
    if not refused_as_unstorable(error, url):
        assert (error["type"], error["field"]) == ("url-invalid", "settings.webhookUrls")
        assert message in error["message"]
    hook.refresh_from_db()
    assert hook.settings["webhookUrls"] == ["https://ok.example/in"]


@pytest.mark.parametrize("url, message", URLS)
def test_api_refuses_poison_endpoints(api, source, url, message):
    amplitude = make_instance(source, "amplitude", settings={"apiKey": "k"})
    error = api_error(api, amplitude, {"endpoint": url})
    if not refused_as_unstorable(error, url):
        assert error["field"] == "settings.endpoint"
        assert error["type"] in {"url-invalid", "endpoint-not-allowed"}


@pytest.mark.parametrize("headers, message", HEADERS)
def test_api_refuses_poison_headers(api, hook, headers, message):
    error = api_error(api, hook, {"headers": headers})
    if not refused_as_unstorable(error, headers):
        assert (error["type"], error["field"]) == ("header-invalid", "settings.headers")
        assert message in error["message"]


@pytest.mark.parametrize("url, message", URLS[:5])
def test_console_refuses_poison_urls_inline(client_as, owner, workspace, hook, url, message):
    save = reverse("connections:instance-settings", args=[workspace.slug, hook.pk])
    page = client_as(owner).post(save, {"settings-webhookUrls": url, "action": "save"})
    assert page.status_code == 200
    assert re.search(rf"Webhook URLs.*?{re.escape(message)}", unescape(page.content.decode()), re.S)
    hook.refresh_from_db()
    assert hook.settings["webhookUrls"] == ["https://ok.example/in"]


def test_console_refuses_a_header_name_with_a_space(client_as, owner, workspace, hook):
    save = reverse("connections:instance-settings", args=[workspace.slug, hook.pk])
    form = {"settings-webhookUrls": "https://ok.example/in", "settings-headers": "X Bad: 1"}
    page = client_as(owner).post(save, {**form, "action": "save"}).content.decode()
    assert "not a valid header name" in unescape(page)
    hook.refresh_from_db()
    assert "headers" not in hook.secrets


def test_a_secret_url_is_not_echoed_in_the_refusal(api, source):
    slack = make_instance(source, "slack")
    error = api_error(api, slack, {"webhookUrl": "https://hooks.slack.com/services/T0/B0/xyz zy"})
    assert error["field"] == "settings.webhookUrl" and "xyz" not in error["message"]


def test_copy_settings_refuses_a_poison_value_stored_before_the_checks(source, hook):
    other = make_instance(source, "webhooks", name="Old")
    DestinationInstance.objects.filter(pk=other.pk).update(
        settings={"webhookUrls": ["http://[::1"], "headers": {}}
    )
    other.refresh_from_db()
    with pytest.raises(SettingsInvalid) as refused:
        copy_settings(hook, other, None)
    assert refused.value.field == "settings.webhookUrls"
    hook.refresh_from_db()
    assert hook.settings["webhookUrls"] == ["https://ok.example/in"]
