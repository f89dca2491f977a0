"""Classifying fields: the one way a field enters the Inventory (Red, Yellow or Green) or goes
back to the Inbox. Every change is audited and bumps the workspace's policy version, so routing
applies it from the next batch on (``privacy.versions``)."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from privacy import versions
from privacy.models import Classification, Field
from segapp import audit
from segapp.models import User, Workspace
from segapp.refusal import Refusal

# The most fields one bulk change may name: a page of the Inbox or the Inventory.
MAX_BULK = 500
UNCLASSIFIED = ""


def refuse_classification(classification: str) -> Refusal | None:
    if classification not in Classification.values:
        return Refusal(
            "Choose Red, Yellow or Green.", rule="classification", field="classification"
        )
    return None


def refuse_bulk(field_ids: list) -> Refusal | None:
    if not field_ids:
        return Refusal("Select at least one field.", rule="fields_selected", field="fields")
    if len(field_ids) > MAX_BULK:
        return Refusal(
            f"Classify at most {MAX_BULK} fields at a time.", rule="fields_selected", field="fields"
        )
    return None


@dataclass(frozen=True)
class Change:
    field: Field
    before: str
    after: str


def classify(workspace: Workspace, actor, field_ids: list, classification: str) -> list[Change]:
    """Gives the fields (of this workspace; others are ignored) ``classification``."""
    if refusal := refuse_classification(classification):
        raise refusal
    return _change(workspace, actor, field_ids, lambda field: classification)


def add_to_inventory(workspace: Workspace, actor, field_ids: list) -> list[Change]:
    """Accepts each field's suggestion (Green for a field no matcher matched)."""
    return _change(workspace, actor, field_ids, lambda f: f.suggested or Classification.GREEN)


def return_to_inbox(workspace: Workspace, actor, field_ids: list) -> list[Change]:
    """Clears the fields' classification: they are unclassified again, in the Inbox."""
    return _change(workspace, actor, field_ids, lambda field: UNCLASSIFIED)


def _change(workspace: Workspace, actor, field_ids: list, target) -> list[Change]:
    ids = list(dict.fromkeys(field_ids))
    if refusal := refuse_bulk(ids):
        raise refusal
    now = timezone.now()
    changes = []
    with transaction.atomic():
        fields = Field.objects.select_for_update().filter(workspace=workspace, pk__in=ids)
        for field in fields.order_by("pk"):
            before, after = field.classification, target(field)
            if before == after:
                continue
            field.classification = after
            field.classified_at = now if after else None
            field.classified_by = actor if after and isinstance(actor, User) else None
            changes.append(Change(field, before, after))
        if not changes:
            return []
        changed = [c.field for c in changes]
        Field.objects.bulk_update(
            changed, ["classification", "classified_at", "classified_by"], batch_size=MAX_BULK
        )
        for c in changes:
            action = "privacy.field_classified" if c.after else "privacy.field_returned_to_inbox"
            audit.record(
                workspace,
                actor,
                action,
                c.field,
                before={"classification": c.before or "unclassified"},
                after={"classification": c.after or "unclassified"},
                label=c.field.path,
            )
        versions.policy_changed(workspace.pk)
    return changes
