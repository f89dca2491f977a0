"""The debugger in a real browser: events appear while live, not while paused, and open in the
pretty and raw views."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.delivery.conftest import track

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_events_stream_in_while_live_and_wait_while_paused(
    signed_in, owner, workspace, source, api
):
    page = signed_in(owner)
    api.batch([track(1)])
    page.goto(reverse("delivery:debugger", args=[workspace.slug, source.pk]))
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
    panel.get_by_role("link", name="Pretty").click()

    page.get_by_role("link", name="Pause").click()
    expect(page.get_by_text("Paused", exact=True)).to_be_visible()
    assert "paused=1" in page.url
    api.batch([track(3)])
    page.wait_for_timeout(3000)
    expect(rows).to_have_text(["Event 2", "Event 1"])

    page.get_by_role("link", name="Resume live").click()
    expect(rows).to_have_text(["Event 3", "Event 2", "Event 1"])
