"""Every Public API path of the OpenAPI schema (drf-spectacular, generated in-process), with every
method, walked with workspace A's real ids: B's owner token is refused on A's objects (A's ids,
and B's parents with A's child) and sees nothing of A elsewhere; A's read-only token reads every
operation and changes nothing; and no request is a server error.

A path added later is walked too; one whose parameter this module cannot fill fails
``test_every_path_parameter_has_a_real_value`` until the parameter is added below."""

import json
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from catalog.models import DestinationKind, DestinationMetadata, SourceMetadata
from tests.snapshots import workspace_rows

# A path or query parameter → the object of ``make_one_of_everything`` it names, and the attribute.
OBJECT_PARAMETERS = {
    "workspaceSlug": ("workspace", "slug"),
    "sourceId": ("source", "pk"),
    "sourceSlug": ("source", "slug"),
    "destinationId": ("instance", "pk"),
    "destinationConfigId": ("instance", "pk"),
    "filterId": ("filter", "pk"),
    "writeKey": ("write_key", "key"),
    "warehouseId": ("warehouse", "pk"),
    "replayId": ("replay", "pk"),
    "regulationId": ("regulation", "pk"),
}


def catalog_entry_id(path: str) -> str:
    """``/api/catalog/{kind}/{id}``: an entry every workspace shares, so not A's data."""
    kind = path.split("/")[3]
    if kind == "sources":
        return SourceMetadata.objects.order_by("pk").first().pk
    entries = DestinationMetadata.objects.order_by("pk")
    warehouse = DestinationKind.WAREHOUSE
    return (entries.filter(kind=warehouse) if kind == "warehouses" else entries.exclude(kind=warehouse)).first().pk  # fmt: skip


CATALOG_PARAMETERS = {"id": catalog_entry_id}


def granularity(path: str) -> str:
    """Delivery Overview spells its granularities in lower case, the other metrics in upper."""
    return "hour" if "/delivery-overview/" in path else "HOUR"


# A metrics window's parameters: the last hour, whatever the path. They name no object.
WINDOW_PARAMETERS = {
    "startTime": lambda path: (timezone.now() - timedelta(hours=1)).isoformat(),
    "endTime": lambda path: timezone.now().isoformat(),
    "granularity": granularity,
}

METHODS = ["get", "post", "put", "patch", "delete"]
REFUSED = {403, 404, 405}
PARAMETER = re.compile(r"\{(\w+)\}")
SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
PATHS = sorted(SCHEMA["paths"])

pytestmark = pytest.mark.django_db


def object_parameters(path: str) -> list[str]:
    """The objects a path names, parents first: in the path, or for a path naming none, in its
    GET's required query (Delivery Overview's ``sourceId`` and ``destinationConfigId``)."""
    named = [p for p in PARAMETER.findall(path) if p in OBJECT_PARAMETERS]
    return named or [p for p in required_query(path, "get") if p in OBJECT_PARAMETERS]


def required_query(path: str, method: str) -> list[str]:
    operation = SCHEMA["paths"][path].get(method, {})
    return [
        p["name"]
        for p in operation.get("parameters", [])
        if p["in"] == "query" and p.get("required")
    ]


def values_for(names: list[str], path: str, a: dict, b: dict, own: set[str]) -> dict:
    """Each parameter: B's object where named in ``own``, A's otherwise, or a catalog entry."""
    values = {}
    for name in names:
        if name in CATALOG_PARAMETERS or name in WINDOW_PARAMETERS:
            values[name] = {**CATALOG_PARAMETERS, **WINDOW_PARAMETERS}[name](path)
            continue
        key, attribute = OBJECT_PARAMETERS[name]  # unknown: see the parameter test below
        values[name] = getattr((b if name in own else a)[key], attribute)
    return values


def body(values: dict, a: dict) -> dict:
    """One body for every change: each field some operation reads, valid where it can be, so a
    request that got past an access check would change something."""
    hook = {"webhookUrls": ["http://127.0.0.1:9/taken"]}
    workspace = values.get("workspaceSlug", a["workspace"].slug)
    source = values.get("sourceSlug", a["source"].slug)
    name = f"workspaces/{workspace}/sources/{source}/destinations/webhooks"
    config = [{"name": f"{name}/config/webhookUrls", "value": hook["webhookUrls"]}]
    return {
        "name": "Taken over", "slug": "taken-over", "enabled": False, "title": "Taken over",
        "description": "Taken over", "if": "event = 'x'", "actions": [{"type": "DROP"}],
        "sourceId": values.get("sourceId", a["source"].pk), "settings": hook,
        "metadataId": DestinationMetadata.objects.get(slug="webhooks").pk,
        "destination": {"name": name, "config": config},
        "filter": {"if": "event = 'x'", "actions": []}, "payload": {"type": "track"},
    }  # fmt: skip


def call(raw_token: str, method: str, path: str, a: dict, b: dict, own: set[str] = frozenset()):
    names = PARAMETER.findall(path) + required_query(path, method)
    values = values_for(names, path, a, b, own)
    url = PARAMETER.sub(lambda match: str(values[match[1]]), path)
    query = {name: values[name] for name in required_query(path, method)}
    headers = {"Authorization": f"Bearer {raw_token}"}
    if method == "get":
        return url, Client().get(url, query, headers=headers)
    data = "" if method == "delete" else json.dumps(body(values, a))
    return url, Client().generic(method.upper(), url, data, "application/json", headers=headers)


def b_owner_cases():
    """(variant, method, path): "A's ids" for every path naming an object, "A's child" (B's
    parents) for paths naming two, and "B's own" (no object named) for the others."""
    for path in PATHS:
        named = object_parameters(path)
        variants = (["A's ids"] + ["A's child"] * (len(named) > 1)) if named else ["B's own"]
        for variant in variants:
            for method in METHODS:
                yield pytest.param(variant, method, path, id=f"{variant} {method.upper()} {path}")


def a_ids(a: dict) -> list[str]:
    keys = [
        "workspace",
        "source",
        "instance",
        "filter",
        "transformation",
        "token",
        "warehouse",
        "replay",
    ]
    return [a[key].pk for key in keys] + [a["write_key"].key]


def test_every_path_parameter_has_a_real_value():
    known = OBJECT_PARAMETERS.keys() | CATALOG_PARAMETERS.keys() | WINDOW_PARAMETERS.keys()
    names = {(n, p) for p in PATHS for m in METHODS for n in PARAMETER.findall(p) + required_query(p, m)}  # fmt: skip
    unknown = {(name, path) for name, path in names if name not in known}
    assert not unknown, f"Name the object each stands for in OBJECT_PARAMETERS: {unknown}"
    assert len(PATHS) >= 19


@pytest.mark.parametrize(("variant", "method", "path"), list(b_owner_cases()))
def test_another_workspaces_owner_token_is_refused(
    workspaces_a_and_b, workspace_a_rows, variant, method, path
):
    a, b = workspaces_a_and_b
    named = object_parameters(path)
    own = set(named[:-1]) if variant == "A's child" else set()
    url, response = call(b["owner_raw_token"], method, path, a, b, own)
    if variant == "B's own":
        assert response.status_code < 500, (url, response.status_code, response.content[:500])
        # An id the request sent may come back in an error naming it; anything else of A may not.
        sent = response.wsgi_request.body.decode()
        leaked = [i for i in a_ids(a) if i in response.content.decode() and i not in sent]
        assert not leaked, (url, leaked)
    else:
        assert response.status_code in REFUSED, (url, response.status_code, response.content[:500])
    assert workspace_rows(a["workspace"]) == workspace_a_rows


@pytest.mark.parametrize(
    ("method", "path"), [pytest.param(m, p, id=f"{m.upper()} {p}") for p in PATHS for m in METHODS]
)
def test_read_only_token_reads_every_operation_and_changes_nothing(
    workspaces_a_and_b, workspace_a_rows, method, path
):
    a, b = workspaces_a_and_b
    url, response = call(a["read_only_raw_token"], method, path, a, b)
    listed = method in SCHEMA["paths"][path]
    if method == "get" and listed:
        assert response.status_code == 200, (url, response.status_code, response.content[:500])
    elif method == "get":
        assert response.status_code == 405 and "GET" not in response["Allow"], url
    else:
        assert response.status_code in REFUSED, (url, response.status_code, response.content[:500])
    assert workspace_rows(a["workspace"]) == workspace_a_rows
