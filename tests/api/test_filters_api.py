"""``/api/destination/{id}/filters`` and ``/api/destination/filters/preview``: Segment's shapes
(checked with the official SDK's models), the rules of ``connections.filters``, scoping, roles."""

import pytest

from connections.models import DestinationFilter
from segapp.models import Role
from tests.api.conftest import errors_of, validate_with_sdk

FILTER = {"if": 'event = "Test"', "actions": [{"type": "DROP"}], "title": "No tests",
          "enabled": True}  # fmt: skip


def body(source, **changes):
    return {"sourceId": source.pk, **FILTER, **changes}


def test_filter_lifecycle_matches_the_official_sdk_models(api, source, instance):
    values = []

    def check(model, response, label):
        assert response.status_code == 200, (label, response.content[:500])
        values.append({"model": model, "value": response.json()["data"], "label": label})
        return response.json()["data"]

    base = f"/destination/{instance.pk}/filters"
    created = check("CreateFilterForDestinationV1Output", api.post(base, body(source, description="QA")),
                    "createFilterForDestination")["filter"]  # fmt: skip
    assert created["if"] == 'event = "Test"' and created["destinationId"] == instance.pk
    assert created["sourceId"] == source.pk and created["actions"] == [{"type": "DROP"}]
    check(
        "GetFilterInDestinationV1Output",
        api.get(f"{base}/{created['id']}"),
        "getFilterInDestination",
    )
    updated = check(
        "UpdateFilterForDestinationV1Output",
        api.patch(f"{base}/{created['id']}", {"enabled": False, "actions": [
            {"type": "SAMPLE", "percent": 0.1, "path": "userId"}]}),
        "updateFilterForDestination",
    )["filter"]  # fmt: skip
    assert updated["enabled"] is False and updated["title"] == "No tests"
    listed = check(
        "ListFiltersFromDestinationV1Output", api.get(base), "listFiltersFromDestination"
    )
    assert [f["id"] for f in listed["filters"]] == [created["id"]]
    preview = check(
        "PreviewDestinationFilterV1Output",
        api.post("/destination/filters/preview", {
            "filter": {"if": "properties.total > 10", "actions": [
                {"type": "DROP_PROPERTIES", "fields": {"properties": ["email"]}}]},
            "payload": {"type": "track", "event": "E", "properties": {"total": 11, "email": "e"}}}),
        "previewDestinationFilter",
    )  # fmt: skip
    assert preview["result"]["properties"] == {"total": 11}
    assert preview["inputPayload"]["properties"] == {"total": 11, "email": "e"}
    dropped = api.post("/destination/filters/preview", {
        "filter": {"if": "all", "actions": [{"type": "DROP"}]}, "payload": {"type": "track"}})  # fmt: skip
    assert dropped.json()["data"]["result"] is None
    check("RemoveFilterFromDestinationV1Output", api.delete(f"{base}/{created['id']}"),
          "removeFilterFromDestination")  # fmt: skip
    assert not DestinationFilter.objects.exists()
    validate_with_sdk(values)


def test_invalid_input_names_the_field(api, source, instance):
    base = f"/destination/{instance.pk}/filters"
    (error,) = errors_of(api.post(base, body(source, **{"if": "event = "})), 422)
    assert error["field"] == "if" and "position 7" in error["message"]
    (error,) = errors_of(
        api.post(base, body(source, actions=[{"type": "SAMPLE", "percent": 2}])), 422
    )
    assert error["field"] == "actions"
    errors = errors_of(api.post(base, {"if": "all"}), 422)
    assert {"sourceId", "actions", "title", "enabled"} <= {e["field"] for e in errors}
    (error,) = errors_of(api.post(base, body(source, sourceId="elsewhere")), 422)
    assert error["field"] == "sourceId"
    preview = api.post(
        "/destination/filters/preview", {"filter": {"if": "a ==", "actions": []}, "payload": {}}
    )
    assert errors_of(preview, 422)[0]["field"] == "if"
    assert not DestinationFilter.objects.exists()


def test_the_eleventh_filter_is_refused_with_409(api, source, instance):
    base = f"/destination/{instance.pk}/filters"
    for n in range(10):
        assert api.post(base, body(source, title=f"F{n}")).status_code == 200
    (error,) = errors_of(api.post(base, body(source, title="F10")), 409)
    assert error["type"] == "filter-limit"


def test_other_workspaces_filters_look_absent_and_read_only_tokens_change_nothing(
    api, api_as, source, instance, foreign
):
    theirs = foreign["instance"]
    item = DestinationFilter.objects.create(
        workspace=theirs.workspace, instance=theirs, title="T", condition="all",
        condition_ast=["all"], actions=[{"type": "DROP"}],
    )  # fmt: skip
    base = f"/destination/{theirs.pk}/filters"
    for response in [
        api.get(base),
        api.post(base, body(foreign["source"])),
        api.get(f"{base}/{item.pk}"),
        api.patch(f"{base}/{item.pk}", {"enabled": False}),
        api.delete(f"{base}/{item.pk}"),
        api.get(f"/destination/{instance.pk}/filters/{item.pk}"),
    ]:
        errors_of(response, 404)
    assert DestinationFilter.objects.get(pk=item.pk).enabled

    mine = api.post(f"/destination/{instance.pk}/filters", body(source)).json()["data"]["filter"]
    reader = api_as(Role.READ_ONLY)
    base = f"/destination/{instance.pk}/filters"
    assert reader.get(base).status_code == 200
    assert reader.get(f"{base}/{mine['id']}").status_code == 200
    for response in [
        reader.post(base, body(source)),
        reader.patch(f"{base}/{mine['id']}", {"enabled": False}),
        reader.delete(f"{base}/{mine['id']}"),
        reader.post(
            "/destination/filters/preview",
            {"filter": {"if": "all", "actions": [{"type": "DROP"}]}, "payload": {}},
        ),
    ]:
        errors_of(response, 403)
    assert DestinationFilter.objects.filter(instance=instance).count() == 1


@pytest.mark.parametrize("path", ["/destination/{id}/filters", "/destination/filters/preview"])
def test_the_schema_lists_the_filter_endpoints(api, path):
    schema = api.client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    assert path.replace("{id}", "{destinationId}") in schema
