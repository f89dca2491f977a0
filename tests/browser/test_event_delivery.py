"""Event Delivery in Chromium, with a real worker delivering to a real HTTP server: the numbers
and errors after events that succeed, fail and are filtered; re-deliver all moves dead letters
to delivered; Delivery Overview shows each stage."""

import re
import signal

import orjson
import pytest
from playwright.sync_api import expect
from segment.analytics import Client

from connections import filters
from connections.instances import set_enabled
from tests.delivery.test_engine_workers import worker
from tests.factories import make_instance, make_source
from tests.processes import stop, wait_for
from tests.sinks import Reply, Sink

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sink():
    server = Sink()
    yield server
    server.close()


def test_numbers_errors_and_redelivery(
    signed_in, owner, workspace, catalog, live_server, sink, broker, tmp_path
):
    source = make_source(workspace, "javascript", name="Shop")
    instance = set_enabled(make_instance(source, "webhooks", name="Orders hook",
                                         settings={"webhookUrls": [f"{sink.url}/orders"]}), True, None)  # fmt: skip
    filters.create_filter(
        instance, None, title="No tests", condition="event = 'Test'", actions=[{"type": "DROP"}]
    )
    proc, output = worker(tmp_path, broker, SEGAPP_DELIVERY_RETRY_WINDOW="0")
    client = Client(source.write_keys.get().key, host=live_server.url, sync_mode=True)

    def send(event, expect_at_sink):
        before = len(sink.received)
        client.track(user_id="u1", event=event, properties={"n": 1})
        if expect_at_sink:
            wait_for(
                lambda: len(sink.received) > before,
                timeout=30,
                interval=0.2,
                message=f"{event} at the sink",
            )

    try:
        send("Paid", True)
        send("Paid", True)
        sink.default = Reply(400, b'{"error": "unknown event"}')
        send("Refunded", True)
        send("Test", False)
        sink.default = Reply(503, b"maintenance")
        send("Shipped", True)  # the retry window is 0: dead-lettered at once
        sink.default = Reply(200)

        page = signed_in(owner)
        page.goto(f"/w/{workspace.slug}/destinations/{instance.pk}/")
        page.get_by_role("link", name="Event Delivery").click()
        page.get_by_role("link", name="1h").click()

        def counts():
            page.reload()
            return {o: page.locator(f"#count-{o}").inner_text()
                    for o in ("delivered", "discarded", "filtered", "dead_lettered")}  # fmt: skip

        wait_for(lambda: counts() == {"delivered": "2", "discarded": "1", "filtered": "1", "dead_lettered": "1"},
                 timeout=30, interval=1, message="the counts on the page")  # fmt: skip
        errors = page.locator("details.error-group")
        expect(errors.filter(has_text="unknown event")).to_have_count(1)
        first = errors.filter(has_text="unknown event")
        if first.get_attribute("open") is None:
            first.locator("summary").click()
        expect(first).to_contain_text('"event": "Refunded"')  # You sent
        expect(first).to_contain_text(f"POST {sink.url}/orders")
        expect(first).to_contain_text("HTTP 400")
        expect(page.locator("#dead-letters")).to_contain_text("Dead letters (1 batches)")
        expect(page.locator("#p95")).to_contain_text(" ms")
        expect(page.locator("#filtered-reasons td.filter-reason")).to_have_count(1)
        expect(page.locator(".chart .tick text").first).to_have_text(re.compile(r"^\d\d:\d0$"))
        for width in (1280, 375):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=tmp_path / f"event-delivery-{width}.png", full_page=True)
        page.set_viewport_size({"width": 1280, "height": 720})

        page.get_by_role("button", name="Re-deliver all").click()
        expect(page.locator("#redelivery")).to_contain_text("1 of 1 batches", timeout=20_000)
        wait_for(
            lambda: counts()["delivered"] == "3",
            timeout=30,
            interval=1,
            message="the re-delivered event",
        )
        expect(page.locator("#dead-letters")).to_contain_text("Dead letters (0 batches)")
        shipped = [orjson.loads(r.body)["event"] for r in sink.received].count("Shipped")
        assert shipped == 2  # the failed attempt, then the re-delivery

        page.goto(f"/w/{workspace.slug}/sources/{source.pk}/")
        page.get_by_role("link", name="Delivery Overview").click()
        page.get_by_role("link", name="1h").click()
        steps = page.locator("ol.pipeline > li")
        expect(steps.locator(".label")).to_have_text(
            ["Received", "Failed on ingest", "Filtered at source", "Filtered at destination",
             "Retrying", "Failed", "Delivered"])  # fmt: skip
        # Failed: the 400 and the dead letter; delivered: two, then the re-delivered one.
        expect(steps.locator("strong")).to_have_text(["5", "0", "0", "1", "0", "2", "3"])
        row = page.locator(f"#overview-{instance.pk}")
        expect(row.locator("td.num")).to_have_text(["1", "0", "2", "3"])
        expect(page.locator("#disabled-destinations")).to_have_count(0)
        for width in (1280, 375):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=tmp_path / f"overview-{width}.png", full_page=True)
            fits = "document.documentElement.scrollWidth <= window.innerWidth"
            assert page.evaluate(fits), f"Delivery Overview is wider than {width} px"
    except AssertionError:
        print("".join(output.lines[-40:]))
        raise
    finally:
        stop(proc, sig=signal.SIGTERM)
