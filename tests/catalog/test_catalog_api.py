import json
import subprocess

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.loader import load_catalog
from catalog.models import DestinationMetadata, SourceMetadata
from tests.catalog.generated import write_catalog
from tests.processes import REPO


@pytest.fixture
def api(client, api_token):
    _, raw = api_token

    def get(path, **params):
        return client.get(f"/api{path}", params, headers={"Authorization": f"Bearer {raw}"})

    return get


def walk(api, path, key, count):
    """Every item of a paginated list, following the `next` cursors."""
    items, params, pages = [], {"pagination.count": count}, 0
    while True:
        body = api(path, **params).json()["data"]
        items += body[key]
        pages += 1
        if not body["pagination"]["next"]:
            return items, body["pagination"], pages
        params["pagination.cursor"] = body["pagination"]["next"]


def test_destination_catalog_pages_through_every_entry(catalog, api):
    items, pagination, pages = walk(api, "/catalog/destinations", "destinationsCatalog", 25)
    expected = DestinationMetadata.objects.exclude(kind="warehouse").count()
    assert len(items) == len({i["id"] for i in items}) == expected == pagination["totalEntries"]
    assert pages == -(-expected // 25)
    assert pagination["previous"]


def test_warehouses_and_sources_have_their_own_lists(catalog, api):
    warehouses = api("/catalog/warehouses").json()["data"]["warehousesCatalog"]
    assert {w["name"] for w in warehouses} == {"BigQuery", "Postgres", "Redshift", "Snowflake"}
    sources = api("/catalog/sources", **{"pagination.count": 200}).json()["data"]
    assert sources["pagination"]["totalEntries"] == SourceMetadata.objects.count()


def test_get_one_entry_and_unknown_id(catalog, api):
    entry = DestinationMetadata.objects.get(slug="webhooks")
    data = api(f"/catalog/destinations/{entry.pk}").json()["data"]["destinationMetadata"]
    assert data["name"] == "Webhooks" and data["logos"]["default"].endswith(
        "/catalog/logos/webhooks.svg"
    )
    assert {o["name"] for o in data["options"]} >= {"webhookUrls", "headers", "sharedSecret"}
    missing = api("/catalog/destinations/000000000000000000000000")
    assert missing.status_code == 404 and missing.json()["errors"][0]["type"] == "not-found"


def test_bad_pagination_is_422_naming_the_field(catalog, api):
    response = api("/catalog/destinations", **{"pagination.count": "0"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "pagination.count"
    response = api("/catalog/destinations", **{"pagination.cursor": "garbage!"})
    assert (
        response.status_code == 422 and response.json()["errors"][0]["field"] == "pagination.cursor"
    )


def test_catalog_needs_a_token(catalog, client):
    assert client.get("/api/catalog/destinations").status_code == 401


def test_every_entry_matches_the_official_sdk_models(catalog, api):
    values = []
    for path, key, model, one_key, one_model in [
        ("/catalog/destinations", "destinationsCatalog", "DestinationMetadataV1", "destinationMetadata", "GetDestinationMetadataV1Output"),
        ("/catalog/sources", "sourcesCatalog", "SourceMetadataV1", "sourceMetadata", "GetSourceMetadataV1Output"),
        ("/catalog/warehouses", "warehousesCatalog", "WarehouseMetadataV1", "warehouseMetadata", "GetWarehouseMetadataV1Output"),
    ]:  # fmt: skip
        items, pagination, _ = walk(api, path, key, 200)
        values += [
            {"model": model, "value": item, "label": f"{path}/{item['slug']}"} for item in items
        ]
        values.append(
            {"model": "PaginationOutput", "value": pagination, "label": f"{path} pagination"}
        )
        one = api(f"{path}/{items[0]['id']}").json()["data"]
        assert one[one_key]["id"] == items[0]["id"]
        values.append({"model": one_model, "value": one, "label": f"{path}/{{id}}"})
    values.append({"model": "GetWorkspaceV1Output", "value": api("/").json()["data"], "label": "/"})
    result = subprocess.run(
        ["node", "validate_models.js"], cwd=REPO / "tests" / "clients", input=json.dumps(values),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[:3000] + result.stderr
    assert f"checked {len(values)} values, 0 problems" in result.stderr


def test_list_queries_do_not_grow_with_the_catalog(db, api, tmp_path):
    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert api("/catalog/destinations", **{"pagination.count": 1000}).status_code == 200
        return len(ctx.captured_queries)

    load_catalog(write_catalog(tmp_path / "small", destinations=1))
    small = queries()
    load_catalog(write_catalog(tmp_path / "big", destinations=500))
    # token lookup, token last-used update (first call only), rate-limit count, count, page
    assert queries() <= small <= 5
