"""The legacy Config API's Create Destination: its request and response shapes, over the same
operations and rules as the Public API."""

import pytest

from catalog.models import MAX_CLOUD_INSTANCES_PER_SOURCE
from connections.models import DestinationInstance
from segapp.models import AuditEntry
from tests.api.conftest import errors_of
from tests.factories import make_instance


@pytest.fixture
def legacy(api, workspace, source):
    """Posts a Config API destination of ``slug`` with ``settings`` to the source."""

    def post(slug="webhooks", settings=None, name=None, **fields):
        name = name or f"workspaces/{workspace.slug}/sources/{source.slug}/destinations/{slug}"
        config = [
            {"name": f"{name}/config/{key}", "type": "string", "value": value}
            for key, value in (settings or {}).items()
        ]
        path = f"/workspaces/{workspace.slug}/sources/{source.slug}/destinations"
        return api.post(path, {"destination": {"name": name, "config": config, **fields}})

    return post


HOOK = {"webhookUrls": ["http://127.0.0.1:9/hook"]}


def test_creates_a_destination_answered_in_the_config_api_shape(legacy, api, workspace, source):
    response = legacy(settings=HOOK, enabled=True, connection_mode="CLOUD")
    assert response.status_code == 200, response.content
    body = response.json()
    instance = DestinationInstance.objects.get(pk=body["id"])
    parent = f"workspaces/{workspace.slug}/sources/{source.slug}"
    assert body["name"] == f"{parent}/destinations/webhooks" and body["parent"] == parent
    assert (body["slug"], body["display_name"], body["enabled"], body["connection_mode"]) == (
        "webhooks",
        "Webhooks",
        True,
        "CLOUD",
    )
    assert {"name": f"{body['name']}/config/webhookUrls", "display_name": "Webhook URLs",
            "value": HOOK["webhookUrls"], "type": "array"} in body["config"]  # fmt: skip
    assert body["create_time"].endswith("Z") and body["update_time"].endswith("Z")
    assert (instance.source_id, instance.enabled, instance.settings["webhookUrls"]) == (
        source.pk,
        True,
        HOOK["webhookUrls"],
    )
    assert AuditEntry.objects.get(action="instance.created").actor_token == api.token


def test_device_mode_is_set_through_the_mode_operation(legacy):
    body = legacy("amplitude", {"apiKey": "k"}, connection_mode="device").json()
    assert body["connection_mode"] == "DEVICE"
    assert DestinationInstance.objects.get(pk=body["id"]).mode == "device"


def test_a_refused_mode_undoes_the_creation(legacy):
    (error,) = errors_of(legacy(settings=HOOK, connection_mode="DEVICE"), 422)
    assert (error["type"], error["field"]) == ("mode-not-offered", "destination.connection_mode")
    assert not DestinationInstance.objects.exists()


def test_the_same_multi_instance_rules_apply(legacy, source):
    make_instance(source, "webhooks", name="Hook 0")
    (error,) = errors_of(legacy(settings=HOOK, display_name="hook 0"), 409)
    assert (error["type"], error["field"]) == ("instance-name-unique", "name")
    for n in range(1, MAX_CLOUD_INSTANCES_PER_SOURCE):
        make_instance(source, "webhooks", name=f"Hook {n}")
    (error,) = errors_of(legacy(settings=HOOK, display_name="One more"), 409)
    assert error["type"] == "cloud-instance-limit"
    assert DestinationInstance.objects.count() == MAX_CLOUD_INSTANCES_PER_SOURCE


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"name": "workspaces/elsewhere/sources/x/destinations/webhooks"}, "destination.name"),
        ({"slug": "no-such-tool"}, "destination.name"),
        ({"settings": {"webhookUrls": "not a list"}}, "destination.config.webhookUrls"),
        ({"connection_mode": "SIDEWAYS"}, "destination.connection_mode"),
    ],
)
def test_invalid_requests_name_the_field(legacy, kwargs, field):
    kwargs.setdefault("settings", HOOK)
    (error,) = errors_of(legacy(**kwargs), 422)
    assert error["field"] == field
    assert not DestinationInstance.objects.exists()


def test_config_names_must_belong_to_the_destination(api, workspace, source):
    name = f"workspaces/{workspace.slug}/sources/{source.slug}/destinations/webhooks"
    config = [{"name": "workspaces/x/config/webhookUrls", "value": ["http://127.0.0.1:9/"]}]
    response = api.post(
        f"/workspaces/{workspace.slug}/sources/{source.slug}/destinations",
        {"destination": {"name": name, "config": config}},
    )
    (error,) = errors_of(response, 422)
    assert error["field"] == "destination.config"


def test_an_enabled_device_mode_destination_without_a_cloud_adapter_is_created(legacy):
    # Heap has no cloud-mode adapter: enabled is applied once the instance is in device mode.
    body = legacy("heap", {"appId": "1"}, enabled=True, connection_mode="DEVICE").json()
    instance = DestinationInstance.objects.get(pk=body["id"])
    assert (instance.mode, instance.enabled) == ("device", True)


def test_an_enabled_cloud_mode_destination_without_an_adapter_is_refused(legacy):
    (error,) = errors_of(legacy("heap", {"appId": "1"}, enabled=True), 422)
    assert error["type"] == "cannot-send-cloud-mode"
    assert not DestinationInstance.objects.filter(metadata__slug="heap").exists()
