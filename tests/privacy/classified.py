"""Classifying fields the way a workspace owner does: events arrive, field discovery's sweep puts
their fields in the Inbox, and the owner classifies them (``privacy.inventory``)."""

from delivery import field_discovery
from privacy import inventory
from privacy.models import Field


def classify(workspace, owner, classes: dict[str, str]) -> None:
    """``classes``: field path → classification, for fields already in archived events."""
    field_discovery.run()
    for path, classification in classes.items():
        field = Field.objects.get(workspace=workspace, path=path)
        inventory.classify(workspace, owner, [field.pk], classification)
