import re

from django.urls import reverse

from segapp.models import ApiToken, AuditEntry, Membership, Role, hash_token


def test_owner_creates_token_shown_once_and_stored_hashed(workspace, owner, client_as):
    client = client_as(owner)
    url = reverse("segapp:token-list", args=[workspace.slug])
    page = client.post(url, {"description": "CI script", "role": "member"}).content.decode()
    raw = re.search(r'id="new-token">(sgp_[^<]+)<', page).group(1)
    token = ApiToken.objects.get(workspace=workspace)
    assert token.token_hash == hash_token(raw) and raw not in token.token_hash
    assert (token.role, token.created_by) == (Role.MEMBER, owner)
    assert raw not in client.get(url).content.decode()  # never shown again
    assert AuditEntry.objects.filter(action="token.created", object_id=token.pk).exists()


def test_revoked_token_is_marked_and_audited(workspace, owner, client_as, api_token):
    token, _ = api_token
    client_as(owner).post(reverse("segapp:token-revoke", args=[workspace.slug, token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEntry.objects.filter(action="token.revoked", actor_user=owner).exists()


def test_adding_a_new_person_gives_a_set_password_link_that_works(
    workspace, owner, client_as, client
):
    page = (
        client_as(owner)
        .post(
            reverse("segapp:member-list", args=[workspace.slug]),
            {"email": "New@Example.com", "role": "read_only"},
        )
        .content.decode()
    )
    link = re.search(r"http://testserver(/invitations/[^<]+)<", page).group(1)
    membership = Membership.objects.get(workspace=workspace, user__email="new@example.com")
    assert membership.role == Role.READ_ONLY
    client.post(
        link, {"new_password1": "a-long-new-password", "new_password2": "a-long-new-password"}
    )
    assert client.login(username="new@example.com", password="a-long-new-password")


def test_duplicate_member_is_refused_with_a_message(workspace, owner, client_as):
    page = client_as(owner).post(
        reverse("segapp:member-list", args=[workspace.slug]),
        {"email": owner.email, "role": "member"},
    )
    assert "already a member" in page.content.decode()
    assert workspace.memberships.count() == 1
