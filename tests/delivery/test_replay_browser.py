"""Replay in Chromium, with a real worker (its sweep advances replays every second) sending to a
real HTTP server: a replay of two archived days previewed, started and watched to 100%, then a
slow one cancelled from the page; the panel on Event Delivery. Set SEGAPP_SCREENSHOT_DIR to keep
a screenshot of each page at desktop and phone widths."""

import os
import re

import orjson
import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from connections.instances import set_enabled
from delivery.models import Replay
from segapp.models import Plan
from tests.delivery.conftest import start_worker_with_sweeper
from tests.delivery.replay_archive import archive_days
from tests.delivery.test_debugger_browser import in_browser
from tests.factories import PASSWORD, make_instance, make_source
from tests.processes import stop, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
WIDTHS = {"desktop": 1280, "phone": 390}


def shoot(page, name: str) -> None:
    """Each width: nothing runs off the side of the page, and a screenshot if asked for."""
    folder = os.environ.get("SEGAPP_SCREENSHOT_DIR")
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        if folder:
            page.screenshot(path=f"{folder}/{name}-{label}.png", full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} is {overflow}px too wide at {width}px"
    page.set_viewport_size({"width": 1280, "height": 900})


def minute(moment) -> str:
    return f"{moment:%Y-%m-%dT%H:%M}"


def sent_of_day(sink, day: int) -> int:
    """Requests the sink received for the archived day ``day`` (its messageIds say which)."""
    ids = [orjson.loads(r.body)["messageId"] for r in sink.received]
    return sum(1 for i in ids if i.startswith(f"day{day}-"))


def test_a_replay_runs_to_the_end_and_a_slow_one_is_cancelled(
    live_server, member_user, workspace, catalog, sink, broker, tmp_path
):
    workspace.plan = Plan.BUSINESS
    workspace.save(update_fields=["plan"])
    source = make_source(workspace, "javascript", name="Website")
    # 300 archived events over three days in batches of 20, before the instance exists: live
    # routing sent it none.
    days = archive_days(source, per_day=100, days=3, until=timezone.now(), per_batch=20)
    instance = set_enabled(make_instance(source, "webhooks", name="Orders hook",
                                         settings={"webhookUrls": [f"{sink.url}/orders"]}), True, None)  # fmt: skip
    instance_url = f"/w/{workspace.slug}/destinations/{instance.pk}/"

    def scenario(page):
        blocked = []  # anything the Content-Security-Policy blocks is a page that does not work
        page.on("console", lambda m: blocked.append(m.text) if "Content Security" in m.text else 0)
        dialogs = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
        page.goto(f"/signin/?next={instance_url}")
        page.get_by_label("Email").fill(member_user.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"**{instance_url}")
        page.get_by_role("link", name="Replay", exact=True).click()
        expect(page.get_by_role("heading", name="Replay", exact=True)).to_be_visible()

        # Days 1 and 2, every type, 100 events a second.
        page.get_by_label("Start (UTC)").fill(minute(days[0].start))
        page.get_by_label("End (UTC)").fill(minute(days[1].end))
        page.get_by_label("Rate (events per second)").fill("100")
        expect(page.get_by_label("Add context.replay = true")).to_be_checked()
        page.get_by_role("button", name="Preview").click()
        expect(page.locator("#replay-count")).to_have_text("200")
        shoot(page, "replay-preview")
        page.get_by_role("button", name="Start replay").click()
        expect(page.get_by_text("Replay started: 200 archived events.")).to_be_visible()
        expect(page.locator("#replay-unavailable")).to_contain_text("already running")

        first = page.locator("ol.replays > li").first
        expect(first.locator(".replay-percent")).to_have_text("100%", timeout=90_000)
        expect(first.locator(".replay-status")).to_have_text("Finished")
        expect(first.locator(".sent dd")).to_have_text("200")
        expect(first).not_to_have_attribute("hx-trigger", re.compile(".*"))
        assert sent_of_day(sink, 0) == sent_of_day(sink, 1) == 100
        assert all(orjson.loads(r.body)["context"]["replay"] is True for r in sink.received)

        # The form is back once the replay has ended (replayEnded), without a reload.
        page.get_by_label("Start (UTC)").fill(minute(days[2].start))
        page.get_by_label("End (UTC)").fill(minute(days[2].end))
        page.get_by_label("Rate (events per second)").fill("5")
        page.get_by_role("button", name="Start replay").click()
        expect(page.get_by_text("Replay started: 100 archived events.")).to_be_visible()
        second = page.locator("ol.replays > li").first
        expect(second.locator(".replay-status")).to_have_text("Running…", timeout=20_000)
        # Two batches of 20 at 5 events a second: four seconds apart.
        wait_for(lambda: sent_of_day(sink, 2) >= 40, timeout=30, message="the slow replay")
        expect(second.locator(".replay-counts")).to_contain_text("about")  # the time left
        shoot(page, "replay-running")

        second.get_by_role("button", name="Cancel replay").click()
        expect(second.locator(".replay-status")).to_have_text("Cancelled")
        assert dialogs == ["Cancel this replay? Events not yet sent will not be sent."]
        expect(page.get_by_label("Start (UTC)")).to_be_visible()
        page.wait_for_timeout(2000)  # a job being sent as it was cancelled finishes
        stopped_at = sent_of_day(sink, 2)
        page.wait_for_timeout(3000)
        assert sent_of_day(sink, 2) == stopped_at < 100
        expect(second.locator(".replay-status")).to_have_text("Cancelled")
        shoot(page, "replay-ended")

        page.get_by_role("link", name="Event Delivery").first.click()
        panel = page.locator("#replays-panel")
        expect(panel.locator("tbody tr")).to_have_count(2)
        expect(panel.locator("tbody tr").nth(1).locator('[data-label="Sent"]')).to_have_text("200")
        expect(page.locator("#count-delivered")).to_have_text("0")  # counted apart
        panel.scroll_into_view_if_needed()
        shoot(page, "event-delivery-replays")
        assert blocked == []

    worker, output = start_worker_with_sweeper(tmp_path, settings.CELERY_BROKER_URL)
    try:
        in_browser(live_server.url, scenario)
    except BaseException:
        print("".join(output.lines[-60:]))
        raise
    finally:
        stop(worker, sig=15)
    # The slow replay kept to its rate although each batch is four seconds' worth of it (checked
    # here: the browser's thread keeps no database connection).
    slow = Replay.objects.get(rate=5)
    seconds = (slow.finished_at - slow.started_at).total_seconds()
    # The first slice is a second's worth, and a batch (20) goes whole.
    assert sent_of_day(sink, 2) <= slow.routed <= 20 + 5 * (seconds + 1), (slow.routed, seconds)
