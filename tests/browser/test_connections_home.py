"""The Connections home, list health and the cannot-send refusal in Chromium, at desktop and
phone widths (set SEGAPP_SCREENSHOT_DIR to keep a screenshot of each page)."""

import os
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from connections import instances
from delivery.models import DeliveryCounter
from tests.factories import make_instance, make_source

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDTHS = {"desktop": 1280, "phone": 375}


@pytest.fixture
def console(signed_in, owner, workspace, catalog):
    return signed_in(owner)


def shoot(page, name):
    folder = os.environ.get("SEGAPP_SCREENSHOT_DIR")
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        if folder:
            page.screenshot(path=f"{folder}/{name}-{label}.png", full_page=True)
        # Nothing runs off the side of the page at either width.
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} is {overflow}px too wide at {width}px"
    page.set_viewport_size({"width": 1280, "height": 900})


def failing_hook(source):
    hook = make_instance(source, "webhooks", name="Orders hook", enabled=True)
    minute = (timezone.now() - timedelta(minutes=3)).replace(second=0, microsecond=0)
    for outcome, n in (("delivered", 40), ("discarded", 2)):
        DeliveryCounter.objects.create(instance_id=hook.pk, minute=minute, outcome=outcome, count=n)
    return hook


def test_home_shows_the_pipeline_and_its_add_buttons(console, workspace):
    page = console
    site = make_source(workspace, "javascript", name="Marketing site")
    failing_hook(site)
    instances.set_mode(make_instance(site, "heap", name="Heap web"), "device", None)
    make_source(workspace, "python", name="Backend")
    page.goto(f"/w/{workspace.slug}/")
    row = page.locator(".pipeline", has=page.get_by_role("link", name="Marketing site"))
    expect(row.locator(".pipeline-instance", has_text="Orders hook")).to_contain_text("failing")
    expect(row.locator(".pipeline-instance", has_text="Heap web")).to_contain_text("Device mode")
    shoot(page, "home")

    page.get_by_role("link", name="Add destination").click()
    expect(page.get_by_role("link", name="Destinations", exact=True).first).to_be_visible()
    assert page.url.endswith(f"/w/{workspace.slug}/catalog/destinations/")
    page.go_back()
    page.get_by_role("link", name="Add source").click()
    page.get_by_label("Search sources").fill("python")
    page.locator(".catalog-card", has=page.get_by_text("Python", exact=True)).click()
    page.get_by_role("link", name="Add Source").click()
    page.get_by_role("button", name="Add Source").click()
    expect(page.locator("h1")).to_contain_text("Python")


def test_lists_show_a_failing_instance_as_failing(console, workspace):
    page = console
    site = make_source(workspace, "javascript", name="Marketing site")
    failing_hook(site)
    for path, name in (
        (f"/w/{workspace.slug}/sources/", "sources"),
        (f"/w/{workspace.slug}/destinations/", "destinations"),
        (f"/w/{workspace.slug}/sources/{site.pk}/", "source"),
    ):
        page.goto(path)
        badge = page.locator("[data-health]", has_text="failing")
        expect(badge).to_have_count(1)
        expect(badge.locator(".ok")).to_have_count(0)
        shoot(page, name)


def test_cannot_send_entry_is_refused_in_cloud_mode_with_the_reason(console, workspace):
    page = console
    site = make_source(workspace, "javascript", name="Marketing site")
    heap = make_instance(site, "heap", name="Heap web")
    page.goto(f"/w/{workspace.slug}/catalog/destinations/?q=heap")
    expect(page.locator(".catalog-card", has_text="Heap")).to_contain_text(
        "Segapp cannot send to Heap in cloud mode yet"
    )
    shoot(page, "catalog")
    page.locator(".catalog-card", has_text="Heap").first.click()
    expect(page.locator("#cannot-send")).to_contain_text("Device mode works")
    shoot(page, "entry")

    page.goto(f"/w/{workspace.slug}/destinations/{heap.pk}/")
    expect(page.locator("#cannot-send")).to_be_visible()
    page.get_by_role("switch", name="Destination enabled").click()
    expect(page.locator("#toggle-error")).to_contain_text(
        "Segapp cannot send to Heap in cloud mode yet"
    )
    expect(page.get_by_role("switch", name="Destination enabled")).to_have_attribute(
        "aria-checked", "false"
    )
    shoot(page, "instance")
    heap.refresh_from_db()
    assert not heap.enabled
