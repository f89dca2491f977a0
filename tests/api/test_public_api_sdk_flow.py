"""Segment's official TypeScript Public API client, pointed at a live Segapp with basePath
``<server>/api``, manages sources and destinations with its own methods."""

import json
import subprocess

import pytest

from catalog.models import DestinationMetadata
from connections.models import DestinationInstance, Source
from segapp.models import AuditEntry
from tests.factories import make_token
from tests.processes import REPO


@pytest.mark.slow
def test_official_sdk_manages_sources_and_destinations(catalog, live_server, workspace):
    token, raw = make_token(workspace)
    result = subprocess.run(
        ["node", "public_api_flow.js", live_server.url, raw], cwd=REPO / "tests" / "clients",
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.loads(result.stdout)

    assert summary["workspace"] == workspace.slug
    expected = DestinationMetadata.objects.exclude(kind="warehouse").count()
    assert summary["catalog"] == {
        "destinations": expected, "totalEntries": expected, "pages": -(-expected // 10),
    }  # fmt: skip
    source = summary["source"]
    assert (source["name"], source["slug"], source["trackingPlanId"]) == (
        "Javascript",
        "sdk-site",
        None,
    )
    assert len(source["writeKeys"]) == 1 and len(source["rotatedWriteKeys"]) == 1
    assert source["rotatedWriteKeys"] != source["writeKeys"]
    assert summary["first"] == {
        "id": summary["first"]["id"], "createdName": "Webhooks", "createdEnabled": False,
        "renamed": "Primary hook", "enabled": True, "sharedSecret": "••••••••",
    }  # fmt: skip
    assert summary["duplicateName"]["status"] == 409
    assert summary["duplicateName"]["type"] == "instance-name-unique"
    assert summary["duplicateName"]["field"] == "name"
    assert summary["twentySixth"]["status"] == 409
    assert summary["twentySixth"]["type"] == "cloud-instance-limit"
    assert summary["connected"] == {"count": 25, "pages": 3}
    assert summary["filters"]["listed"] == ["No test events"]
    assert summary["filters"]["fetchedIf"] == "event = 'Test'"
    assert summary["filters"]["previewResult"] == {
        "type": "track",
        "event": "Order",
        "properties": {"total": 11},
    }
    assert summary["filters"]["invalid"]["status"] == 422
    assert summary["filters"]["invalid"]["field"] == "if"
    assert summary["filters"]["removed"] == "SUCCESS"
    assert summary["deliveryMetrics"] == [
        "successes",
        "discarded",
        "retried",
        "filtered",
        "expired",
    ]
    assert summary["afterDelete"] == "Hook 26"
    assert summary["listed"] == 25
    assert summary["deletedSource"] == "SUCCESS"
    assert summary["missingSource"]["status"] == 404

    # The database agrees: the source and its instances are gone, every change was audited
    # with the token as the actor, and the secret was stored encrypted.
    assert not Source.objects.filter(pk=source["id"]).exists()
    assert not DestinationInstance.objects.exists()
    actions = AuditEntry.objects.filter(actor_token=token).values_list("action", flat=True)
    assert sorted(set(actions)) == [
        "filter.created", "filter.deleted", "filter.updated", "instance.created", "instance.deleted", "instance.enabled", "instance.renamed",
        "source.created", "source.deleted", "write_key.added", "write_key.deleted",
    ]  # fmt: skip
    assert list(actions).count("instance.created") == 26
