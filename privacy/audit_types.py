"""How the audit trail names the privacy layer's entries and links them to their pages."""

from django.urls import reverse

from connections.models import DestinationInstance
from privacy.models import Field, Matcher, Regulation
from segapp import audit
from segapp.models import Workspace


def _regulation_links(workspace, ids: list[str]) -> dict[str, str]:
    page = reverse("privacy:regulations", args=[workspace.slug])
    kept = Regulation.objects.filter(workspace=workspace, pk__in=ids).values_list("pk", flat=True)
    return {pk: f"{page}#regulation-{pk}" for pk in kept}


def register() -> None:
    audit.register(
        Field,
        "Privacy field",
        {
            "privacy.field_classified": "classified field",
            "privacy.field_returned_to_inbox": "returned field to the Privacy Inbox",
        },
        audit.linker(Field.objects, "privacy:field", "pk"),
    )
    audit.register(
        Matcher,
        "Custom matcher",
        {
            "privacy.matcher_created": "added custom matcher",
            "privacy.matcher_updated": "changed custom matcher",
            "privacy.matcher_deleted": "deleted custom matcher",
        },
        audit.linker(Matcher.objects, "privacy:matchers"),
    )
    audit.register(
        Regulation,
        "Regulation",
        {
            "regulation.created": "requested a regulation (suppression or deletion)",
            "regulation.deleted": "withdrew a regulation",
        },
        _regulation_links,
    )
    audit.extend(
        Workspace,
        {
            "privacy.control_changed": "changed a data control",
            "privacy.key_uploaded": "uploaded the encryption key",
        },
    )
    audit.extend(
        DestinationInstance, {"instance.privacy_changed": "changed the destination's privacy"}
    )
