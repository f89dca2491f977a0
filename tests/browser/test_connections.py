"""The connections console in Chromium: both add flows, copy settings, toggle, rename, mode,
delete, and sources shown disabled with the reason."""

import re

import pytest
from playwright.sync_api import expect

from connections.models import DestinationInstance
from tests.factories import make_instance, make_source

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def console(signed_in, owner, workspace, catalog):
    return signed_in(owner)


def test_add_from_the_catalog_then_enable(console, workspace):
    page = console
    source = make_source(workspace, "javascript", name="Website")
    page.get_by_role("link", name="Catalog").click()
    page.get_by_label("Search destinations").fill("webhooks")
    page.locator(".catalog-card", has=page.get_by_text("Webhooks", exact=True)).click()
    page.get_by_role("link", name="Configure Webhooks").click()
    page.get_by_label(re.compile("Website")).check()
    page.get_by_role("button", name="Confirm Source").click()
    expect(page.get_by_label("Destination name")).to_have_value("Webhooks")
    page.get_by_label("Destination name").fill("Orders")
    page.get_by_label("Webhook URLs").fill("http://127.0.0.1:9/orders")
    page.get_by_label("Shared Secret").fill("orders-secret")
    page.get_by_role("button", name="Save", exact=True).click()

    toggle = page.get_by_role("switch", name="Destination enabled")
    expect(toggle).to_have_attribute("aria-checked", "false")
    instance = DestinationInstance.objects.get(name="Orders")
    assert (instance.source, instance.enabled, instance.secrets) == (
        source,
        False,
        {"sharedSecret": "orders-secret"},
    )
    url_before = page.url
    toggle.click()
    expect(page.get_by_role("switch", name="Destination enabled")).to_have_attribute(
        "aria-checked", "true"
    )
    assert page.url == url_before  # swapped in place, no navigation
    instance.refresh_from_db()
    assert instance.enabled


def test_add_from_a_source_page(console, workspace):
    page = console
    source = make_source(workspace, "python", name="Backend")
    page.goto(f"/w/{workspace.slug}/sources/{source.pk}/")
    page.get_by_role("link", name="Add Destination").click()
    page.get_by_label("Search destinations").fill("slack")
    expect(page.locator(".catalog-name")).to_have_text(["Slack"])
    page.locator(".catalog-card", has=page.get_by_text("Slack", exact=True)).click()
    page.get_by_role("link", name="Configure Slack").click()
    expect(page.get_by_role("heading", name="Connect Slack to Backend")).to_be_visible()
    page.get_by_label("Incoming Webhook URL").fill("http://127.0.0.1:9/slack")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_role("switch", name="Destination enabled").click()
    expect(page.get_by_role("switch", name="Destination enabled")).to_have_attribute(
        "aria-checked", "true"
    )
    assert DestinationInstance.objects.get(source=source, metadata__slug="slack").enabled


def test_copy_settings_never_sends_the_secret_to_the_browser(console, workspace):
    page = console
    web, server = (
        make_source(workspace, "javascript", name="Website"),
        make_source(workspace, "python", name="Backend"),
    )
    secret = "copy-me-but-never-show-me"
    make_instance(
        web,
        "webhooks",
        name="Prod",
        settings={"sharedSecret": secret, "headers": {"X-Env": "prod"}},
    )
    bodies = []
    page.on(
        "response",
        lambda r: (
            bodies.append(r.text()) if "text/html" in r.headers.get("content-type", "") else None
        ),
    )

    page.goto(f"/w/{workspace.slug}/destinations/new/webhooks/{server.pk}/")
    page.get_by_label("Instance").select_option(label="Prod (Website)")
    page.get_by_role("button", name="Copy settings").click()
    expect(page.get_by_text("Copied from Prod")).to_be_visible()
    # Header values are secrets too: the name is shown, the value masked.
    expect(page.get_by_label("Headers")).to_have_value("X-Env: ••••••••")
    page.get_by_label("Destination name").fill("Prod (server)")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("heading", name="Prod (server)")).to_be_visible()

    copy = DestinationInstance.objects.get(name="Prod (server)")
    assert copy.source == server
    assert copy.secrets == {"sharedSecret": secret, "headers": {"X-Env": "prod"}}
    assert bodies and not any(secret in body or "prod" in body for body in bodies)
    assert secret not in page.content()


def test_rename_change_mode_and_delete(console, workspace):
    page = console
    source = make_source(workspace, "javascript", name="Website")
    instance = make_instance(source, "amplitude", name="Amplitude")
    make_instance(source, "amplitude", name="Amplitude EU")
    page.goto(f"/w/{workspace.slug}/destinations/{instance.pk}/")

    page.get_by_label("Destination name").fill("amplitude eu")
    page.get_by_role("button", name="Rename").click()
    expect(page.get_by_text("already has an instance named")).to_be_visible()
    page.get_by_label("Destination name").fill("Amplitude US")
    page.get_by_role("button", name="Rename").click()
    expect(page.get_by_text("already has an instance named")).to_have_count(0)
    expect(page.get_by_role("heading", name="Amplitude US")).to_be_visible()

    page.get_by_role("radio", name=re.compile("Device mode")).check()
    page.get_by_role("button", name="Change mode").click()
    expect(page.locator("#instance-summary")).to_contain_text(
        "Device mode"
    )  # refreshed by instanceChanged
    instance.refresh_from_db()
    assert (instance.name, instance.mode) == ("Amplitude US", "device")

    page.get_by_role("link", name="Delete this destination…").click()
    page.get_by_role("button", name="Delete destination").click()
    expect(page.get_by_role("heading", name="Website")).to_be_visible()
    assert not DestinationInstance.objects.filter(pk=instance.pk).exists()


def test_second_device_mode_instance_is_offered_disabled_with_the_reason(console, workspace):
    page = console
    source = make_source(workspace, "javascript", name="Website")
    from connections.instances import set_mode

    set_mode(make_instance(source, "amplitude", name="US"), "device", None)
    other = make_instance(source, "amplitude", name="EU")
    page.goto(f"/w/{workspace.slug}/destinations/{other.pk}/")
    expect(page.get_by_role("radio", name=re.compile("Device mode"))).to_be_disabled()
    expect(
        page.get_by_text("Only one instance of Amplitude per source can run in device mode")
    ).to_be_visible()


def test_sources_that_cannot_take_another_instance_are_disabled_with_the_reason(console, workspace):
    page = console
    web = make_source(workspace, "javascript", name="Website")
    make_source(workspace, "python", name="Backend")
    make_instance(web, "hotjar")
    page.goto(f"/w/{workspace.slug}/catalog/destinations/hotjar/")
    page.get_by_role("link", name="Configure Hotjar").click()
    expect(page.get_by_label(re.compile("Website"))).to_be_disabled()
    expect(page.get_by_label(re.compile("Backend"))).to_be_disabled()
    expect(
        page.get_by_text(
            "Hotjar runs only in device mode, so a source can have one instance of it."
        )
    ).to_be_visible()
    expect(page.get_by_text("server sources send data in cloud mode only")).to_be_visible()


def test_create_a_source_and_rotate_its_write_key(console, workspace):
    page = console
    page.get_by_role("link", name="Sources").click()
    page.get_by_role("link", name="Add Source").click()
    page.get_by_label("Search sources").fill("python")
    page.locator(".catalog-card", has=page.get_by_text("Python", exact=True)).click()
    page.get_by_role("link", name="Add Source").click()
    page.get_by_label("Name").fill("Billing")
    page.get_by_label("Slug").fill("billing")
    page.get_by_role("button", name="Add Source").click()
    expect(page.get_by_role("heading", name="Billing")).to_be_visible()
    first_key = page.locator(".write-key").first.inner_text()
    page.get_by_role("button", name="Add a write key").click()
    expect(page.locator(".write-key")).to_have_count(2)
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Delete").first.click()
    expect(page.locator(".write-key")).to_have_count(1)
    assert page.locator(".write-key").inner_text() != first_key
