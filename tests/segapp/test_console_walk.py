"""Every console route, walked from the URL conf with workspace A's real ids and every method:
B's owner is refused everywhere (A's slug, B's slug with A's ids, B's parents with A's child),
A's read-only member reads every page and changes nothing, and no request is a server error.

A route added later is walked too; one whose parameter this module cannot fill fails
``test_every_route_parameter_has_a_real_value`` until the parameter is added below."""

from urllib.parse import urlencode

import pytest
from django.test import Client

from tests.snapshots import workspace_rows
from tests.urlwalk import fill, route_parameters, workspace_routes

# A route parameter → the object of ``make_one_of_everything`` it names, and the attribute used.
OBJECT_PARAMETERS = {
    "workspace_slug": ("workspace", "slug"),
    "source_id": ("source", "pk"),
    "key_id": ("write_key", "pk"),
    "instance_id": ("instance", "pk"),
    "filter_id": ("filter", "pk"),
    "transformation_id": ("transformation", "pk"),
    "version_id": ("settings_version", "pk"),
    "job_id": ("dead_letter", "pk"),
    "membership_id": ("membership", "pk"),
    "token_id": ("token", "pk"),
    "warehouse_id": ("warehouse", "pk"),
    "field_id": ("field", "pk"),
    "matcher_id": ("matcher", "pk"),
}
# Catalog entries every workspace shares: not A's data.
CATALOG_PARAMETERS = {
    "catalog_slug": "javascript",
    "slug": "webhooks",
    "tab": "destinations",
    "entry_slug": "postgres",
}

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
CHANGES = METHODS[1:]
# One form for every change: each field some form reads, valid where it can be, so a request that
# got past an access check would change something.
FORM = {
    "name": "Taken over", "slug": "taken-over", "description": "Taken over", "title": "Taken over",
    "role": "owner", "plan": "business", "enabled": "on", "mode": "cloud",
    "condition": "event = 'x'", "target": "track", "drops": "email", "sample_event": "{}",
    "every_minutes": "60", "timezone": "UTC", "collection": "tracks", "action": "save",
}  # fmt: skip
REFUSED = {403, 404, 405}
ROUTES = workspace_routes()

pytestmark = pytest.mark.django_db


def object_parameters(route: str) -> list[str]:
    return [p for p in route_parameters(route) if p in OBJECT_PARAMETERS and p != "workspace_slug"]


def b_owner_cases():
    """(variant, method, route): "A's slug" for every route; with B's own slug, "A's ids" for
    every route naming an object, and "A's child" (B's parents) for routes naming two or more."""
    for route in ROUTES:
        named = object_parameters(route)
        variants = ["A's slug"] + ["A's ids"] * bool(named) + ["A's child"] * (len(named) > 1)
        for variant in variants:
            for method in METHODS:
                yield pytest.param(variant, method, route, id=f"{variant} {method} /{route}")


def values_for(route: str, a: dict, b: dict, variant: str) -> dict:
    """Each parameter of the route: A's object, B's where the variant says, or a catalog entry."""
    named = object_parameters(route)
    values = {}
    for name in route_parameters(route):
        if name in CATALOG_PARAMETERS:
            values[name] = CATALOG_PARAMETERS[name]
            continue
        key, attribute = OBJECT_PARAMETERS[name]  # unknown: see the parameter test below
        own = (name == "workspace_slug" and variant != "A's slug") or (
            variant == "A's child" and name in named[:-1]
        )
        values[name] = getattr((b if own else a)[key], attribute)
    return values


def send(client: Client, method: str, path: str):
    if method == "GET":
        return client.get(path)
    return client.generic(method, path, urlencode(FORM), "application/x-www-form-urlencoded")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_every_route_parameter_has_a_real_value():
    known = OBJECT_PARAMETERS.keys() | CATALOG_PARAMETERS.keys()
    unknown = {(p, route) for route in ROUTES for p in route_parameters(route) if p not in known}
    assert not unknown, f"Name the object each stands for in OBJECT_PARAMETERS: {unknown}"
    assert len(ROUTES) >= 45


@pytest.mark.parametrize(("variant", "method", "route"), list(b_owner_cases()))
def test_another_workspaces_owner_is_refused(
    workspaces_a_and_b, workspace_a_rows, variant, method, route
):
    a, b = workspaces_a_and_b
    path = fill(route, values_for(route, a, b, variant))
    response = send(signed_in(b["owner"]), method, path)
    assert response.status_code in REFUSED, (path, response.status_code)
    assert workspace_rows(a["workspace"]) == workspace_a_rows


@pytest.mark.parametrize(
    ("method", "route"),
    [pytest.param(m, r, id=f"{m} /{r}") for r in ROUTES for m in METHODS],
)
def test_read_only_member_reads_every_page_and_changes_nothing(
    workspaces_a_and_b, workspace_a_rows, method, route
):
    a, b = workspaces_a_and_b
    path = fill(route, values_for(route, a, b, "A's slug"))
    response = send(signed_in(a["read_only_user"]), method, path)
    if method == "GET" and response.status_code == 405:
        assert "GET" not in response["Allow"], path  # a route for changes only
    elif method == "GET":
        assert response.status_code == 200, (path, response.status_code)
    else:
        assert response.status_code in REFUSED, (path, response.status_code)
    assert workspace_rows(a["workspace"]) == workspace_a_rows
