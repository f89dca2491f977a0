"""The Event Tester and the routing preview in Chromium, with HTMX swapping in the results."""

import re

import orjson
import pytest
from playwright.sync_api import expect

from connections import filters
from connections.instances import set_enabled
from tests.factories import make_instance, make_source
from tests.sinks import Reply

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def console(signed_in, owner, catalog, settings):
    settings.EGRESS_ALLOW_PRIVATE = True
    return signed_in(owner)


@pytest.fixture
def source(workspace):
    return make_source(workspace, "javascript", name="Website")


def test_send_a_test_event_and_see_the_request_and_the_answer(console, workspace, source, sink):
    page = console
    hook = make_instance(
        source, "webhooks", name="Hook",
        settings={"webhookUrls": [f"{sink.url}/hook"], "sharedSecret": "browser-secret"},
    )  # fmt: skip
    sink.replies = [Reply(status=503, body=b"busy, try later")]
    page.goto(f"/w/{workspace.slug}/destinations/{hook.pk}/")
    page.get_by_role("link", name="Event Tester").click()
    page.wait_for_load_state("load")  # htmx has wired up the type selector
    expect(page.get_by_text("This instance is disabled")).to_be_visible()
    page.get_by_label("Message type").select_option("identify")
    expect(page.get_by_label("Event (JSON)")).to_have_value(re.compile('"type": "identify"'))
    page.evaluate("window.stillThisPage = true")
    page.get_by_role("button", name="Send test event").click()
    result = page.locator("#tester-result")
    expect(result).to_contain_text("HTTP 503")
    expect(result).to_contain_text("busy, try later")
    expect(result).to_contain_text("Would retry")
    expect(result).to_contain_text(f"POST {sink.url}/hook")
    (received,) = sink.received
    sent = orjson.loads(received.body)
    assert sent["type"] == "identify" and sent["traits"]["email"] == "peter@example.com"
    expect(result.locator('[data-part="request-body"]')).to_have_text(received.body.decode())
    assert "browser-secret" not in page.content()
    assert page.evaluate("window.stillThisPage")  # the result came in without a page load


def test_preview_routing_explains_every_instance(console, workspace, source, sink):
    page = console
    sent = set_enabled(
        make_instance(source, "webhooks", name="Sent", settings={"webhookUrls": [f"{sink.url}/a"]}),
        True, None,
    )  # fmt: skip
    off = make_instance(source, "webhooks", name="Off", settings={"webhookUrls": [sink.url]})
    dropped = set_enabled(
        make_instance(source, "webhooks", name="Dropped", settings={"webhookUrls": [sink.url]}),
        True, None,
    )  # fmt: skip
    filters.create_filter(dropped, None, title="No signups", condition='event = "Signed Up"',
                          actions=[{"type": "DROP"}])  # fmt: skip
    page.goto(f"/w/{workspace.slug}/sources/{source.pk}/")
    page.get_by_role("link", name="Routing preview").click()
    page.wait_for_load_state("load")  # htmx has wired up the form
    page.get_by_label("Event (JSON)").fill(
        orjson.dumps({"type": "track", "event": "Signed Up", "userId": "u-1"}).decode()
    )
    page.evaluate("window.stillThisPage = true")
    page.get_by_role("button", name="Preview routing").click()
    rows = page.locator("#routing-result tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator(f'tr[data-instance="{sent.pk}"]')).to_contain_text("Yes")
    expect(page.locator(f'tr[data-instance="{off.pk}"]')).to_contain_text("disabled")
    expect(page.locator(f'tr[data-instance="{dropped.pk}"]')).to_contain_text("No signups")
    page.locator(f'tr[data-instance="{sent.pk}"] summary').click()
    expect(page.locator(f'tr[data-instance="{sent.pk}"]')).to_contain_text(f"POST {sink.url}/a")
    expect(page.locator(f'tr[data-instance="{sent.pk}"]')).to_contain_text('"event": "Signed Up"')
    assert page.evaluate("window.stillThisPage") and not sink.received
