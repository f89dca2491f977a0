"""Data controls in Chromium: the owner opens a destination, its Privacy panel loads into the page,
hashing Yellow fields is saved in place; the Data controls tab blocks events carrying Red fields
for the destination's category."""

import pytest
from playwright.sync_api import expect

from connections.instances import set_enabled
from privacy.models import DataControl, InstancePrivacy
from tests.factories import make_instance, make_source

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_owner_protects_a_destination_from_its_page_and_the_controls_tab(
    signed_in, owner, workspace, catalog
):
    source = make_source(workspace, "javascript", name="Website")
    instance = make_instance(
        source, "webhooks", name="Care team", settings={"webhookUrls": ["http://127.0.0.1:9/h"]}
    )
    set_enabled(instance, True, None)
    page = signed_in(owner)

    page.goto(f"/w/{workspace.slug}/destinations/{instance.pk}/")
    panel = page.locator("#instance-privacy")
    expect(panel.get_by_text("The data controls for Raw Data")).to_be_visible()
    expect(panel.get_by_label("Encrypt (HIPAA workspaces)")).to_be_disabled()
    panel.get_by_label("Hash (SHA-256)").check()
    panel.get_by_role("button", name="Save privacy").click()
    expect(page.locator("#instance-privacy").get_by_text("Saved")).to_be_visible()
    assert InstancePrivacy.objects.get(instance=instance).yellow_protection == "hash"

    page.locator("#instance-privacy").get_by_role("link", name="change").click()
    page.get_by_label("Red fields for Raw Data").select_option("block")
    page.get_by_role("button", name="Save controls").click()
    expect(page.get_by_text("Data controls saved")).to_be_visible()
    expect(page.get_by_label("Red fields for Raw Data")).to_have_value("block")
    control = DataControl.objects.get()
    assert (control.category, control.classification, control.action) == (
        "Raw Data",
        "red",
        "block",
    )
