"""A Public API body nested past the depth cap is refused as a bad request in the API's error
shape, before any serializer sees it: such bodies cannot be stored, answered or sent on."""

import pytest

from catalog.models import DestinationMetadata
from connections.models import DestinationInstance
from segapp.jsondepth import MAX_DEPTH
from tests.api.conftest import errors_of
from tests.delivery.conftest import NESTED, with_nesting

# 1,000 levels is about where Python's own JSON parser gives up with a RecursionError.
LEVELS = [MAX_DEPTH, 300, 1000]
ACTIONS = [{"type": "DROP_PROPERTIES", "fields": {"properties": ["x"]}}]


def send(api, method: str, path: str, body: bytes):
    return getattr(api.client, method)(f"/api{path}", body, "application/json", headers=api.headers)


def assert_refused(response):
    (error,) = errors_of(response, 400)
    assert error["type"] == "bad-request"
    assert f"nests deeper than {MAX_DEPTH} levels" in error["message"]


@pytest.mark.parametrize("levels", LEVELS)
def test_creating_a_destination_with_settings_nested_too_deep_is_refused(api, source, levels):
    metadata_id = DestinationMetadata.objects.get(slug="webhooks").pk
    body = {"sourceId": source.pk, "metadataId": metadata_id, "settings": NESTED}
    assert_refused(send(api, "post", "/destinations", with_nesting(body, levels)))
    assert not DestinationInstance.objects.exists()


@pytest.mark.parametrize("levels", LEVELS)
def test_updating_a_destination_with_settings_nested_too_deep_is_refused(api, instance, levels):
    body = with_nesting({"settings": {"sharedSecret": NESTED}}, levels)
    assert_refused(send(api, "patch", f"/destinations/{instance.pk}", body))
    assert DestinationInstance.objects.get().settings == instance.settings


@pytest.mark.parametrize("levels", LEVELS)
def test_previewing_a_filter_on_a_payload_nested_too_deep_is_refused(api, levels):
    body = {"filter": {"if": "all", "actions": ACTIONS}, "payload": {"properties": NESTED}}
    assert_refused(send(api, "post", "/destination/filters/preview", with_nesting(body, levels)))


def test_a_body_nested_to_the_limit_is_read(api):
    body = {"filter": {"if": "all", "actions": ACTIONS}, "payload": {"properties": NESTED}}
    response = send(api, "post", "/destination/filters/preview", with_nesting(body, MAX_DEPTH - 2))
    assert response.status_code == 200, response.content[:500]
    assert response.json()["data"]["result"]["properties"]["level"]
