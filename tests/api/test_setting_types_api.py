"""Every option type refuses a value of another shape with 422 naming the setting, on the Public
API, the legacy Config API and Copy Settings alike (one registry: connections/settings_schema.py)."""

import pytest

from catalog.models import DestinationMetadata
from connections import instances
from connections.models import DestinationInstance
from connections.settings_schema import SettingsInvalid
from tests.api.conftest import errors_of
from tests.factories import make_instance, make_source

# (catalog slug, required settings, setting, refused value, words of the message)
REFUSED = [
    ("webhooks", {}, "webhookUrls", ["not a url"], "spaces"),
    ("webhooks", {}, "webhookUrls", ["ftp://example.com/hook"], "http:// or https://"),
    ("webhooks", {}, "webhookUrls", "http://127.0.0.1:9/hook", "list"),
    ("webhooks", {"webhookUrls": ["http://127.0.0.1:9/h"]}, "headers", ["X-A: 1"], "pairs"),
    ("adjust", {"appToken": "t"}, "delayTime", "7", "number"),
    ("adjust", {"appToken": "t"}, "delayTime", True, "number"),
    ("adjust", {"appToken": "t"}, "setDelay", "yes", "true or false"),
    ("adjust", {"appToken": "t"}, "customEvents", {"Signed Up": 3}, "pairs"),
    ("adjust", {"appToken": "t"}, "appToken", 12, "text"),
    ("adobe-analytics", {"reportSuiteId": "r"}, "timestampOption", "sometimes", "Choose one"),
    ("amplitude", {"apiKey": "k"}, "traitsToIncrement", [1, 2], "list"),
]


@pytest.fixture
def api(api_as):
    return api_as()


@pytest.fixture
def source(catalog, workspace):
    return make_source(workspace, "javascript", name="Website")


def _metadata(slug):
    return DestinationMetadata.objects.get(slug=slug)


@pytest.mark.parametrize(("slug", "base", "name", "value", "words"), REFUSED)
def test_public_api_refuses_a_value_of_the_wrong_type(api, source, slug, base, name, value, words):
    body = {"sourceId": source.pk, "metadataId": _metadata(slug).pk}
    response = api.post("/destinations", {**body, "settings": {**base, name: value}})
    (error,) = errors_of(response, 422)
    assert error["field"] == f"settings.{name}"
    assert words in error["message"]
    assert not DestinationInstance.objects.exists()


@pytest.mark.parametrize(("slug", "base", "name", "value", "words"), REFUSED[:2] + REFUSED[4:5])
def test_update_refuses_a_value_of_the_wrong_type(api, source, slug, base, name, value, words):
    instance = make_instance(source, slug, settings=base)
    response = api.patch(f"/destinations/{instance.pk}", {"settings": {name: value}})
    (error,) = errors_of(response, 422)
    assert error["field"] == f"settings.{name}" and words in error["message"]
    instance.refresh_from_db()
    assert instance.settings.get(name) != value


def test_config_api_refuses_an_ftp_webhook_url(api, source, workspace):
    prefix = f"workspaces/{workspace.slug}/sources/{source.slug}/destinations/webhooks"
    body = {
        "destination": {
            "name": prefix,
            "config": [{"name": f"{prefix}/config/webhookUrls", "value": ["ftp://example.com"]}],
        }
    }
    response = api.post(f"/workspaces/{workspace.slug}/sources/{source.slug}/destinations", body)
    (error,) = errors_of(response, 422)
    assert error["field"] == "destination.config.webhookUrls"
    assert "http:// or https://" in error["message"]


def test_copy_settings_checks_the_copied_values_by_type(source, workspace):
    """A value stored before a check existed is not carried into another instance."""
    good = make_instance(source, "adjust", name="Good", settings={"appToken": "t"})
    bad = make_instance(source, "adjust", name="Old", settings={"appToken": "t"})
    DestinationInstance.objects.filter(pk=bad.pk).update(
        settings={"appToken": "t", "delayTime": "soon"}
    )
    bad.refresh_from_db()
    with pytest.raises(SettingsInvalid) as refused:
        instances.copy_settings(good, bad, None)
    assert refused.value.errors == {"delayTime": "Enter a number."}
    good.refresh_from_db()
    assert good.settings["delayTime"] == 0  # the default, as created
