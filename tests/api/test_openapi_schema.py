"""The OpenAPI schema validates without warnings, lists every endpoint under Segment's operation
names, and its Swagger UI page is served from our own static files, linked from the console."""

import io

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.urls import reverse

ENDPOINTS = {
    ("get", "/api/"): "getWorkspace",
    ("get", "/api/catalog/destinations"): "getDestinationsCatalog",
    ("get", "/api/catalog/destinations/{id}"): "getDestinationMetadata",
    ("get", "/api/catalog/sources"): "getSourcesCatalog",
    ("get", "/api/catalog/sources/{id}"): "getSourceMetadata",
    ("get", "/api/catalog/warehouses"): "getWarehousesCatalog",
    ("get", "/api/catalog/warehouses/{id}"): "getWarehouseMetadata",
    ("get", "/api/sources"): "listSources",
    ("post", "/api/sources"): "createSource",
    ("get", "/api/sources/{sourceId}"): "getSource",
    ("patch", "/api/sources/{sourceId}"): "updateSource",
    ("delete", "/api/sources/{sourceId}"): "deleteSource",
    ("post", "/api/sources/{sourceId}/writekey"): "createWriteKeyForSource",
    ("delete", "/api/sources/{sourceId}/writekey/{writeKey}"): "removeWriteKeyFromSource",
    ("get", "/api/sources/{sourceId}/connected-destinations"): "listConnectedDestinationsFromSource",
    ("get", "/api/destinations"): "listDestinations",
    ("post", "/api/destinations"): "createDestination",
    ("get", "/api/destinations/{destinationId}"): "getDestination",
    ("patch", "/api/destinations/{destinationId}"): "updateDestination",
    ("delete", "/api/destinations/{destinationId}"): "deleteDestination",
    ("post", "/api/workspaces/{workspaceSlug}/sources/{sourceSlug}/destinations"): "createConfigApiDestination",
    ("get", "/api/destination/{destinationId}/filters"): "listFiltersFromDestination",
    ("post", "/api/destination/{destinationId}/filters"): "createFilterForDestination",
    ("get", "/api/destination/{destinationId}/filters/{filterId}"): "getFilterInDestination",
    ("patch", "/api/destination/{destinationId}/filters/{filterId}"): "updateFilterForDestination",
    ("delete", "/api/destination/{destinationId}/filters/{filterId}"): "removeFilterFromDestination",
    ("post", "/api/destination/filters/preview"): "previewDestinationFilter",
    ("get", "/api/destinations/{destinationId}/delivery-metrics"): "listDeliveryMetricsSummaryFromDestination",
    ("get", "/api/destinations/{destinationId}/replays"): "listReplaysFromDestination",
    ("post", "/api/destinations/{destinationId}/replays"): "createReplayForDestination",
    ("post", "/api/destinations/{destinationId}/replays/preview"): "previewReplayForDestination",
    ("get", "/api/destinations/{destinationId}/replays/{replayId}"): "getReplayInDestination",
    ("post", "/api/destinations/{destinationId}/replays/{replayId}/cancel"): "cancelReplayInDestination",
    ("get", "/api/audit-events"): "listAuditEvents",
    ("get", "/api/delivery-overview/successfully-received"): "getIngressSuccessMetricsFromDeliveryOverview",
    ("get", "/api/delivery-overview/failed-on-ingest"): "getIngressFailedMetricsFromDeliveryOverview",
    ("get", "/api/delivery-overview/filtered-at-source"): "getFilteredAtSourceMetricsFromDeliveryOverview",
    ("get", "/api/delivery-overview/filtered-at-destination"): "getFilteredAtDestinationMetricsFromDeliveryOverview",
    ("get", "/api/delivery-overview/failed-delivery"): "getEgressFailedMetricsFromDeliveryOverview",
    ("get", "/api/delivery-overview/successful-delivery"): "getEgressSuccessMetricsFromDeliveryOverview",
    ("get", "/api/events/volume"): "getEventsVolumeFromWorkspace",
    ("get", "/api/sources/{sourceId}/connected-warehouses"): "listConnectedWarehousesFromSource",
    ("get", "/api/warehouses"): "listWarehouses",
    ("post", "/api/warehouses"): "createWarehouse",
    ("get", "/api/warehouses/{warehouseId}"): "getWarehouse",
    ("patch", "/api/warehouses/{warehouseId}"): "updateWarehouse",
    ("delete", "/api/warehouses/{warehouseId}"): "deleteWarehouse",
    ("post", "/api/warehouses/validation"): "createValidationInWarehouse",
    ("get", "/api/warehouses/{warehouseId}/connection-state"): "getConnectionStateFromWarehouse",
    ("get", "/api/warehouses/{warehouseId}/connected-sources"): "listConnectedSourcesFromWarehouse",
    ("post", "/api/warehouses/{warehouseId}/connected-sources/{sourceId}"): "addConnectionFromSourceToWarehouse",
    ("delete", "/api/warehouses/{warehouseId}/connected-sources/{sourceId}"): "removeSourceConnectionFromWarehouse",
    ("get", "/api/warehouses/{warehouseId}/syncs"): "listSyncsFromWarehouse",
    ("post", "/api/warehouses/{warehouseId}/syncs"): "createSyncForWarehouse",
    ("get", "/api/warehouses/{warehouseId}/connected-sources/{sourceId}/syncs"): "listSyncsFromWarehouseAndSource",
    ("get", "/api/warehouses/{warehouseId}/advanced-sync-schedule"): "getAdvancedSyncScheduleFromWarehouse",
    ("put", "/api/warehouses/{warehouseId}/advanced-sync-schedule"): "replaceAdvancedSyncScheduleForWarehouse",
    ("patch", "/api/warehouses/{warehouseId}/selective-sync"): "updateSelectiveSyncForWarehouse",
    ("get", "/api/warehouses/{warehouseId}/connected-sources/{sourceId}/selective-syncs"): "listSelectiveSyncsFromWarehouseAndSource",
    ("get", "/api/regulations"): "listWorkspaceRegulations",
    ("post", "/api/regulations"): "createWorkspaceRegulation",
    ("get", "/api/regulations/sources/{sourceId}"): "listRegulationsFromSource",
    ("post", "/api/regulations/sources/{sourceId}"): "createSourceRegulation",
    ("get", "/api/regulations/{regulationId}"): "getRegulation",
    ("delete", "/api/regulations/{regulationId}"): "deleteRegulation",
    ("get", "/api/suppressions"): "listSuppressions",
}  # fmt: skip


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    out = io.StringIO()
    with django_db_blocker.unblock():
        # Raises (exit status 1) on any error or warning.
        call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    return yaml.safe_load(out.getvalue())


def operations(schema):
    return {
        (method, path): operation
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    }


def test_schema_lists_every_endpoint_under_the_sdks_names(schema):
    found = {key: op["operationId"] for key, op in operations(schema).items()}
    assert found == ENDPOINTS


def test_every_endpoint_documents_its_body_errors_and_security(schema):
    for (method, path), op in operations(schema).items():
        responses = op["responses"]
        success = [code for code in responses if code.startswith("2")]
        assert len(success) == 1, (method, path)
        assert "content" in responses[success[0]], (method, path)
        # One {"data": …} envelope, lists included (never an array of envelopes).
        body = responses[success[0]]["content"]["application/json"]["schema"]
        assert "$ref" in body, (method, path, body)
        assert {"401", "429"} <= set(responses), (method, path)
        assert op["security"] == [{"token": []}], (method, path)
        if method != "get":
            assert "403" in responses, (method, path)
    assert schema["components"]["securitySchemes"]["token"]["scheme"] == "bearer"


def resolve(schema, ref_or_schema):
    ref = ref_or_schema.get("$ref")
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else ref_or_schema


def test_bodies_have_segments_shapes(schema):
    ops = operations(schema)
    create = ops[("post", "/api/destinations")]
    body = resolve(schema, create["requestBody"]["content"]["application/json"]["schema"])
    assert set(body["properties"]) == {"sourceId", "metadataId", "enabled", "name", "settings"}
    assert set(body["required"]) == {"sourceId", "metadataId", "settings"}
    ok = resolve(schema, create["responses"]["200"]["content"]["application/json"]["schema"])
    data = resolve(schema, ok["properties"]["data"])
    destination = resolve(schema, data["properties"]["destination"])
    assert set(destination["properties"]) == {
        "id", "name", "enabled", "metadata", "sourceId", "settings"
    }  # fmt: skip
    listing = ops[("get", "/api/sources")]
    assert {p["name"] for p in listing["parameters"]} == {"pagination.count", "pagination.cursor"}


def test_schema_and_docs_are_served_without_a_token(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200 and b"listSources" in response.content
    page = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")


def test_console_links_to_the_api_docs(client_as, owner, workspace):
    docs = reverse("api:docs")
    client = client_as(owner)
    tokens_page = client.get(reverse("segapp:token-list", args=[workspace.slug])).content.decode()
    assert tokens_page.count(f'href="{docs}"') == 2  # the navigation and the page itself
    overview = client.get(reverse("segapp:workspace-overview", args=[workspace.slug]))
    assert f'href="{docs}"' in overview.content.decode()
