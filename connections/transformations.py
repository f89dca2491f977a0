"""Operations on source transformations: create, update, delete, with their rules. They run in
the order they were added.

A transformation belongs to a source and changes its messages before they fan out: it renames a
track (page, screen) event, and renames or drops properties (traits for identify and group).
Every instance of the source therefore receives the same result.
"""

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from connections.models import Source, Transformation, TransformationTarget
from segapp import audit
from segapp.refusal import Refusal

NAMED_TARGETS = {TransformationTarget.TRACK, TransformationTarget.PAGE, TransformationTarget.SCREEN}
EDITABLE = ("name", "enabled", "target", "event_name", "new_event_name", "renames", "drops")


def _refuse(message: str, field: str) -> Refusal:
    return Refusal(message, rule="transformation", field=field)


def cleaned(values: dict) -> dict:
    """The transformation's fields, checked and normalised, or a refusal naming the field."""
    name = str(values.get("name") or "").strip()
    if not name:
        raise _refuse("A transformation needs a name.", "name")
    target = values.get("target")
    if target not in TransformationTarget.values:
        choices = ", ".join(TransformationTarget.values)
        raise _refuse(f"Apply it to one of: {choices}.", "target")
    event_name = str(values.get("event_name") or "").strip()
    new_event_name = str(values.get("new_event_name") or "").strip()
    if target not in NAMED_TARGETS and (event_name or new_event_name):
        raise _refuse(f"{target} calls have no event name to match or rename.", "event_name")
    if new_event_name and not event_name:
        raise _refuse("Name the event to rename.", "event_name")
    renames = values.get("renames") or {}
    if not isinstance(renames, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and k.strip() and v.strip()
        for k, v in renames.items()
    ):
        raise _refuse("Renames map each old name to a new, non-empty name.", "renames")
    renames = {k.strip(): v.strip() for k, v in renames.items()}
    if len(set(renames.values())) != len(renames):
        raise _refuse("Two properties cannot be renamed to the same name.", "renames")
    drops = values.get("drops") or []
    if not isinstance(drops, list) or not all(isinstance(d, str) and d.strip() for d in drops):
        raise _refuse("Dropped properties are a list of names.", "drops")
    drops = [d.strip() for d in drops]
    if overlap := sorted(set(drops) & set(renames)):
        raise _refuse(f"{', '.join(overlap)} cannot be both renamed and dropped.", "drops")
    if not (new_event_name or renames or drops):
        raise _refuse("Rename the event, or rename or drop at least one property.", "renames")
    return {
        "name": name,
        "enabled": bool(values.get("enabled", True)),
        "target": target,
        "event_name": event_name,
        "new_event_name": new_event_name,
        "renames": renames,
        "drops": drops,
    }


def snapshot(item: Transformation) -> dict:
    return {field: getattr(item, field) for field in (*EDITABLE, "position")}


def _saved(item: Transformation) -> None:
    item.updated_at = timezone.now()
    item.save()
    item.source.bump_config_version()


@transaction.atomic
def create_transformation(source: Source, actor, values: dict) -> Transformation:
    source = Source.objects.select_for_update().select_related("workspace").get(pk=source.pk)
    last = Transformation.objects.filter(source=source).aggregate(last=Max("position"))["last"]
    item = Transformation(
        workspace_id=source.workspace_id,
        source=source,
        position=0 if last is None else last + 1,
        **cleaned(values),
    )
    _saved(item)
    audit.record(source.workspace, actor, "transformation.created", item, after=snapshot(item))
    return item


@transaction.atomic
def update_transformation(item: Transformation, actor, values: dict) -> Transformation:
    Source.objects.select_for_update().filter(pk=item.source_id).first()
    item = Transformation.objects.select_related("source__workspace").get(pk=item.pk)
    before = snapshot(item)
    merged = {**{f: getattr(item, f) for f in EDITABLE}, **values}
    for field, value in cleaned(merged).items():
        setattr(item, field, value)
    if snapshot(item) != before:
        _saved(item)
        audit.record(
            item.source.workspace,
            actor,
            "transformation.updated",
            item,
            before=before,
            after=snapshot(item),
        )
    return item


@transaction.atomic
def delete_transformation(item: Transformation, actor) -> None:
    source = Source.objects.select_for_update().select_related("workspace").get(pk=item.source_id)
    audit.record(source.workspace, actor, "transformation.deleted", item, before=snapshot(item))
    item.delete()
    source.bump_config_version()
