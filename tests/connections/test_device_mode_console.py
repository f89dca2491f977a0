"""The instance page's connection mode: what each mode does, server sources in cloud mode only, and
the warning about mobile device-mode bundles that cannot tell instances apart."""

import pytest
from django.urls import reverse

from catalog.models import DestinationMetadata
from connections import instances
from tests.factories import make_instance, make_source


@pytest.fixture
def console(catalog, client_as, owner):
    return client_as(owner)


def instance_url(name, instance):
    return reverse(f"connections:{name}", args=[instance.workspace.slug, instance.pk])


def page(console, instance) -> str:
    response = console.get(instance_url("instance-detail", instance))
    assert response.status_code == 200
    return response.content.decode()


def test_web_instance_page_says_what_each_mode_does(console, workspace):
    source = make_source(workspace, "javascript", name="Website")
    amplitude = make_instance(source, "amplitude")
    html = page(console, amplitude)
    assert (
        "analytics.js loads Amplitude's library in the browser and sends to it directly; "
        "Segapp's servers stop sending to this instance." in html
    )
    assert "Segapp's servers send them to Amplitude" in html
    response = console.post(
        instance_url("instance-mode", amplitude), {"mode": "device"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    amplitude.refresh_from_db()
    assert amplitude.mode == "device"


def test_server_sources_offer_cloud_mode_only(console, workspace):
    source = make_source(workspace, "python", name="Backend")
    amplitude = make_instance(source, "amplitude")
    html = page(console, amplitude)
    assert 'value="device" disabled' in html
    assert "Server sources send data in cloud mode only." in html

    response = console.post(
        instance_url("instance-mode", amplitude), {"mode": "device"}, headers={"HX-Request": "true"}
    )

    assert "Server sources send data in cloud mode only." in response.content.decode()
    amplitude.refresh_from_db()
    assert amplitude.mode == "cloud"


def make_hybrid(slug: str) -> DestinationMetadata:
    """A catalog update that gives a cloud-only destination a device mode: the way a mobile source
    ends up with several instances of a destination that can be bundled (rule 5 refuses a second
    instance of a destination that is already hybrid)."""
    entry = DestinationMetadata.objects.get(slug=slug)
    entry.connection_modes = ["cloud", "device"]
    entry.save(update_fields=["connection_modes"])
    return entry


def two_hooks(workspace, source_slug):
    source = make_source(workspace, source_slug)
    first = make_instance(source, "webhooks", name="Hook A")
    second = make_instance(source, "webhooks", name="Hook B")
    make_hybrid("webhooks")
    return first, second


def test_mobile_source_warns_when_a_bundled_instance_has_siblings(console, workspace):
    bundled, other = two_hooks(workspace, "android")
    assert "bundle-warning" not in page(console, bundled)

    response = console.post(
        instance_url("instance-mode", bundled), {"mode": "device"}, headers={"HX-Request": "true"}
    )

    warning = "Mobile device-mode bundles cannot tell instances apart"
    assert warning in response.content.decode()  # the mode fragment, swapped in place
    assert warning in page(console, bundled)
    assert warning in page(console, other)
    instances.set_mode(bundled, "cloud", None)
    assert warning not in page(console, bundled) and warning not in page(console, other)


def test_no_warning_on_a_web_source_or_for_a_single_mobile_instance(console, workspace):
    bundled, other = two_hooks(workspace, "javascript")
    instances.set_mode(bundled, "device", None)
    assert "bundle-warning" not in page(console, bundled)
    assert "bundle-warning" not in page(console, other)

    only = make_instance(make_source(workspace, "android"), "amplitude")
    only = instances.set_mode(only, "device", None)
    assert "bundle-warning" not in page(console, only)
