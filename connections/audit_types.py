"""How the audit trail names connections' entries and links them to their pages."""

from connections.models import DestinationFilter, DestinationInstance, Source, Transformation
from segapp import audit


def register() -> None:
    audit.register(
        DestinationInstance,
        "Destination",
        {
            "instance.created": "created destination",
            "instance.renamed": "renamed destination",
            "instance.enabled": "enabled destination",
            "instance.disabled": "disabled destination",
            "instance.mode_changed": "changed connection mode",
            "instance.settings_changed": "changed settings",
            "instance.settings_copied": "copied settings",
            "instance.settings_restored": "restored settings",
            "instance.redelivery_requested": "re-delivered dead letters",
            "instance.replay_started": "started a replay to destination",
            "instance.replay_cancelled": "cancelled a replay to destination",
            "instance.deleted": "deleted destination",
        },
        audit.linker(DestinationInstance.objects, "connections:instance-detail", "pk"),
    )
    audit.register(
        Source,
        "Source",
        {
            "source.created": "created source",
            "source.updated": "changed source",
            "source.deleted": "deleted source",
            "write_key.added": "added write key",
            "write_key.deleted": "deleted write key",
        },
        audit.linker(Source.objects, "connections:source-detail", "pk"),
    )
    audit.register(
        DestinationFilter,
        "Destination filter",
        {
            "filter.created": "created filter",
            "filter.updated": "changed filter",
            "filter.reordered": "reordered filters",
            "filter.deleted": "deleted filter",
        },
        audit.linker(DestinationFilter.objects, "connections:filter-edit", "instance_id", "pk"),
    )
    audit.register(
        Transformation,
        "Transformation",
        {
            "transformation.created": "created transformation",
            "transformation.updated": "changed transformation",
            "transformation.deleted": "deleted transformation",
        },
        audit.linker(Transformation.objects, "connections:transformation-edit", "source_id", "pk"),
    )
