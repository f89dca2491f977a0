"""The warehouses Public API in Segment's shapes, against a real second PostgreSQL database: adding,
testing, changing and removing warehouses (the password always masked), connecting sources, the
plan rule, and who may do what."""

import pytest

from catalog.models import DestinationMetadata
from connections.models import MASK
from segapp.models import AuditEntry, Plan, Role
from tests.api.conftest import errors_of, validate_with_sdk
from tests.factories import make_workspace
from warehouses.models import Warehouse

CLOSED_PORT = 9  # the discard port: nothing listens on 127.0.0.1


def create(api, metadata, settings, **fields):
    return api.post("/warehouses", {"metadataId": metadata.pk, "settings": settings, **fields})


@pytest.fixture
def made(api, postgres, warehouse_db):
    """A warehouse added through the API, connected to the test's second database."""
    response = create(api, postgres, warehouse_db, name="Analytics")
    assert response.status_code == 201, response.content
    return response.json()["data"]["warehouse"]


def test_adds_reads_changes_and_deletes_a_warehouse_never_showing_the_password(
    api, postgres, warehouse_db, made, workspace
):
    password = warehouse_db["password"]
    assert made["metadata"]["slug"] == "postgres" and made["workspaceId"] == workspace.pk
    assert made["enabled"] is True
    assert made["settings"] == {
        "name": "Analytics", **warehouse_db, "password": MASK, "schemaPrefix": "",
    }  # fmt: skip
    stored = Warehouse.objects.get(pk=made["id"])
    assert stored.secrets == {"password": password} and "password" not in stored.settings

    path = f"/warehouses/{made['id']}"
    listed = api.get("/warehouses").json()["data"]
    got = api.get(path).json()["data"]
    # Sending back the settings read (the name and the mask included) keeps the password.
    renamed = api.patch(path, {"name": "BI", "enabled": False, "settings": got["warehouse"]["settings"] | {"database": warehouse_db["database"]}})  # fmt: skip
    assert renamed.status_code == 200, renamed.content
    assert renamed.json()["data"]["warehouse"]["settings"]["name"] == "BI"
    assert renamed.json()["data"]["warehouse"]["enabled"] is False
    state = api.get(f"{path}/connection-state").json()["data"]
    assert state == {"connectionState": "CONNECTED"}
    for body in (listed, got, renamed.json()["data"]):
        assert password not in str(body)
    assert listed["pagination"]["totalEntries"] == 1
    assert [w["id"] for w in listed["warehouses"]] == [made["id"]]

    bad = errors_of(api.patch(path, {"settings": {"port": "five"}}), 422)
    assert [e["field"] for e in bad] == ["settings.port"]
    unknown = errors_of(api.patch(path, {"settings": {"color": "red"}}), 422)
    assert [e["field"] for e in unknown] == ["settings.color"]

    deleted = api.delete(path)
    assert deleted.json() == {"data": {"status": "SUCCESS"}}
    assert errors_of(api.get(path), 404)[0]["type"] == "not-found"
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"warehouse.created", "warehouse.updated", "warehouse.deleted"} <= actions
    validate_with_sdk([
        {"model": "CreateWarehouseV1Output", "value": {"warehouse": made}},
        {"model": "ListWarehousesV1Output", "value": listed},
        {"model": "GetWarehouseV1Output", "value": got},
        {"model": "UpdateWarehouseV1Output", "value": renamed.json()["data"]},
        {"model": "DeleteWarehouseV1Output", "value": deleted.json()["data"]},
        {"model": "GetConnectionStateFromWarehouseV1Output", "value": state},
    ])  # fmt: skip


def test_free_workspace_is_refused_a_second_warehouse_and_business_is_not(
    api, api_as, postgres, warehouse_db, made
):
    refused = errors_of(create(api, postgres, warehouse_db), 409)
    assert refused[0]["type"] == "warehouse-plan-limit"
    assert "Business" in refused[0]["message"]
    assert Warehouse.objects.count() == 1

    business = api_as(ws=make_workspace(name="Big", plan=Plan.BUSINESS))
    for _ in range(2):
        assert create(business, postgres, warehouse_db).status_code == 201


def test_only_loadable_warehouses_can_be_added_or_tested(api, catalog, warehouse_db):
    snowflake = DestinationMetadata.objects.get(slug="snowflake")
    webhooks = DestinationMetadata.objects.get(slug="webhooks")
    for metadata, rule in [(snowflake, "warehouse-not-available"), (webhooks, "not-a-warehouse")]:
        for path in ("/warehouses", "/warehouses/validation"):
            body = {"metadataId": metadata.pk, "settings": warehouse_db}
            (error,) = errors_of(api.post(path, body), 422)
            assert (error["type"], error["field"]) == (rule, "metadataId"), path
    missing = errors_of(api.post("/warehouses", {"metadataId": "nope", "settings": {}}), 422)
    assert missing[0]["field"] == "metadataId"
    assert not Warehouse.objects.exists()


def test_validation_says_connected_or_failed_and_stores_nothing(api, postgres, warehouse_db):
    def validate(**changes):
        body = {"metadataId": postgres.pk, "settings": {**warehouse_db, **changes}}
        return api.post("/warehouses/validation", body)

    assert validate().json() == {"data": {"status": "CONNECTED"}}
    # The test server trusts 127.0.0.1 whatever the password: a user it lacks is refused instead.
    assert validate(username="nobody").json() == {"data": {"status": "FAILED"}}
    assert validate(port=CLOSED_PORT).json() == {"data": {"status": "FAILED"}}
    assert validate(database="no_such_db").json() == {"data": {"status": "FAILED"}}
    invalid = errors_of(validate(hostname="", port="x"), 422)
    assert {e["field"] for e in invalid} == {"settings.hostname", "settings.port"}
    assert not Warehouse.objects.exists()
    validate_with_sdk([{"model": "CreateValidationInWarehouseV1Output",
                        "value": validate().json()["data"]}])  # fmt: skip


def test_connection_state_tests_the_stored_settings(api, made):
    path = f"/warehouses/{made['id']}"
    assert api.get(f"{path}/connection-state").json()["data"]["connectionState"] == "CONNECTED"
    assert api.patch(path, {"settings": {"username": "nobody"}}).status_code == 200
    assert api.get(f"{path}/connection-state").json()["data"]["connectionState"] == "FAILED"


def test_connects_lists_and_disconnects_sources(api, made, source, foreign):
    path = f"/warehouses/{made['id']}/connected-sources"
    added = api.post(f"{path}/{source.pk}")
    assert (added.status_code, added.json()) == (201, {"data": {"status": "CONNECTED"}})
    again = errors_of(api.post(f"{path}/{source.pk}"), 409)
    assert again[0]["type"] == "warehouse-source-connected"
    errors_of(api.post(f"{path}/{foreign['source'].pk}"), 404)

    listed = api.get(path).json()["data"]
    assert [s["id"] for s in listed["sources"]] == [source.pk]
    assert listed["sources"][0]["writeKeys"] == [source.write_keys.get().key]
    connected = api.get(f"/sources/{source.pk}/connected-warehouses").json()["data"]
    assert [w["id"] for w in connected["warehouses"]] == [made["id"]]
    assert connected["warehouses"][0]["settings"]["password"] == MASK

    removed = api.delete(f"{path}/{source.pk}")
    assert removed.json() == {"data": {"status": "SUCCESS"}}
    assert errors_of(api.delete(f"{path}/{source.pk}"), 404)[0]["type"] == "not-found"
    assert api.get(path).json()["data"]["sources"] == []
    assert api.get(f"/sources/{source.pk}/connected-warehouses").json()["data"]["warehouses"] == []
    validate_with_sdk([
        {"model": "AddConnectionFromSourceToWarehouseV1Output", "value": added.json()["data"]},
        {"model": "ListConnectedSourcesFromWarehouseV1Output", "value": listed},
        {"model": "ListConnectedWarehousesFromSourceV1Output", "value": connected},
        {"model": "RemoveSourceConnectionFromWarehouseV1Output", "value": removed.json()["data"]},
    ])  # fmt: skip


def test_read_only_token_reads_warehouses_and_changes_nothing(
    api_as, postgres, warehouse_db, made, source
):
    reader = api_as(Role.READ_ONLY)
    path = f"/warehouses/{made['id']}"
    assert reader.get(path).status_code == 200
    assert reader.get(f"{path}/syncs").status_code == 200
    for response in (
        create(reader, postgres, warehouse_db),
        reader.patch(path, {"name": "Mine"}),
        reader.delete(path),
        reader.post(f"{path}/connected-sources/{source.pk}"),
        reader.post(f"{path}/syncs"),
        reader.post(
            "/warehouses/validation", {"metadataId": postgres.pk, "settings": warehouse_db}
        ),
    ):
        assert errors_of(response, 403)[0]["type"] == "forbidden"
    assert Warehouse.objects.get().display_name == "Analytics"


def test_another_workspaces_warehouse_is_not_found(api_as, postgres, warehouse_db, made, source):
    stranger = api_as(ws=make_workspace(name="Other"))
    path = f"/warehouses/{made['id']}"
    for response in (
        stranger.get(path),
        stranger.patch(path, {"name": "Mine"}),
        stranger.delete(path),
        stranger.get(f"{path}/connection-state"),
        stranger.get(f"{path}/connected-sources"),
        stranger.post(f"{path}/syncs"),
        stranger.get(f"{path}/syncs"),
        stranger.get(f"{path}/advanced-sync-schedule"),
        stranger.get(f"{path}/connected-sources/{source.pk}/selective-syncs"),
        stranger.get(f"/sources/{source.pk}/connected-warehouses"),
    ):
        assert errors_of(response, 404)[0]["type"] == "not-found"
    assert stranger.get("/warehouses").json()["data"]["warehouses"] == []
    assert Warehouse.objects.get().display_name == "Analytics"
