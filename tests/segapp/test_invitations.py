"""Invitation links are credentials: only the person invited receives one, once, for a new
account. Adding someone who already has an account never hands out a way into it."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from segapp.models import AuditEntry, Invitation, Membership, Role, User
from tests.factories import PASSWORD, make_user, make_workspace

NEW_PASSWORD = "a-long-new-password"


def invitation_link(page) -> str | None:
    """The one-time link shown on the members page, as a path, or None."""
    found = re.search(
        r'<code class="secret">http://testserver(/[^<]+)</code>', page.content.decode()
    )
    return found.group(1) if found else None


def add_member(client, workspace, email, role="member"):
    url = reverse("segapp:member-list", args=[workspace.slug])
    return client.post(url, {"email": email, "role": role})


def set_password(link, password=NEW_PASSWORD) -> Client:
    """Opens ``link`` in a fresh browser and chooses ``password``; returns that browser."""
    browser = Client()
    response = browser.get(link, follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else link
    browser.post(form_url, {"new_password1": password, "new_password2": password})
    return browser


def can_sign_in(email, password=NEW_PASSWORD) -> bool:
    return Client().login(username=email, password=password)


@pytest.fixture
def invited(workspace, owner, client_as):
    """A person the owner of Acme invited: (their email, the link Acme's owner received)."""
    link = invitation_link(add_member(client_as(owner), workspace, "new@example.com"))
    assert link
    return "new@example.com", link


def test_invitation_link_lets_the_new_person_choose_a_password_once(invited, workspace):
    email, link = invited
    set_password(link)
    assert can_sign_in(email)
    set_password(link, "another-long-password")  # a used link is spent
    assert not can_sign_in(email, "another-long-password")
    invitation = Invitation.objects.get(user__email=email)
    assert invitation.accepted_at is not None
    assert AuditEntry.objects.filter(workspace=workspace, action="member.joined").exists()


def test_outside_owner_adding_a_pending_invitee_gets_no_link(invited, client_as):
    email, original_link = invited
    attacker = make_user("attacker@example.com")
    their_workspace = make_workspace(attacker, "Attacker's")
    page = add_member(client_as(attacker), their_workspace, email)
    assert "added" in page.content.decode()
    assert invitation_link(page) is None
    assert Membership.objects.filter(workspace=their_workspace, user__email=email).exists()
    # The invitee's own link still works, and only theirs.
    set_password(original_link)
    assert can_sign_in(email)


def test_read_only_member_of_the_inviting_workspace_gets_no_link(
    invited, workspace, read_only_user, client_as
):
    email, original_link = invited
    as_reader = client_as(read_only_user)
    their_workspace = make_workspace(read_only_user, "Reader's")
    assert invitation_link(add_member(as_reader, their_workspace, email)) is None
    pending = Membership.objects.get(workspace=workspace, user__email=email)
    reissue = reverse("segapp:member-invite", args=[workspace.slug, pending.pk])
    assert as_reader.post(reissue).status_code == 403
    set_password(original_link)
    assert can_sign_in(email)


def test_outside_owner_cannot_issue_a_new_link_for_someone_invited_elsewhere(invited, client_as):
    email, original_link = invited
    attacker = make_user("attacker@example.com")
    their_workspace = make_workspace(attacker, "Attacker's")
    add_member(client_as(attacker), their_workspace, email)
    membership = Membership.objects.get(workspace=their_workspace, user__email=email)
    url = reverse("segapp:member-invite", args=[their_workspace.slug, membership.pk])
    page = client_as(attacker).post(url)
    assert invitation_link(page) is None
    assert "only the workspace that invited them" in page.content.decode()
    set_password(original_link)
    assert can_sign_in(email)


def test_existing_account_is_added_without_a_link(workspace, owner, client_as):
    person = make_user("person@example.com")
    page = add_member(client_as(owner), workspace, person.email)
    assert invitation_link(page) is None
    assert Membership.objects.filter(workspace=workspace, user=person).exists()
    assert not Invitation.objects.filter(user=person).exists()
    assert can_sign_in(person.email, PASSWORD)


def test_a_new_link_replaces_the_old_one(invited, workspace, owner, client_as):
    email, old_link = invited
    pending = Membership.objects.get(workspace=workspace, user__email=email)
    url = reverse("segapp:member-invite", args=[workspace.slug, pending.pk])
    new_link = invitation_link(client_as(owner).post(url))
    assert new_link and new_link != old_link
    set_password(old_link)
    assert not can_sign_in(email)
    set_password(new_link)
    assert can_sign_in(email)
    assert AuditEntry.objects.filter(action="member.invited", object_id=str(pending.pk)).exists()


def test_no_new_link_once_the_person_has_a_password(invited, workspace, owner, client_as):
    email, link = invited
    set_password(link)
    pending = Membership.objects.get(workspace=workspace, user__email=email)
    url = reverse("segapp:member-invite", args=[workspace.slug, pending.pk])
    page = client_as(owner).post(url)
    assert invitation_link(page) is None
    assert "already chose a password" in page.content.decode()


def test_expired_link_is_refused(invited):
    email, link = invited
    Invitation.objects.filter(user__email=email).update(
        expires_at=Invitation.objects.get(user__email=email).created_at - timedelta(seconds=1)
    )
    page = Client().get(link, follow=True)
    assert "already been used or has expired" in page.content.decode()
    set_password(link)
    assert not can_sign_in(email)


def test_admin_adding_a_pending_invitee_goes_through_the_same_operation(invited, db):
    email, original_link = invited
    staff = User.objects.create_superuser("support@example.com", "pw")
    other = make_workspace(make_user(), "Other")
    client = Client()
    client.force_login(staff)
    invitee = User.objects.get(email=email)
    page = client.post(
        reverse("admin:segapp_membership_add"),
        {"user": invitee.pk, "workspace": other.pk, "role": Role.MEMBER},
        follow=True,
    )
    assert page.status_code == 200
    assert Membership.objects.filter(workspace=other, user=invitee).exists()
    assert AuditEntry.objects.filter(workspace=other, action="member.added").exists()
    assert Invitation.objects.filter(user=invitee).count() == 1
    set_password(original_link)
    assert can_sign_in(email)


def test_admin_shows_invitations_without_their_token(invited, db):
    email, link = invited
    staff = User.objects.create_superuser("support@example.com", "pw")
    client = Client()
    client.force_login(staff)
    listing = client.get(reverse("admin:segapp_invitation_changelist"), {"q": "new@"})
    assert listing.status_code == 200 and email in listing.content.decode()
    invitation = Invitation.objects.get(user__email=email)
    detail = client.get(reverse("admin:segapp_invitation_change", args=[invitation.pk]))
    token = link.rstrip("/").rsplit("/", 1)[-1]
    assert token not in detail.content.decode()
    assert invitation.token_hash not in detail.content.decode()
