"""Role enforcement on every console endpoint, and workspace isolation."""

import pytest
from django.urls import reverse

from segapp.models import ApiToken, Membership, Role
from tests.factories import make_token, make_user, make_workspace
from tests.urlwalk import workspace_paths

OWNER_ONLY_CHANGES = {
    "settings-general": {},
    "member-list": {},
    "member-update": {"membership_id": 1},
    "member-delete": {"membership_id": 1},
    "token-list": {},
    "token-revoke": {"token_id": "x"},
}


def test_route_walk_finds_every_workspace_page(workspace):
    paths = workspace_paths(workspace.slug)
    assert f"/w/{workspace.slug}/settings/tokens/" in paths
    assert len(paths) >= 9


def test_read_only_gets_403_on_every_change(workspace, read_only_user, client_as):
    client = client_as(read_only_user)
    for path in workspace_paths(workspace.slug):
        response = client.post(path, {"name": "x", "role": "owner", "description": "x"})
        assert response.status_code == 403, path


def test_read_only_sees_every_page(workspace, read_only_user, client_as):
    client = client_as(read_only_user)
    for name in [
        "workspace-overview",
        "settings-general",
        "member-list",
        "token-list",
        "system-status",
    ]:
        response = client.get(reverse(f"segapp:{name}", args=[workspace.slug]))
        assert response.status_code == 200, name


def test_read_only_changes_nothing(workspace, owner, read_only_user, client_as):
    client_as(read_only_user).post(
        reverse("segapp:settings-general", args=[workspace.slug]),
        {"name": "Hacked", "plan": "business"},
    )
    workspace.refresh_from_db()
    assert (workspace.name, workspace.plan) == ("Acme", "free")


@pytest.mark.parametrize("name", sorted(OWNER_ONLY_CHANGES))
def test_member_cannot_manage_members_tokens_or_plan(name, workspace, member_user, client_as):
    url = reverse(
        f"segapp:{name}", kwargs={"workspace_slug": workspace.slug, **OWNER_ONLY_CHANGES[name]}
    )
    assert (
        client_as(member_user).post(url, {"description": "mine", "role": "owner"}).status_code
        == 403
    )
    assert not ApiToken.objects.filter(description="mine").exists()


def test_member_may_ping_the_worker(workspace, member_user, client_as):
    response = client_as(member_user).post(reverse("segapp:worker-ping", args=[workspace.slug]))
    assert response.status_code == 302
    assert workspace.worker_pings.count() == 1


def test_outsider_gets_404_on_every_page_of_another_workspace(workspace, client_as):
    outsider = make_user()
    make_workspace(outsider, "Elsewhere")
    client = client_as(outsider)
    for path in workspace_paths(workspace.slug):
        assert client.get(path).status_code in (404, 405), path
        assert client.post(path).status_code == 404, path


def test_owner_cannot_touch_another_workspaces_token_or_member(workspace, client_as):
    other = make_workspace(name="Other")
    token, _ = make_token(other)
    other_membership = Membership.objects.get(workspace=other)
    client = client_as(workspace.memberships.get().user)
    assert (
        client.post(reverse("segapp:token-revoke", args=[workspace.slug, token.pk])).status_code
        == 404
    )
    url = reverse("segapp:member-delete", args=[workspace.slug, other_membership.pk])
    assert client.post(url).status_code == 404
    token.refresh_from_db()
    assert token.is_active and Membership.objects.filter(pk=other_membership.pk).exists()


def test_workspace_switcher_lists_only_my_workspaces(workspace, owner, client_as):
    make_workspace(name="Not mine")
    second = make_workspace(owner, "Second")
    page = client_as(owner).get(reverse("segapp:workspace-overview", args=[workspace.slug]))
    assert b"Second" in page.content and b"Not mine" not in page.content
    assert client_as(owner).get(f"/w/{second.slug}/").status_code == 200


def test_anonymous_is_sent_to_sign_in(workspace, client):
    response = client.get(f"/w/{workspace.slug}/")
    assert response.status_code == 302 and response.url.startswith(reverse("segapp:login"))


def test_last_owner_cannot_be_demoted(workspace, owner, client_as):
    membership = Membership.objects.get(workspace=workspace, user=owner)
    client_as(owner).post(
        reverse("segapp:member-update", args=[workspace.slug, membership.pk]), {"role": "member"}
    )
    membership.refresh_from_db()
    assert membership.role == Role.OWNER
