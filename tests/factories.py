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
    return create_source(
        workspace, metadata, actor=None, name=name or f"{metadata.name} {next(_seq)}"
    )


SAMPLE_VALUES = {
    "string": "sample",
    "text": "sample text",
    "boolean": True,
    "number": 1,
    "array": ["http://127.0.0.1:9/hook"],
    "map": {"X-Sample": "1"},
}


def _sample(option: dict):
    if option["type"] == "select":
        return option["choices"][0]
    if option.get("format") == "url" and option["type"] == "string":
        return "http://127.0.0.1:9/hook"
    return SAMPLE_VALUES[option["type"]]


def required_settings(metadata) -> dict:
    """Valid values for every required setting of a catalog entry."""
    return {o["name"]: _sample(o) for o in metadata.options if o.get("required")}


def make_instance(
    source, slug: str = "webhooks", name: str = "", settings: dict | None = None, **kwargs
):
    """An instance created through the real operation (and its rules)."""
    from catalog.models import DestinationMetadata
    from connections.instances import create_instance

    metadata = DestinationMetadata.objects.get(slug=slug)
    values = {**required_settings(metadata), **(settings or {})}
    return create_instance(source, metadata, None, name=name, settings=values, **kwargs)
