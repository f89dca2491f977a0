"""Text PostgreSQL cannot store (NUL) or that is not Unicode at all (an unpaired surrogate, which
JSON's \\u escapes can still spell) is refused with a 422 naming the field, wherever a body
carries free-form JSON that is stored: never a server error, and nothing is stored."""

import pytest

from catalog.models import DestinationMetadata
from connections.models import DestinationFilter, DestinationInstance, Source
from tests.api.conftest import errors_of

pytestmark = pytest.mark.django_db

BAD_TEXT = ["nul\u0000here", "lone\ud800surrogate"]


def requests_with(text, source, instance):
    hook = {"webhookUrls": ["http://127.0.0.1:9/x"]}
    name = f"workspaces/{source.workspace.slug}/sources/{source.slug}/destinations/webhooks"
    return {
        "update source settings": ("patch", f"/sources/{source.pk}", {"settings": {text: text}}, "settings"),
        "create source settings": ("post", "/sources", {"slug": "new", "enabled": True, "metadataId": source.metadata_id, "settings": {"a": [text]}}, "settings"),
        "update destination settings": ("patch", f"/destinations/{instance.pk}", {"settings": {"headers": {"X": text}}}, "settings"),
        "create destination settings": ("post", "/destinations", {"sourceId": source.pk, "metadataId": DestinationMetadata.objects.get(slug="webhooks").pk, "settings": {**hook, "extra": text}}, "settings"),
        "filter action": ("post", f"/destination/{instance.pk}/filters", {"sourceId": source.pk, "if": "all", "title": "t", "enabled": True, "actions": [{"type": "DROP_PROPERTIES", "fields": {"properties": [text]}}]}, "actions"),
        "config api value": ("post", f"/workspaces/{source.workspace.slug}/sources/{source.slug}/destinations", {"destination": {"name": name, "config": [{"name": f"{name}/config/webhookUrls", "value": [text]}]}}, "destination.config"),
    }  # fmt: skip


def stored():
    return (
        sorted(Source.objects.values_list("name", "settings")),
        DestinationInstance.objects.count(),
        DestinationFilter.objects.count(),
    )


@pytest.mark.parametrize("text", BAD_TEXT, ids=["nul", "lone surrogate"])
@pytest.mark.parametrize(
    "case",
    ["update source settings", "create source settings", "update destination settings",
     "create destination settings", "filter action", "config api value"],
)  # fmt: skip
def test_unstorable_text_is_refused_naming_the_field(api, source, instance, case, text):
    method, path, body, field = requests_with(text, source, instance)[case]
    before = stored()
    response = getattr(api, method)(path, body)
    if "\ud800" in text:
        # Not Unicode at all: the JSON parser refuses the whole body.
        (error, *_) = errors_of(response, 400)
        assert "surrogate" in error["message"]
    else:
        (error, *_) = errors_of(response, 422)
        assert error["field"].startswith(field)
    assert stored() == before
