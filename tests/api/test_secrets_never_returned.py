"""Secret settings are write-only: no Public API or Config API response carries one, whatever the
endpoint, and the audit trail records only the mask."""

from catalog.models import DestinationMetadata
from connections.models import MASK, DestinationInstance
from segapp.models import AuditEntry

SECRET = "whsec-DO-NOT-LEAK-4242"


def test_no_response_contains_a_secret(api, source, workspace):
    webhooks = DestinationMetadata.objects.get(slug="webhooks")
    responses = []

    def call(response):
        responses.append(response)
        return response

    settings = {"webhookUrls": ["http://127.0.0.1:9/a"], "sharedSecret": SECRET}
    body = {"sourceId": source.pk, "metadataId": webhooks.pk, "settings": settings}
    created = call(api.post("/destinations", body)).json()["data"]["destination"]
    assert created["settings"]["sharedSecret"] == MASK
    path = f"/destinations/{created['id']}"
    call(api.get(path))
    call(api.get("/destinations"))
    call(api.get(f"/sources/{source.pk}/connected-destinations"))
    call(api.patch(path, {"settings": {"sharedSecret": SECRET + "-2"}}))
    call(api.patch(path, {"settings": {"sharedSecret": SECRET, "webhookUrls": "bad"}}))  # 422
    call(api.post("/destinations", {**body, "name": created["name"]}))  # 409, duplicate name
    call(api.post("/destinations", {**body, "name": "x", "settings": {**settings, "no": 1}}))

    name = f"workspaces/{workspace.slug}/sources/{source.slug}/destinations/webhooks"
    config = [
        {"name": f"{name}/config/webhookUrls", "type": "array", "value": ["http://127.0.0.1:9/b"]},
        {"name": f"{name}/config/sharedSecret", "type": "string", "value": SECRET},
    ]
    legacy = call(
        api.post(
            f"/workspaces/{workspace.slug}/sources/{source.slug}/destinations",
            {"destination": {"name": name, "config": config, "display_name": "Legacy"}},
        )
    ).json()
    assert {c["name"].rsplit("/", 1)[1]: c["value"] for c in legacy["config"]}[
        "sharedSecret"
    ] == MASK

    assert [r.status_code for r in responses] == [200] * 5 + [422, 409, 422, 200]
    for response in responses:
        assert SECRET not in response.content.decode(), response.request["PATH_INFO"]
    stored = {i.name: i.secrets for i in DestinationInstance.objects.all()}
    assert stored == {
        "Webhooks": {"sharedSecret": SECRET + "-2"},
        "Legacy": {"sharedSecret": SECRET},
    }
    for entry in AuditEntry.objects.all():
        assert SECRET not in f"{entry.before} {entry.after}", entry.action
