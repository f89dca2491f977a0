"""Privacy → End-user privacy in Chromium: an owner suppresses a user in one source, requests a
deletion whose progress the page follows without a reload, and lifts the suppression."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from delivery import tasks
from privacy.models import Regulation, RegulationStatus, Suppression
from tests.factories import make_source
from tests.privacy.regulation_setup import send, track

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_owner_suppresses_a_user_and_requests_a_deletion(signed_in, owner, workspace, catalog):
    site = make_source(workspace, "javascript", name="Site")
    send(site, [track("bob", 1), track("kept", 1)])
    page = signed_in(owner)
    page.goto(reverse("privacy:regulations", args=[workspace.slug]))
    expect(page.get_by_role("link", name="End-user privacy")).to_have_attribute(
        "aria-current", "page"
    )

    suppress = page.locator("#suppress")
    suppress.get_by_label("User ids").fill("ada")
    suppress.get_by_label("Where").select_option(label="Only Site")
    suppress.get_by_role("button", name="Suppress").click()
    expect(page.get_by_text("Suppressed 1 user")).to_be_visible()
    suppressed = page.locator("#suppressed-users")
    expect(suppressed.get_by_role("row", name="ada")).to_contain_text("Site")
    assert list(Suppression.objects.values_list("user_id", "source_id")) == [("ada", site.pk)]

    delete = page.locator("#delete")
    delete.get_by_label("What to do").select_option("DELETE_ONLY")
    delete.get_by_label("User ids").fill("bob")
    delete.get_by_role("button", name="Request deletion").click()
    expect(page.get_by_text("Deletion requested for 1 user")).to_be_visible()
    deletion = Regulation.objects.get(regulation_type="DELETE_ONLY")
    row = page.locator(f"#regulation-{deletion.pk}")
    expect(row).to_contain_text("Initialized")

    tasks.erase_archive()  # a worker's sweep; the page polls the list meanwhile
    expect(row).to_contain_text("1 event deleted", timeout=15_000)
    expect(row.locator(".sync-status").first).to_have_text("Finished")
    assert Regulation.objects.get(pk=deletion.pk).status == RegulationStatus.FINISHED

    page.get_by_role("button", name="Remove ada from the suppression list").click()
    expect(page.get_by_text("Lifted the suppression of 1 user")).to_be_visible()
    expect(page.get_by_text("No user is suppressed.")).to_be_visible()
    assert not Suppression.objects.exists()
