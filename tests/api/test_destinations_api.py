"""Destinations on the Public API go through ``connections.instances`` and so through every rule
of ``connections.rules``: a refusal is a 4xx whose error type is the rule's name."""

import pytest

from catalog.models import MAX_CLOUD_INSTANCES_PER_SOURCE, DestinationMetadata
from connections.models import MASK, DestinationInstance
from segapp.models import AuditEntry
from tests.api.conftest import errors_of
from tests.factories import make_instance, make_source

HOOK = {"webhookUrls": ["http://127.0.0.1:9/hook"]}


def metadata_id(slug):
    return DestinationMetadata.objects.get(slug=slug).pk


def create(api, source, slug="webhooks", settings=None, **extra):
    body = {"sourceId": source.pk, "metadataId": metadata_id(slug), "settings": settings or {}}
    return api.post("/destinations", {**body, **extra})


def test_create_destination_starts_disabled_named_after_the_catalog_entry(api, source):
    response = create(api, source, settings=HOOK)
    assert response.status_code == 200, response.content
    body = response.json()["data"]["destination"]
    assert (body["name"], body["enabled"], body["sourceId"]) == ("Webhooks", False, source.pk)
    assert body["metadata"]["slug"] == "webhooks"
    assert body["settings"] == HOOK  # no secret set: no headers, no shared secret
    instance = DestinationInstance.objects.get(pk=body["id"])
    entry = AuditEntry.objects.get(action="instance.created", object_id=instance.pk)
    assert entry.actor_token == api.token


def test_create_with_name_enabled_and_a_secret(api, source):
    settings = {**HOOK, "sharedSecret": "pssst"}
    body = create(api, source, settings=settings, name="Prod hook", enabled=True).json()["data"]
    assert body["destination"]["name"] == "Prod hook" and body["destination"]["enabled"]
    assert body["destination"]["settings"]["sharedSecret"] == MASK
    assert DestinationInstance.objects.get(pk=body["destination"]["id"]).secrets == {
        "sharedSecret": "pssst"
    }


def test_refuses_26th_cloud_instance_naming_the_rule(api, source):
    for n in range(MAX_CLOUD_INSTANCES_PER_SOURCE):
        assert create(api, source, settings=HOOK, name=f"Hook {n}").status_code == 200
    (error,) = errors_of(create(api, source, settings=HOOK, name="Hook 26"), 409)
    assert error["type"] == "cloud-instance-limit" and "at most 25" in error["message"]
    assert DestinationInstance.objects.filter(source=source).count() == 25


def test_refuses_duplicate_names_in_a_source(api, source, workspace):
    create(api, source, settings=HOOK, name="Hook")
    (error,) = errors_of(create(api, source, settings=HOOK, name="hook"), 409)
    assert (error["type"], error["field"]) == ("instance-name-unique", "name")
    other = make_source(workspace, "javascript", name="Other")
    assert create(api, other, settings=HOOK, name="Hook").status_code == 200


def test_refuses_a_second_braze_cloud_actions(api, source):
    settings = {"api_key": "k", "endpoint": "https://rest.iad-01.braze.com"}
    assert create(api, source, "actions-braze-cloud", settings=settings).status_code == 200
    (error,) = errors_of(create(api, source, "actions-braze-cloud", settings, name="2"), 409)
    assert error["type"] == "single-instance"


def test_refuses_hybrid_second_instance_on_mobile(catalog, api, workspace):
    ios = make_source(workspace, "ios")
    create(api, ios, "amplitude", settings={"apiKey": "a"})
    (error,) = errors_of(create(api, ios, "amplitude", {"apiKey": "b"}, name="Second"), 409)
    assert error["type"] == "mobile-hybrid-single"


def test_invalid_settings_name_every_field(api, source):
    response = create(api, source, settings={"webhookUrls": "not a list", "colour": "red"})
    errors = errors_of(response, 422)
    assert {e["field"] for e in errors} == {"settings.webhookUrls", "settings.colour"}
    assert {e["type"] for e in errors} == {"settings-invalid"}
    (error,) = errors_of(create(api, source, settings={}), 422)
    assert error["field"] == "settings.webhookUrls" and "required" in error["message"]


def test_body_shape_errors_name_the_field(api, source):
    response = api.post("/destinations", {"sourceId": source.pk, "enabled": "perhaps"})
    assert {e["field"] for e in errors_of(response, 422)} == {"metadataId", "settings", "enabled"}
    response = api.post(
        "/destinations", {"sourceId": source.pk, "metadataId": "nope", "settings": []}
    )
    assert {e["field"] for e in errors_of(response, 422)} == {"metadataId", "settings"}


def test_warehouses_are_not_destinations_here(api, source):
    response = create(api, source, "postgres", settings={})
    (error,) = errors_of(response, 422)
    assert error["field"] == "metadataId"


def test_list_has_every_source_and_get_one(api, source, workspace):
    first = make_instance(source, "webhooks", name="A")
    second = make_instance(make_source(workspace, "python"), "webhooks", name="B")
    body = api.get("/destinations").json()["data"]
    assert [d["id"] for d in body["destinations"]] == [first.pk, second.pk]
    assert body["pagination"]["totalEntries"] == 2
    one = api.get(f"/destinations/{second.pk}").json()["data"]["destination"]
    assert (one["name"], one["sourceId"]) == ("B", second.source_id)


def test_update_renames_enables_and_merges_settings(api, instance):
    response = api.patch(
        f"/destinations/{instance.pk}",
        {"name": "Renamed", "enabled": True, "settings": {"headers": {"X-A": "1"}}},
    )
    body = response.json()["data"]["destination"]
    assert (body["name"], body["enabled"]) == ("Renamed", True)
    assert body["settings"] == {
        "webhookUrls": ["http://127.0.0.1:9/hook"],
        "headers": {"X-A": MASK},  # header values are secrets
        "sharedSecret": MASK,
    }
    instance.refresh_from_db()
    assert instance.secrets == {"sharedSecret": "s3cr3t-hook", "headers": {"X-A": "1"}}
    actions = set(
        AuditEntry.objects.filter(object_id=instance.pk, actor_token=api.token).values_list(
            "action", flat=True
        )
    )
    assert actions == {"instance.renamed", "instance.enabled", "instance.settings_changed"}


def test_sending_back_the_masked_secret_keeps_it(api, instance):
    read = api.get(f"/destinations/{instance.pk}").json()["data"]["destination"]["settings"]
    api.patch(f"/destinations/{instance.pk}", {"settings": read})
    instance.refresh_from_db()
    assert instance.secrets == {"sharedSecret": "s3cr3t-hook"}


@pytest.mark.parametrize(
    "body, status, rule, field",
    [
        ({"name": "Taken"}, 409, "instance-name-unique", "name"),
        ({"name": " "}, 422, "instance-name-required", "name"),
        ({"settings": {"webhookUrls": 5}}, 422, "settings-invalid", "settings.webhookUrls"),
    ],
)
def test_refused_update_changes_nothing(api, instance, body, status, rule, field):
    make_instance(instance.source, "webhooks", name="Taken")
    (error,) = errors_of(
        api.patch(f"/destinations/{instance.pk}", {**body, "enabled": True}), status
    )
    assert (error["type"], error["field"]) == (rule, field)
    instance.refresh_from_db()
    assert (instance.name, instance.enabled) == ("Hook", False)


def test_delete_destination(api, instance):
    assert api.delete(f"/destinations/{instance.pk}").json() == {"data": {"status": "SUCCESS"}}
    assert not DestinationInstance.objects.filter(pk=instance.pk).exists()
    entry = AuditEntry.objects.get(action="instance.deleted", object_id=instance.pk)
    assert entry.actor_token == api.token
