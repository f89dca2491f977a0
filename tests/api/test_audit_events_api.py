"""``GET /api/audit-events``: the workspace's audit trail in Segment's AuditEventV1 shape (checked
with the official SDK's models), newest first, filtered by time and resource, paginated, in a
constant number of queries, and never another workspace's entries."""

from datetime import timedelta

from django.utils import timezone

from connections import instances, sources
from segapp.models import AuditEntry, Role
from tests.api.conftest import errors_of, validate_with_sdk
from tests.factories import make_member, make_source


def events_of(response) -> list[dict]:
    assert response.status_code == 200, response.content[:1000]
    return response.json()["data"]["events"]


def test_lists_changes_newest_first_in_segments_shape(api, workspace, source, instance):
    person = make_member(workspace, Role.OWNER)
    instances.rename_instance(instance, "Renamed hook", person)
    response = api.get("/audit-events")
    events = events_of(response)
    newest = events[0]
    assert newest == {
        "id": newest["id"], "timestamp": newest["timestamp"], "type": "Renamed destination",
        "actor": person.email, "actorEmail": person.email, "resourceId": instance.pk,
        "resourceType": "Destination", "resourceName": "Renamed hook",
    }  # fmt: skip
    entry = AuditEntry.objects.get(pk=newest["id"])
    assert entry.workspace == workspace and entry.action == "instance.renamed"
    # Made by the system (no person): no actorEmail, as AuditEventV1 allows.
    created = [e for e in events if e["resourceId"] == source.pk and e["type"] == "Created source"]
    assert created and "actorEmail" not in created[0] and created[0]["actor"] == "system"
    timestamps = [e["timestamp"] for e in events]
    assert timestamps == sorted(timestamps, reverse=True)
    validate_with_sdk([{"model": "ListAuditEventsV1Output", "value": response.json()["data"],
                        "label": "listAuditEvents"}])  # fmt: skip


def test_filters_by_resource_type_and_time(api, workspace, source, instance):
    instances.rename_instance(instance, "Second name", None)
    by_id = events_of(api.get("/audit-events", resourceId=instance.pk))
    assert [e["type"] for e in by_id] == ["Renamed destination", "Created destination"]
    for spelling in ("Destination", "destinations", "destinationinstance"):
        listed = events_of(api.get("/audit-events", resourceType=spelling))
        assert {e["resourceType"] for e in listed} == {"Destination"}, spelling
        assert len(listed) == 2
    later = (timezone.now() + timedelta(minutes=5)).isoformat()
    assert events_of(api.get("/audit-events", startTime=later)) == []
    assert len(events_of(api.get("/audit-events", endTime=later, resourceId=source.pk))) == 1
    # The SDK spells its pagination object pagination[count]; a cursor walks the pages.
    first = api.get("/audit-events", **{"pagination[count]": 1}).json()["data"]
    assert len(first["events"]) == 1 and first["pagination"]["totalEntries"] >= 3
    second = api.get("/audit-events", **{"pagination.count": 1,
                                         "pagination.cursor": first["pagination"]["next"]})  # fmt: skip
    assert events_of(second)[0]["id"] != first["events"][0]["id"]


def test_bad_parameters_name_the_field(api):
    assert errors_of(api.get("/audit-events", resourceType="Planet"), 422)[0]["field"] == (
        "resourceType"
    )
    assert errors_of(api.get("/audit-events", startTime="yesterday"), 422)[0]["field"] == (
        "startTime"
    )
    now = timezone.now()
    window = {"startTime": now.isoformat(), "endTime": (now - timedelta(hours=1)).isoformat()}
    assert errors_of(api.get("/audit-events", **window), 422)[0]["field"] == "startTime"
    assert errors_of(api.get("/audit-events", **{"pagination.count": 0}), 422)[0]["field"] == (
        "pagination.count"
    )


def test_never_shows_another_workspaces_entries(api, api_as, foreign, source):
    theirs = foreign["instance"]
    assert events_of(api.get("/audit-events", resourceId=theirs.pk)) == []
    listed = {e["resourceId"] for e in events_of(api.get("/audit-events"))}
    assert source.pk in listed and theirs.pk not in listed and foreign["source"].pk not in listed
    reader = api_as(Role.READ_ONLY)
    assert source.pk in {e["resourceId"] for e in events_of(reader.get("/audit-events"))}


def test_query_count_is_the_same_for_1_and_20_entries(
    catalog, api, workspace, django_assert_num_queries
):
    AuditEntry.objects.filter(workspace=workspace).delete()
    source = make_source(workspace, "javascript", name="Main")
    api.get("/audit-events")  # the first call also marks the token used
    # token, rate-limit upsert, count, page
    with django_assert_num_queries(4):
        assert len(events_of(api.get("/audit-events"))) == 1
    for n in range(19):
        sources.update_source(source, None, name=f"Main {n}")
    with django_assert_num_queries(4):
        assert len(events_of(api.get("/audit-events"))) == 20
