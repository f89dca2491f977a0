"""The request log names the page without the credentials some URLs carry."""

import logging

import pytest
from django.urls import reverse

from segapp.models import Role
from segapp.workspaces import add_member


def logged_paths(caplog) -> list[str]:
    return [r.path for r in caplog.records if r.name == "segapp.request"]


@pytest.fixture
def invitation_path(workspace, owner):
    _, path = add_member(workspace, "new@example.com", Role.MEMBER, owner)
    return path


def test_invitation_link_is_logged_without_its_token(client, invitation_path, caplog):
    token = invitation_path.rstrip("/").rsplit("/", 1)[-1]
    with caplog.at_level(logging.INFO, logger="segapp.request"):
        client.get(invitation_path)
        client.post(invitation_path, {"new_password1": "x", "new_password2": "y"})
    assert logged_paths(caplog) == ["/invitations/<str:token>/"] * 2
    assert token not in caplog.text


def test_unknown_link_that_looks_like_a_credential_is_redacted(client, db, caplog):
    with caplog.at_level(logging.INFO, logger="segapp.request"):
        client.get("/reset/NQ/dj2ao0-f5b54e3e4d1ad6c5e44e2f6786da83f2/")
        client.get("/invitations/some-guessed-token/extra/")
    assert logged_paths(caplog) == ["/reset/***", "/invitations/***"]
    assert "f5b54e3e" not in caplog.text and "guessed" not in caplog.text


def test_ordinary_pages_are_logged_by_their_path(client_as, owner, workspace, caplog):
    with caplog.at_level(logging.INFO, logger="segapp.request"):
        client_as(owner).get(reverse("segapp:member-list", args=[workspace.slug]))
    assert logged_paths(caplog) == [f"/w/{workspace.slug}/settings/members/"]
