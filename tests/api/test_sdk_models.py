"""Every sources and destinations response (and error) matches the official SDK's models."""

from catalog.models import DestinationMetadata, SourceMetadata
from tests.api.conftest import validate_with_sdk

HOOK = {"webhookUrls": ["http://127.0.0.1:9/hook"], "sharedSecret": "pssst"}


def test_responses_match_the_official_sdk_models(catalog, api):
    values = []

    def check(model, response, label):
        assert response.status_code < 300, (label, response.content[:500])
        values.append({"model": model, "value": response.json()["data"], "label": label})
        return response.json()["data"]

    stripe = SourceMetadata.objects.get(slug="stripe")
    created = check(
        "CreateSourceV1Output",
        api.post("/sources", {"slug": "site", "enabled": True, "metadataId": stripe.pk}),
        "createSource",
    )
    source_id = created["source"]["id"]
    check("GetSourceV1Output", api.get(f"/sources/{source_id}"), "getSource")
    check("ListSourcesV1Output", api.get("/sources"), "listSources")
    check(
        "UpdateSourceV1Output",
        api.patch(f"/sources/{source_id}", {"name": "Site", "settings": {"environment": "x"}}),
        "updateSource",
    )
    keys = check(
        "CreateWriteKeyForSourceAlphaOutput",
        api.post(f"/sources/{source_id}/writekey"),
        "createWriteKeyForSource",
    )["source"]["writeKeys"]
    check(
        "RemoveWriteKeyFromSourceAlphaOutput",
        api.delete(f"/sources/{source_id}/writekey/{keys[0]}"),
        "removeWriteKeyFromSource",
    )

    site = api.post(
        "/sources",
        {"slug": "web", "enabled": True, "metadataId": SourceMetadata.objects.get(slug="javascript").pk},
    ).json()["data"]["source"]  # fmt: skip
    webhooks = DestinationMetadata.objects.get(slug="webhooks")
    destination = check(
        "CreateDestinationV1Output",
        api.post(
            "/destinations", {"sourceId": site["id"], "metadataId": webhooks.pk, "settings": HOOK}
        ),
        "createDestination",
    )["destination"]
    check("GetDestinationV1Output", api.get(f"/destinations/{destination['id']}"), "getDestination")
    check("ListDestinationsV1Output", api.get("/destinations"), "listDestinations")
    check(
        "ListConnectedDestinationsFromSourceV1Output",
        api.get(f"/sources/{site['id']}/connected-destinations"),
        "listConnectedDestinationsFromSource",
    )
    check(
        "UpdateDestinationV1Output",
        api.patch(f"/destinations/{destination['id']}", {"name": "Hook", "enabled": True}),
        "updateDestination",
    )
    check(
        "DeleteDestinationV1Output",
        api.delete(f"/destinations/{destination['id']}"),
        "deleteDestination",
    )
    check("DeleteSourceV1Output", api.delete(f"/sources/{source_id}"), "deleteSource")

    for label, response in [
        ("404", api.get(f"/sources/{source_id}")),
        ("422", api.post("/destinations", {"sourceId": site["id"], "settings": {}})),
        ("409", api.post("/sources", {"slug": "web", "enabled": True, "metadataId": stripe.pk})),
    ]:
        values.append({"model": "RequestErrorEnvelope", "value": response.json(), "label": label})
    validate_with_sdk(values)
