"""The debugger in a real browser: events appear while live, not while paused, and open in the
pretty and raw views."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.urls import reverse
from playwright.sync_api import expect, sync_playwright

from tests.browser.conftest import CHROMIUM_ARGS
from tests.delivery.conftest import track
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def in_browser(base_url: str, scenario) -> None:
    """Runs ``scenario(page)`` in Debian's Chromium on a thread of its own: when tests/browser/
    runs first, its session-wide Playwright holds this thread's event loop, and the sync API
    allows one per thread."""

    def run():
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
            )
            try:
                page = browser.new_context(base_url=base_url).new_page()
                page.set_default_timeout(10_000)
                scenario(page)
            finally:
                browser.close()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(run).result()


def test_events_stream_in_while_live_and_wait_while_paused(
    live_server, owner, workspace, source, api
):
    url = reverse("delivery:debugger", args=[workspace.slug, source.pk])
    api.batch([track(1)])

    def scenario(page):
        page.goto(f"/signin/?next={url}")
        page.get_by_label("Email").fill(owner.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"**{url}")
        rows = page.locator("#debugger-rows .debugger-events a")
        expect(rows).to_have_text(["Event 1"])

        api.batch([track(2), {"type": "track", "userId": "u"}])
        expect(rows).to_have_text(["Event 2", "Event 1"], timeout=6000)  # the next poll
        expect(page.get_by_text("A track call needs an event name.")).to_be_visible()

        rows.first.click()
        panel = page.locator("#event-detail")
        expect(panel.locator("dt", has_text="receivedAt")).to_be_visible()
        assert "event=" in page.url
        panel.get_by_role("link", name="Raw").click()
        expect(panel.locator('pre[data-view="raw"]')).to_contain_text('"event":"Event 2"')

        page.get_by_role("link", name="Pause").click()
        expect(page.get_by_text("Paused", exact=True)).to_be_visible()
        assert "paused=1" in page.url
        api.batch([track(3)])
        page.wait_for_timeout(3000)
        expect(rows).to_have_text(["Event 2", "Event 1"])

        page.get_by_role("link", name="Resume live").click()
        expect(rows).to_have_text(["Event 3", "Event 2", "Event 1"])

    in_browser(live_server.url, scenario)
