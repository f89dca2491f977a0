"""Destination filters and source transformations in Chromium: add a filter with a preview,
reorder and switch filters with HTMX, add a transformation."""

import pytest
from playwright.sync_api import expect

from connections.models import DestinationFilter, Transformation
from tests.factories import make_instance, make_source

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def console(signed_in, owner, catalog):
    return signed_in(owner)


def test_add_preview_reorder_and_switch_filters(console, workspace):
    page = console
    instance = make_instance(
        make_source(workspace, "javascript", name="Website"), "webhooks", name="Hook"
    )
    page.goto(f"/w/{workspace.slug}/destinations/{instance.pk}/")
    page.get_by_role("link", name="Add filter").click()
    page.wait_for_load_state("load")  # htmx has wired up the Preview button
    page.get_by_label("Title").fill("Privacy")
    page.get_by_label("If (FQL)").fill("properties.total >")
    page.get_by_label("Drop properties").fill("properties.coupon\ncontext.ip")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#filter-preview")).to_contain_text("position")
    page.get_by_label("If (FQL)").fill("properties.total > 100")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#filter-preview")
    expect(preview).to_contain_text("The condition matches")
    expect(preview).to_contain_text('"currency": "USD"')
    expect(preview).not_to_contain_text("coupon")
    page.get_by_role("button", name="Save filter").click()

    page.get_by_role("link", name="Add filter").click()
    page.get_by_label("Title").fill("Tests out")
    page.get_by_label("If (FQL)").fill("match(event, 'Test *')")
    page.get_by_label("Drop matching events").check()
    page.get_by_role("button", name="Save filter").click()
    rows = page.locator("#instance-filters tbody tr")
    expect(rows).to_have_count(2)
    page.get_by_role("button", name="Move Tests out up").click()
    expect(rows.first).to_contain_text("Tests out")
    page.get_by_role("switch", name="Filter Privacy enabled").click()
    expect(page.get_by_role("switch", name="Filter Privacy enabled")).to_have_attribute(
        "aria-checked", "false"
    )
    assert [(f.title, f.enabled) for f in DestinationFilter.objects.filter(instance=instance)] == [
        ("Tests out", True), ("Privacy", False)]  # fmt: skip


def test_add_a_transformation(console, workspace):
    page = console
    source = make_source(workspace, "javascript", name="Website")
    page.goto(f"/w/{workspace.slug}/sources/{source.pk}/")
    page.get_by_role("link", name="Transformations").click()
    page.get_by_label("Name", exact=True).fill("Spec names")
    page.get_by_label("Apply to").select_option("track")
    page.locator("#id_event_name").fill("Order Done")
    page.get_by_label("Rename the event to").fill("Order Completed")
    page.get_by_label("Rename properties or traits").fill("amt -> revenue")
    page.get_by_role("button", name="Add transformation").click()
    expect(page.locator("table")).to_contain_text("Order Completed")
    item = Transformation.objects.get()
    assert (item.event_name, item.new_event_name, item.renames) == (
        "Order Done",
        "Order Completed",
        {"amt": "revenue"},
    )
