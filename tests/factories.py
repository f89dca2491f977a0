"""Test data made through our real operations, so tests see what users see."""

import itertools

from segapp import tokens, workspaces
from segapp.models import Membership, Plan, Role, User

_seq = itertools.count(1)
PASSWORD = "correct-horse-battery"


def make_user(email: str | None = None) -> User:
    return User.objects.create_user(email or f"user{next(_seq)}@example.com", PASSWORD)


def make_workspace(owner: User | None = None, name: str | None = None, plan: str = Plan.FREE):
    return workspaces.create_workspace(
        owner or make_user(), name or f"Workspace {next(_seq)}", plan
    )


def make_member(workspace, role: str = Role.MEMBER) -> User:
    user = make_user()
    owner = Membership.objects.filter(workspace=workspace, role=Role.OWNER).first().user
    workspaces.add_member(workspace, user.email, role, owner)
    return user


def make_token(workspace, role: str = Role.OWNER):
    return tokens.create_token(workspace, "test token", role, actor=None)


def make_source(workspace, slug: str = "javascript", name: str = ""):
    """A source from the catalog entry ``slug`` (the catalog must be loaded)."""
    from catalog.models import SourceMetadata
    from connections.sources import create_source

    metadata = SourceMetadata.objects.get(slug=slug)
    return create_source(workspace, metadata, actor=None, name=name or f"{metadata.name} {next(_seq)}")
