import os
import re

import pytest
from playwright.sync_api import expect

from segapp.models import ApiToken, Membership, Role, hash_token

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_in_lands_on_the_workspace_with_navigation(signed_in, owner, workspace):
    page = signed_in(owner)
    expect(page.get_by_role("heading", name="Connections")).to_be_visible()  # the Connections home
    expect(page.locator(".switcher summary")).to_have_text("Acme")
    nav = page.get_by_role("navigation", name="Workspace")
    for link in ["Overview", "General", "Members", "Access tokens", "System"]:
        expect(nav.get_by_role("link", name=link)).to_be_visible()


def test_wrong_password_is_refused_with_a_message(page, owner):
    page.goto("/signin/")
    page.get_by_label("Email").fill(owner.email)
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("correct email")


def test_owner_creates_a_token_once_and_revokes_it_without_reload(signed_in, owner, workspace):
    page = signed_in(owner)
    page.get_by_role("link", name="Access tokens").click()
    page.get_by_label("Description").fill("Deploy script")
    page.get_by_role("button", name="Create token").click()
    raw = page.locator("#new-token").inner_text()
    assert re.fullmatch(r"sgp_[\w-]{40,}", raw)
    token = ApiToken.objects.get(description="Deploy script")
    assert token.token_hash == hash_token(raw)

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("cell", name=re.compile("^Revoked"))).to_be_visible()
    token.refresh_from_db()
    assert token.revoked_at is not None
    expect(page.locator("#new-token")).to_have_count(0)


def test_owner_changes_a_role_in_place(signed_in, owner, workspace, member_user):
    page = signed_in(owner)
    page.goto(f"/w/{workspace.slug}/settings/members/")
    with page.expect_response(lambda r: r.request.method == "POST" and "/members/" in r.url):
        page.get_by_label(f"Role of {member_user.email}").select_option("read_only")
    expect(page.get_by_label(f"Role of {member_user.email}")).to_have_value("read_only")
    membership = Membership.objects.get(user=member_user)
    assert membership.role == Role.READ_ONLY


def test_read_only_user_sees_no_change_controls(signed_in, workspace, read_only_user):
    page = signed_in(read_only_user)
    page.goto(f"/w/{workspace.slug}/settings/tokens/")
    expect(page.get_by_role("button", name="Create token")).to_have_count(0)
    expect(page.get_by_text("Only workspace owners can create and revoke tokens.")).to_be_visible()


def test_worker_ping_polls_until_answered_or_keeps_waiting(signed_in, owner, workspace):
    # No worker runs in this test: the page must show it is still waiting, not a false answer.
    page = signed_in(owner)
    page.goto(f"/w/{workspace.slug}/settings/system/")
    page.get_by_role("button", name="Ping a worker").click()
    expect(page.get_by_text("Waiting for a worker")).to_be_visible()


def test_owner_chooses_the_archives_retention_within_the_servers_maximum(
    signed_in, owner, workspace, settings, tmp_path
):
    settings.ARCHIVE_MAX_RETENTION_DAYS = 90
    page = signed_in(owner)
    page.goto(f"/w/{workspace.slug}/settings/")
    field = page.get_by_label("Event archive retention (days)")
    field.fill("365")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Choose between 1 and 90 days")).to_be_visible()
    page.get_by_label("Event archive retention (days)").fill("7")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    workspace.refresh_from_db()
    assert workspace.retention_days == 7
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=tmp_path / f"general-settings-{width}.png", full_page=True)
        shots = os.environ.get("SEGAPP_SCREENSHOT_DIR")
        if shots:
            page.screenshot(path=f"{shots}/general-settings-{width}.png", full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
