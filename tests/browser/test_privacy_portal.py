"""The Privacy Portal in Chromium: events sent by a source reach the Inbox through the discovery
sweep; the owner picks Red for a field and adds it to the Inventory in place, then finds it on
the Inventory tab."""

import base64

import orjson
import pytest
import requests
from playwright.sync_api import expect

from delivery import field_discovery
from privacy.models import Field
from tests.factories import make_source

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def send(live_server, source, messages) -> None:
    key = base64.b64encode(f"{source.write_keys.get().key}:".encode()).decode()
    response = requests.post(
        f"{live_server.url}/v1/batch",
        data=orjson.dumps({"batch": messages}),
        headers={"Content-Type": "application/json", "Authorization": f"Basic {key}"},
        timeout=10,
    )
    assert response.status_code == 200


def test_classify_a_field_from_the_inbox_and_find_it_in_the_inventory(
    signed_in, owner, workspace, catalog, live_server
):
    source = make_source(workspace, "javascript", name="Website")
    send(live_server, source, [
        {"type": "identify", "userId": "u-1",
         "traits": {"email": "jane@example.com", "plan": "pro"}},
    ])  # fmt: skip
    field_discovery.run()
    page = signed_in(owner)

    page.get_by_role("link", name="Privacy").click()
    row = page.locator("tr", has=page.get_by_text("traits.email", exact=True))
    expect(row.get_by_text("email matcher")).to_be_visible()
    expect(row.get_by_text("Website")).to_be_visible()
    row.get_by_label("Classification of traits.email").select_option("red")
    row.get_by_role("button", name="Add to Inventory").click()
    expect(page.get_by_text("is in the Inventory as")).to_be_visible()
    assert Field.objects.get(path="traits.email").classification == "red"

    page.get_by_role("navigation", name="Privacy").get_by_role("link", name="Inventory").click()
    row = page.locator("tr", has=page.get_by_text("traits.email", exact=True))
    expect(row.get_by_label("Classification of traits.email")).to_have_value("red")
    expect(page.get_by_text("Red 1")).to_be_visible()
    expect(page.get_by_text("traits.plan")).to_have_count(0)  # still in the Inbox
