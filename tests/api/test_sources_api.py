"""Sources on the Public API: create, list, get, update, delete, write keys, connected
destinations, all through ``connections.sources`` and audited with the token as the actor."""

from catalog.models import SourceMetadata
from connections.models import Source
from segapp.models import AuditEntry
from tests.api.conftest import errors_of
from tests.factories import make_instance, make_source


def create(api, slug="my-site", catalog_slug="javascript", **extra):
    metadata = SourceMetadata.objects.get(slug=catalog_slug)
    return api.post("/sources", {"slug": slug, "enabled": True, "metadataId": metadata.pk, **extra})


def test_create_source_names_it_after_the_catalog_entry_and_gives_a_write_key(catalog, api):
    response = create(api, slug="My Site!")
    assert response.status_code == 201, response.content
    body = response.json()["data"]["source"]
    source = Source.objects.get(pk=body["id"])
    assert (body["slug"], body["name"], body["enabled"]) == ("my-site", "Javascript", True)
    assert body["metadata"]["slug"] == "javascript" and body["labels"] == []
    assert body["workspaceId"] == source.workspace_id
    assert body["writeKeys"] == [source.write_keys.get().key]
    entry = AuditEntry.objects.get(action="source.created", object_id=source.pk)
    assert entry.actor_token == api.token


def test_taken_slug_is_409_naming_the_field(catalog, api):
    create(api, slug="site")
    (error,) = errors_of(create(api, slug="site"), 409)
    assert (error["type"], error["field"]) == ("source-slug-unique", "slug")


def test_create_checks_shape_and_names_each_field(catalog, api):
    response = api.post("/sources", {"slug": "x", "enabled": "perhaps", "metadataId": "nope"})
    fields = {e["field"]: e["type"] for e in errors_of(response, 422)}
    assert fields == {"enabled": "validation", "metadataId": "validation"}
    response = api.post("/sources", {})
    assert {e["field"] for e in errors_of(response, 422)} == {"slug", "enabled", "metadataId"}


def test_secret_source_settings_are_refused_not_stored_in_clear(catalog, api):
    response = create(api, slug="stripe", catalog_slug="stripe", settings={"accessToken": "sk_1"})
    (error,) = errors_of(response, 422)
    assert (error["type"], error["field"]) == ("source-secret-setting", "settings.accessToken")
    assert "sk_1" not in response.content.decode()
    assert not Source.objects.filter(slug="stripe").exists()


def test_list_pages_through_sources_with_the_sdk_spelling_of_pagination(catalog, api):
    for n in range(5):
        create(api, slug=f"site-{n}")
    seen, params = [], {"pagination[count]": 2}
    while True:
        body = api.get("/sources", **params).json()["data"]
        seen += [s["slug"] for s in body["sources"]]
        if not body["pagination"]["next"]:
            break
        params["pagination[cursor]"] = body["pagination"]["next"]
    assert seen == [f"site-{n}" for n in range(5)]
    assert body["pagination"]["totalEntries"] == 5


def test_get_source_has_write_keys_and_no_tracking_plan(api, source):
    data = api.get(f"/sources/{source.pk}").json()["data"]
    assert data["trackingPlanId"] is None
    assert data["source"]["writeKeys"] == [source.write_keys.get().key]


def test_update_changes_only_what_is_sent(api, source):
    response = api.patch(f"/sources/{source.pk}", {"name": "Shop", "enabled": False})
    body = response.json()["data"]["source"]
    assert (body["name"], body["slug"], body["enabled"]) == ("Shop", source.slug, False)
    body = api.patch(f"/sources/{source.pk}", {"slug": "shop", "settings": {"a": "b"}}).json()
    assert body["data"]["source"]["slug"] == "shop"
    source.refresh_from_db()
    assert (source.name, source.slug, source.enabled, source.settings) == (
        "Shop",
        "shop",
        False,
        {"a": "b"},
    )
    entries = AuditEntry.objects.filter(action="source.updated", object_id=source.pk)
    assert entries.count() == 2 and {e.actor_token_id for e in entries} == {api.token.pk}


def test_update_refusals_name_the_field(api, source):
    (error,) = errors_of(api.patch(f"/sources/{source.pk}", {"name": "  "}), 422)
    assert (error["type"], error["field"]) == ("source-name-required", "name")


def test_write_key_rotation_keeps_the_last_key(api, source):
    old = source.write_keys.get().key
    response = api.post(f"/sources/{source.pk}/writekey")
    keys = response.json()["data"]["source"]["writeKeys"]
    assert len(keys) == 2 and keys[0] == old
    new = keys[1]
    assert api.delete(f"/sources/{source.pk}/writekey/{old}").json() == {
        "data": {"status": "SUCCESS"}
    }
    (error,) = errors_of(api.delete(f"/sources/{source.pk}/writekey/{new}"), 409)
    assert error["type"] == "last-write-key"
    assert list(source.write_keys.values_list("key", flat=True)) == [new]
    errors_of(api.delete(f"/sources/{source.pk}/writekey/not-a-key"), 404)


def test_connected_destinations_lists_only_that_sources_instances(api, source, workspace):
    make_instance(source, "webhooks", name="A")
    other = make_instance(make_source(workspace, "javascript", name="Other"), "webhooks")
    body = api.get(f"/sources/{source.pk}/connected-destinations").json()["data"]
    assert [d["name"] for d in body["destinations"]] == ["A"]
    assert other.pk not in {d["id"] for d in body["destinations"]}


def test_delete_source_is_audited(api, source):
    assert api.delete(f"/sources/{source.pk}").json() == {"data": {"status": "SUCCESS"}}
    assert not Source.objects.filter(pk=source.pk).exists()
    entry = AuditEntry.objects.get(action="source.deleted", object_id=source.pk)
    assert entry.actor_token == api.token
    errors_of(api.get(f"/sources/{source.pk}"), 404)
