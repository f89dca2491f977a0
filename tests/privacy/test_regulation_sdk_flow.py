"""Segment's official TypeScript Public API client regulates end users' data in a live Segapp with
its own ``DeletionAndSuppressionApi`` methods: source and workspace regulations created, listed
(with the SDK's filters), read, withdrawn, and the suppressions listed; a deletion's progress read
back once the archive's sweep has run."""

import json
import subprocess

import pytest

from delivery import tasks
from delivery.models import Event
from privacy.models import Regulation, Suppression
from segapp.models import AuditEntry, Role
from tests.factories import make_source, make_token
from tests.privacy.regulation_setup import send, track
from tests.processes import REPO


def flow(*args) -> dict:
    result = subprocess.run(
        ["node", "regulations_api_flow.js", *args], cwd=REPO / "tests" / "clients",
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(result.stdout)


@pytest.mark.slow
def test_official_sdk_regulates_end_users(catalog, live_server, workspace):
    source = make_source(workspace, "http-api", name="Backend")
    send(source, [track("cy", 1), track("kept", 1)])
    token, raw = make_token(workspace, Role.OWNER)
    _, member = make_token(workspace, Role.MEMBER)

    seen = flow("create", live_server.url, raw, member, source.pk)

    _, deletion_id, withdrawn_id = seen["created"]["ids"]
    assert seen["created"]["shape"] == "ok"
    assert seen["workspaceList"] == {
        "entries": [
            {"type": "DELETE_ONLY", "subjects": ["dee"], "status": "INITIALIZED"},
            {"type": "SUPPRESS_WITH_DELETE", "subjects": ["cy"], "status": "INITIALIZED"},
        ],
        "shape": "ok",
        "total": 2,
    }
    assert seen["filtered"] == [withdrawn_id]
    assert seen["sourceList"] == [
        {"type": "SUPPRESS_ONLY", "subjects": ["ada", "bob"], "status": "FINISHED"}
    ]
    assert seen["got"] == {
        "id": deletion_id, "status": "INITIALIZED", "shape": "ok",
        "streams": [{"id": source.pk, "systems": [["archive", "INITIALIZED"]]}],
    }  # fmt: skip
    assert seen["deleted"] == "SUCCESS"
    assert seen["deletedAgain"]["status"] == 404
    assert (seen["deleteFinished"]["status"], seen["deleteFinished"]["type"]) == (
        409,
        "regulation-not-initialized",
    )
    assert seen["suppressed"] == {"ids": ["ada", "bob", "cy"], "types": ["USER_ID"], "total": 3}
    for refused, status, rule in [
        (seen["objectId"], 422, "regulation-subject-type"),
        (seen["tooMany"], 422, "regulation-subjects"),
        (seen["unsuppressScope"], 409, "unsuppress-scope"),
        (seen["member"], 403, "forbidden"),
    ]:
        assert (refused["status"], refused["type"]) == (status, rule), refused
    assert seen["memberReads"] == 1

    assert not Regulation.objects.filter(pk=withdrawn_id).exists()
    assert set(Suppression.objects.values_list("user_id", flat=True)) == {"ada", "bob", "cy"}
    actions = list(AuditEntry.objects.filter(actor_token=token).values_list("action", flat=True))
    assert sorted(actions) == ["regulation.created"] * 3 + ["regulation.deleted"]

    tasks.erase_archive()  # what a worker's sweep does next
    after = flow("status", live_server.url, raw, deletion_id)

    assert after == {"status": "FINISHED", "finished": True,
                     "systems": [["Event archive", "FINISHED", True]]}  # fmt: skip
    assert list(Event.objects.values_list("user_id", flat=True)) == ["kept"]
