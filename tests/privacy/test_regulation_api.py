"""The Deletion and Suppression Public API: every answer in the official SDK's models, Segment's
filters and pagination, the rules' refusals as errors, owners only for changes, and another
workspace's objects looking absent."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import DestinationMetadata
from privacy import regulations
from privacy.models import Regulation, RegulationStatus, Suppression
from segapp.models import AuditEntry, Role
from tests.api.conftest import Api, errors_of, validate_with_sdk
from tests.factories import make_source, make_token, make_workspace
from warehouses import operations

UNREACHABLE = {"hostname": "127.0.0.1", "port": 9, "database": "analytics",
               "username": "loader", "password": "pw", "sslMode": "disable"}  # fmt: skip


@pytest.fixture
def api(workspace):
    return Api(make_token(workspace, Role.OWNER)[1])


def body(kind="SUPPRESS_ONLY", ids=("u1",), subject_type="USER_ID") -> dict:
    return {"regulationType": kind, "subjectType": subject_type, "subjectIds": list(ids)}


def data(response, status=200) -> dict:
    assert response.status_code == status, response.content[:2000]
    return response.json()["data"]


def test_every_answer_matches_the_official_sdk_models(api, workspace, site):
    warehouse = operations.create_warehouse(
        workspace, DestinationMetadata.objects.get(slug="postgres"), None,
        settings=UNREACHABLE, name="Analytics",
    )  # fmt: skip
    operations.connect_source(warehouse, site, None)
    values = []

    def check(model, value, label):
        values.append({"model": model, "value": value, "label": label})
        return value

    created = check("CreateWorkspaceRegulationV1Output",
                    data(api.post("/regulations", body("DELETE_ONLY", ["u1", "u2"])), 201),
                    "createWorkspaceRegulation")  # fmt: skip
    suppression = check("CreateSourceRegulationV1Output",
                        data(api.post(f"/regulations/sources/{site.pk}", body()), 201),
                        "createSourceRegulation")  # fmt: skip
    check("ListWorkspaceRegulationsV1Output", data(api.get("/regulations")), "listWorkspace")
    listed = check("ListRegulationsFromSourceV1Output",
                   data(api.get(f"/regulations/sources/{site.pk}")), "listFromSource")  # fmt: skip
    deletion = check("GetRegulationV1Output",
                     data(api.get(f"/regulations/{created['regulateId']}")), "getDeletion")  # fmt: skip
    finished = check("GetRegulationV1Output",
                     data(api.get(f"/regulations/{suppression['regulateId']}")), "getSuppression")  # fmt: skip
    suppressed = check("ListSuppressionsV1Output", data(api.get("/suppressions")), "suppressions")
    check("DeleteRegulationV1Output",
          data(api.delete(f"/regulations/{created['regulateId']}")), "deleteRegulation")  # fmt: skip
    values.append({"model": "RequestErrorEnvelope", "label": "422",
                   "value": api.post("/regulations", body("NOPE")).json()})  # fmt: skip
    validate_with_sdk(values)

    assert listed["regulations"] == [{
        "id": suppression["regulateId"], "subjectType": "USER_ID", "subjects": ["u1"],
        "status": "FINISHED", "createdAt": listed["regulations"][0]["createdAt"],
        "regulationType": "SUPPRESS_ONLY", "finishedAt": listed["regulations"][0]["finishedAt"],
    }]  # fmt: skip
    regulation = deletion["regulation"]
    assert (regulation["workspaceId"], regulation["overallStatus"], regulation["finishedAt"]) == (
        workspace.pk,
        "INITIALIZED",
        "",
    )
    assert regulation["streamStatus"] == [{"id": site.pk, "destinationStatus": [
        {"name": "Event archive", "id": "archive", "status": "INITIALIZED", "errString": "",
         "finishedAt": ""},
        {"name": "Analytics", "id": f"warehouse:{warehouse.pk}", "status": "INITIALIZED",
         "errString": "", "finishedAt": ""},
    ]}]  # fmt: skip
    assert finished["regulation"]["overallStatus"] == "FINISHED"
    assert finished["regulation"]["streamStatus"] == [{"id": site.pk, "destinationStatus": []}]
    assert suppressed["suppressed"] == [{"subjectType": "USER_ID", "subjectIds": ["u1"]}]
    assert suppressed["pagination"]["totalEntries"] == 1
    assert not Regulation.objects.filter(pk=created["regulateId"]).exists()


@pytest.mark.parametrize(
    "sent, status, type_, field",
    [
        (body("FORGET_ME"), 422, "regulation-type", "regulationType"),
        (body(subject_type="OBJECT_ID"), 422, "regulation-subject-type", "subjectType"),
        (body(ids=[]), 422, "regulation-subjects", "subjectIds"),
        (body(ids=["u1", " "]), 422, "regulation-subjects", "subjectIds"),
        (body(ids=[f"u{n}" for n in range(5001)]), 422, "regulation-subjects", "subjectIds"),
        ({"regulationType": "SUPPRESS_ONLY", "subjectType": "USER_ID"}, 422, "validation",
         "subjectIds"),
        ({**body(), "subjectIds": "u1"}, 422, "validation", "subjectIds"),
    ],
)  # fmt: skip
def test_refusals_name_the_rule_and_the_field(api, sent, status, type_, field):
    (error,) = errors_of(api.post("/regulations", sent), status)
    assert (error["type"], error.get("field")) == (type_, field)
    assert error["message"]
    assert not Regulation.objects.exists()


def test_a_source_cannot_unsuppress_a_workspace_suppression(api, site):
    data(api.post("/regulations", body(ids=["u1"])), 201)
    (error,) = errors_of(api.post(f"/regulations/sources/{site.pk}", body("UNSUPPRESS")), 409)
    assert (error["type"], error["field"]) == ("unsuppress-scope", "subjectIds")


def test_only_an_initialized_regulation_can_be_deleted(api):
    finished = data(api.post("/regulations", body()), 201)["regulateId"]
    (error,) = errors_of(api.delete(f"/regulations/{finished}"), 409)
    assert error["type"] == "regulation-not-initialized"
    assert Regulation.objects.filter(pk=finished).exists()


def test_only_owner_tokens_regulate_and_any_token_reads(workspace, site):
    regulation = regulations.create_regulation(
        workspace, None, regulation_type="DELETE_ONLY", subject_ids=["u1"]
    )
    for role in (Role.MEMBER, Role.READ_ONLY):
        api = Api(make_token(workspace, role)[1])
        errors_of(api.post("/regulations", body()), 403)
        errors_of(api.post(f"/regulations/sources/{site.pk}", body()), 403)
        errors_of(api.delete(f"/regulations/{regulation.pk}"), 403)
        assert data(api.get("/regulations"))["pagination"]["totalEntries"] == 1
        assert data(api.get(f"/regulations/{regulation.pk}"))["regulation"]["id"] == regulation.pk
    assert Regulation.objects.count() == 1 and not Suppression.objects.exists()


def test_another_workspaces_source_and_regulations_look_absent(api, catalog):
    other = make_workspace(name="Other")
    their_source = make_source(other, "javascript", name="Theirs")
    theirs = regulations.create_regulation(
        other, None, regulation_type="DELETE_ONLY", subject_ids=["u1"]
    )
    regulations.create_regulation(other, None, regulation_type="SUPPRESS_ONLY", subject_ids=["x"])
    errors_of(api.post(f"/regulations/sources/{their_source.pk}", body()), 404)
    errors_of(api.get(f"/regulations/sources/{their_source.pk}"), 404)
    errors_of(api.get(f"/regulations/{theirs.pk}"), 404)
    errors_of(api.delete(f"/regulations/{theirs.pk}"), 404)
    assert data(api.get("/regulations"))["regulations"] == []
    assert data(api.get("/suppressions"))["suppressed"] == []
    assert Regulation.objects.filter(pk=theirs.pk).exists()


def test_lists_filter_by_status_and_type_and_keep_workspace_and_source_apart(api, site):
    suppress = data(api.post("/regulations", body("SUPPRESS_ONLY")), 201)["regulateId"]
    delete = data(api.post("/regulations", body("DELETE_ONLY")), 201)["regulateId"]
    internal = data(api.post("/regulations", body("DELETE_INTERNAL")), 201)["regulateId"]
    in_site = data(api.post(f"/regulations/sources/{site.pk}", body("DELETE_ONLY")), 201)

    def ids(path, **params):
        return [r["id"] for r in data(api.get(path, **params))["regulations"]]

    assert ids("/regulations") == [internal, delete, suppress]
    assert ids(f"/regulations/sources/{site.pk}") == [in_site["regulateId"]]
    assert ids("/regulations", status="INITIALIZED") == [internal, delete]
    assert ids("/regulations", status="FINISHED") == [suppress]
    assert ids("/regulations", regulationTypes="SUPPRESS_ONLY,DELETE_INTERNAL") == [
        internal,
        suppress,
    ]
    sdk_spelling = {"regulationTypes[0]": "DELETE_ONLY", "regulationTypes[1]": "SUPPRESS_ONLY"}
    assert ids("/regulations", **sdk_spelling) == [delete, suppress]
    assert ids(f"/regulations/sources/{site.pk}", regulationTypes="SUPPRESS_ONLY") == []


def test_lists_are_paginated(api, site):
    made = [
        data(api.post("/regulations", body(ids=[f"u{n}"])), 201)["regulateId"] for n in range(3)
    ]
    first = data(api.get("/regulations", **{"pagination.count": 2}))
    assert [r["id"] for r in first["regulations"]] == made[::-1][:2]
    assert first["pagination"]["totalEntries"] == 3
    rest = data(api.get("/regulations", **{"pagination[count]": 2,
                                           "pagination[cursor]": first["pagination"]["next"]}))  # fmt: skip
    assert [r["id"] for r in rest["regulations"]] == [made[0]]
    suppressed = data(api.get("/suppressions", **{"pagination.count": 2}))
    assert [s["subjectIds"] for s in suppressed["suppressed"]] == [["u0"], ["u1"]]
    assert suppressed["pagination"]["totalEntries"] == 3 and suppressed["pagination"]["next"]
    (error,) = errors_of(api.get("/regulations", **{"pagination.count": 0}), 422)
    assert error["field"] == "pagination.count"


def test_creating_through_the_api_is_audited_with_the_token(api, workspace):
    regulation_id = data(api.post("/regulations", body(ids=["ada"])), 201)["regulateId"]
    entry = AuditEntry.objects.get(action="regulation.created", object_id=regulation_id)
    assert entry.actor_token is not None and entry.actor_label.startswith("API token")
    assert Regulation.objects.get(pk=regulation_id).requested_by == entry.actor_label
    assert Regulation.objects.get(pk=regulation_id).status == RegulationStatus.FINISHED


def queries(api, path) -> int:
    api.get(path)  # the first call also marks the token used
    with CaptureQueriesContext(connection) as ctx:
        response = api.get(path)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "path, expected",
    [
        # token, rate-limit upsert, count, page
        ("/regulations", 4),
        # token, rate-limit upsert, the source, count, page
        ("/regulations/sources/{source}", 5),
        # token, rate-limit upsert, count, page
        ("/suppressions", 4),
    ],
)
def test_lists_query_count_is_the_same_for_1_and_20_rows(api, workspace, site, path, expected):
    path = path.format(source=site.pk)

    def grow(n):
        for source in (None, site):
            regulations.create_regulation(
                workspace, None, regulation_type="SUPPRESS_ONLY", subject_ids=[f"u{n}"],
                source=source,
            )  # fmt: skip

    grow(0)
    one = queries(api, path)
    for n in range(1, 20):
        grow(n)
    twenty = queries(api, path)
    assert len(next(iter(data(api.get(path)).values()))) == 20
    assert one == twenty == expected
