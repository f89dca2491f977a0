"""Adding a destination in Chromium: no path offers what a rule refuses, and a bad setting is
refused next to its field in the form, as the API refuses it."""

import json

import pytest
from playwright.sync_api import expect

from catalog.models import DestinationMetadata
from connections.models import DestinationInstance
from tests.factories import make_instance, make_source, make_token

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def console(signed_in, owner, workspace, catalog):
    return signed_in(owner)


def test_source_path_does_not_offer_a_second_device_only_instance(console, workspace):
    page = console
    source = make_source(workspace, "javascript", name="Website")
    make_instance(source, "hotjar")
    page.goto(f"/w/{workspace.slug}/sources/{source.pk}/")
    page.get_by_role("link", name="Add Destination").click()
    page.get_by_label("Search destinations").fill("hotjar")
    page.locator(".catalog-card", has=page.get_by_text("Hotjar", exact=True)).click()
    expect(page.get_by_role("note")).to_contain_text("a source can have one instance of it")
    expect(page.get_by_role("link", name="Configure Hotjar")).to_have_count(0)
    page.get_by_role("link", name="← Back").click()
    expect(page.get_by_role("heading", name="Add Destination to Website")).to_be_visible()


def test_confirm_source_is_disabled_without_a_source_that_can_take_it(console, workspace):
    page = console
    page.goto(f"/w/{workspace.slug}/destinations/new/webhooks/")
    expect(page.get_by_role("button", name="Confirm Source")).to_be_disabled()
    page.get_by_role("link", name="Add a source").click()
    page.locator(".catalog-card", has=page.get_by_text("Javascript", exact=True)).click()
    page.get_by_role("link", name="Add Source").click()
    page.get_by_role("button", name="Add Source").click()
    expect(page.get_by_role("heading", name="Configure Webhooks")).to_be_visible()
    expect(page.get_by_role("button", name="Confirm Source")).to_be_enabled()


def test_a_bad_webhook_url_is_refused_in_the_form_and_by_the_api(console, workspace, live_server):
    page = console
    source = make_source(workspace, "javascript", name="Website")
    page.goto(f"/w/{workspace.slug}/sources/{source.pk}/add-destination/webhooks/")
    page.get_by_role("link", name="Configure Webhooks").click()
    urls = page.get_by_label("Webhook URLs")
    expect(urls).to_have_attribute("required", "")
    urls.fill("ftp://example.com/hook")
    page.get_by_role("button", name="Save", exact=True).click()
    field = page.locator("label", has=page.locator("[name=settings-webhookUrls]"))
    expect(field.locator(".field-error")).to_contain_text("Enter an http:// or https:// URL.")
    assert not DestinationInstance.objects.exists()

    _, raw = make_token(workspace)
    body = {
        "sourceId": source.pk,
        "metadataId": DestinationMetadata.objects.get(slug="webhooks").pk,
        "settings": {"webhookUrls": ["not a url"]},
    }
    response = page.request.post(
        f"{live_server.url}/api/destinations",
        data=json.dumps(body),
        headers={"Authorization": f"Bearer {raw}", "Content-Type": "application/json"},
    )
    assert response.status == 422
    (error,) = response.json()["errors"]
    assert error["field"] == "settings.webhookUrls"
    assert not DestinationInstance.objects.exists()
