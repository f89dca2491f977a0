"""Settings history and the audit trail in Chromium: change settings twice, restore the first
version with its button, see the restored values in the form and the restore on the trail."""

import pytest
from playwright.sync_api import expect

from connections.models import DestinationInstance
from tests.factories import make_instance, make_source

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_restore_a_version_from_the_settings_history(signed_in, owner, workspace, catalog):
    page = signed_in(owner)
    instance = make_instance(
        make_source(workspace, "javascript", name="Website"),
        "webhooks",
        name="Orders",
        settings={"webhookUrls": ["http://127.0.0.1:9/first"], "sharedSecret": "first-secret"},
    )
    page.goto(f"/w/{workspace.slug}/destinations/{instance.pk}/")
    settings = page.locator("#instance-settings")
    for url, secret in [
        ("http://127.0.0.1:9/second", ""),
        ("http://127.0.0.1:9/third", "third-secret"),
    ]:
        settings.get_by_label("Webhook URLs").fill(url)
        if secret:
            settings.get_by_label("Shared Secret").fill(secret)
        with page.expect_response(lambda r: r.request.method == "POST" and "/settings/" in r.url):
            settings.get_by_role("button", name="Save settings").click()
        expect(page.get_by_role("status")).to_have_text("Settings saved.")
        expect(page.get_by_label("Webhook URLs")).to_have_value(url)
    assert DestinationInstance.objects.get(pk=instance.pk).secrets == {
        "sharedSecret": "third-secret"
    }

    page.get_by_role("link", name="Settings history").click()
    expect(page.get_by_role("heading", name="Settings history")).to_be_visible()
    expect(page.locator(".settings-version h2")).to_have_text(
        ["Version 3", "Version 2", "Version 1"]
    )
    newest = page.get_by_role("region", name="Version 3")
    expect(newest).to_contain_text("secret changed")
    expect(newest).not_to_contain_text("third-secret")  # the secret's value never reaches the page
    expect(newest.get_by_role("button", name="Restore version 3")).to_have_count(0)

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Restore version 1").click()
    page.wait_for_url(f"**/destinations/{instance.pk}/#instance-settings")
    expect(page.get_by_role("status")).to_have_text("Restored the settings of version 1.")
    expect(page.get_by_label("Webhook URLs")).to_have_value("http://127.0.0.1:9/first")
    instance.refresh_from_db()
    assert instance.settings["webhookUrls"] == ["http://127.0.0.1:9/first"]
    assert instance.secrets == {"sharedSecret": "first-secret"}

    page.get_by_role("link", name="Audit trail").click()
    newest_row = page.locator("table.audit-trail tbody tr").first
    expect(newest_row).to_contain_text("restored settings")
    expect(newest_row).to_contain_text("Orders")
    expect(newest_row).to_contain_text(owner.email)
    expect(newest_row).to_contain_text("http://127.0.0.1:9/first")
    page.get_by_label("Action").select_option("instance.settings_changed")
    expect(page.locator("table.audit-trail tbody tr")).to_have_count(2)
    assert "action=instance.settings_changed" in page.url  # the filter is in the address
