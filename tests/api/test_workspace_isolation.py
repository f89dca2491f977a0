"""A token reaches only its own workspace: another workspace's sources, destinations and write
keys answer 404 on every endpoint (as if absent), and ids in a body fail like unknown ids."""

import pytest

from catalog.models import DestinationMetadata
from connections.models import DestinationInstance, Source, WriteKey
from tests.api.conftest import errors_of

HOOK = {"webhookUrls": ["http://127.0.0.1:9/hook"]}


def config_api_body(ws_slug, source_slug):
    name = f"workspaces/{ws_slug}/sources/{source_slug}/destinations/webhooks"
    config = [{"name": f"{name}/config/webhookUrls", "type": "array", "value": HOOK["webhookUrls"]}]
    return {"destination": {"name": name, "config": config}}


def foreign_requests(foreign, workspace, source):
    fs, fi, key = foreign["source"], foreign["instance"], foreign["write_key"]
    fws = foreign["workspace"].slug
    return [
        ("get", f"/sources/{fs.pk}", None),
        ("patch", f"/sources/{fs.pk}", {"name": "Mine now"}),
        ("delete", f"/sources/{fs.pk}", None),
        ("post", f"/sources/{fs.pk}/writekey", None),
        ("delete", f"/sources/{fs.pk}/writekey/{key}", None),
        ("delete", f"/sources/{source.pk}/writekey/{key}", None),
        ("get", f"/sources/{fs.pk}/connected-destinations", None),
        ("get", f"/destinations/{fi.pk}", None),
        ("patch", f"/destinations/{fi.pk}", {"name": "Mine now", "enabled": True}),
        ("delete", f"/destinations/{fi.pk}", None),
        (
            "post",
            f"/workspaces/{fws}/sources/{fs.slug}/destinations",
            config_api_body(fws, fs.slug),
        ),
        (
            "post",
            f"/workspaces/{workspace.slug}/sources/{fs.slug}/destinations",
            config_api_body(workspace.slug, fs.slug),
        ),
    ]


def snapshot(foreign):
    fs, fi = foreign["source"], foreign["instance"]
    return (
        Source.objects.filter(pk=fs.pk).values_list("name", "enabled").get(),
        DestinationInstance.objects.filter(pk=fi.pk).values_list("name", "enabled").get(),
        sorted(WriteKey.objects.filter(source=fs).values_list("key", flat=True)),
        DestinationInstance.objects.filter(source=fs).count(),
    )


@pytest.mark.parametrize("index", range(12))
def test_other_workspaces_objects_are_404(api, foreign, workspace, source, index):
    method, path, body = foreign_requests(foreign, workspace, source)[index]
    before = snapshot(foreign)
    call = getattr(api, method)
    response = call(path, body) if body is not None or method == "post" else call(path)
    (error,) = errors_of(response, 404)
    assert error["type"] == "not-found"
    assert snapshot(foreign) == before


def test_lists_show_only_this_workspace(api, foreign, source):
    sources = api.get("/sources").json()["data"]["sources"]
    assert [s["id"] for s in sources] == [source.pk]
    assert api.get("/destinations").json()["data"]["destinations"] == []


def test_another_workspaces_source_id_in_a_body_is_refused_naming_the_field(api, foreign):
    metadata = DestinationMetadata.objects.get(slug="webhooks")
    response = api.post(
        "/destinations",
        {"sourceId": foreign["source"].pk, "metadataId": metadata.pk, "settings": HOOK},
    )
    (error,) = errors_of(response, 422)
    assert error["field"] == "sourceId" and foreign["source"].pk in error["message"]
    assert DestinationInstance.objects.filter(source=foreign["source"]).count() == 1
