"""A catalog entry Segapp has no cloud-mode adapter for says so, and an instance of it cannot be
enabled in cloud mode: the console, the Public API and the admin all meet the same rule."""

import pytest
from django.urls import reverse

from catalog.models import DestinationMetadata
from connections import instances
from segapp.refusal import Refusal
from tests.api.conftest import Api
from tests.factories import make_instance, make_source, make_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def heap(catalog, workspace):
    """Heap: Segment offers cloud and device mode; Segapp has no cloud-mode adapter for it."""
    return make_instance(make_source(workspace, "javascript", name="Site"), "heap", name="Heap")


def test_enabling_in_cloud_mode_is_refused_with_the_rule(heap):
    with pytest.raises(Refusal) as refused:
        instances.set_enabled(heap, True, None)
    assert refused.value.rule == "cannot-send-cloud-mode"
    assert "Segapp cannot send to Heap in cloud mode yet" in refused.value.message
    heap.refresh_from_db()
    assert not heap.enabled


def test_device_mode_instance_may_be_enabled(heap):
    instances.set_mode(heap, "device", None)
    assert instances.set_enabled(heap, True, None).enabled


def test_enabled_device_instance_cannot_switch_to_cloud(heap):
    heap = instances.set_enabled(instances.set_mode(heap, "device", None), True, None)
    with pytest.raises(Refusal) as refused:
        instances.set_mode(heap, "cloud", None)
    assert (refused.value.rule, refused.value.field) == ("cannot-send-cloud-mode", "mode")
    assert (
        instances.set_mode(instances.set_enabled(heap, False, None), "cloud", None).mode == "cloud"
    )


def test_creating_an_enabled_cloud_instance_is_refused(catalog, workspace):
    source = make_source(workspace, "javascript", name="Site")
    with pytest.raises(Refusal) as refused:
        make_instance(source, "heap", enabled=True)
    assert refused.value.rule == "cannot-send-cloud-mode"
    assert make_instance(source, "webhooks", enabled=True).enabled


def test_console_toggle_shows_the_reason(heap, client_as, owner, workspace):
    url = reverse("connections:instance-toggle", args=[workspace.slug, heap.pk])
    response = client_as(owner).post(url, {"enabled": "true"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "Segapp cannot send to Heap in cloud mode yet" in response.text
    assert "HX-Trigger" not in response.headers
    heap.refresh_from_db()
    assert not heap.enabled


def test_public_api_refuses_with_the_rule_type(heap, workspace):
    api = Api(make_token(workspace)[1])
    response = api.patch(f"/destinations/{heap.pk}", {"enabled": True})
    assert response.status_code == 422
    assert response.json()["errors"][0]["type"] == "cannot-send-cloud-mode"


def test_catalog_tile_entry_and_instance_page_say_so(heap, client_as, owner, workspace):
    client = client_as(owner)
    ws = workspace.slug
    tiles = client.get(reverse("catalog:catalog", args=[ws, "destinations"]), {"q": "heap"})
    assert "Segapp cannot send to Heap in cloud mode yet (device mode works)" in tiles.text
    entry = client.get(reverse("catalog:entry", args=[ws, "destinations", "heap"]))
    assert "Segapp cannot send to Heap in cloud mode yet. Device mode works" in entry.text
    page = client.get(reverse("connections:instance-detail", args=[ws, heap.pk]))
    assert 'id="cannot-send"' in page.text
    webhooks = client.get(reverse("catalog:entry", args=[ws, "destinations", "webhooks"]))
    assert "cannot send" not in webhooks.text


def test_cloud_only_entry_without_adapter_is_flagged(catalog):
    s3 = DestinationMetadata.objects.get(slug="aws-s3")
    assert s3.cannot_send_cloud and not s3.offers_device
    assert "Device mode" not in s3.cannot_send_message()
