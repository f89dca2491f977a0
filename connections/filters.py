"""Operations on destination filters: create, update, enable, reorder, delete.

Every rule about a filter's configuration lives here: at most ``MAX_FILTERS_PER_INSTANCE`` per
instance (on every plan), the FQL condition parsed when it is saved (so a broken expression is
refused here, with its position, never met at delivery time), and valid actions. Each change
bumps the source's configuration version, which workers and the settings document key on.
"""

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from connections.filter_actions import validate_actions
from connections.fql import FqlError, parse
from connections.models import DestinationFilter, DestinationInstance, Source
from segapp import audit
from segapp.refusal import Refusal

MAX_FILTERS_PER_INSTANCE = 10
EDITABLE = ("title", "description", "condition", "actions", "enabled")


def parsed_condition(text) -> list:
    """The condition's syntax tree, or a refusal that points at the error."""
    if not isinstance(text, str):
        raise Refusal("The condition must be an FQL expression.", rule="filter-fql", field="if")
    try:
        return parse(text)
    except FqlError as error:
        raise Refusal(str(error), rule="filter-fql", field="if") from error


def checked_actions(actions) -> list:
    if errors := validate_actions(actions):
        raise Refusal("; ".join(errors), rule="filter-actions", field="actions")
    return actions


def checked_title(title) -> str:
    if not isinstance(title, str) or not title.strip():
        raise Refusal("A filter needs a title.", rule="filter-title", field="title")
    if len(title.strip()) > 200:
        raise Refusal(
            "A filter title has at most 200 characters.", rule="filter-title", field="title"
        )
    return title.strip()


def snapshot(item: DestinationFilter) -> dict:
    return {
        "title": item.title,
        "description": item.description,
        "if": item.condition,
        "actions": item.actions,
        "enabled": item.enabled,
        "position": item.position,
    }


def _lock_source(instance: DestinationInstance) -> Source:
    return Source.objects.select_for_update().get(pk=instance.source_id)


def _saved(item: DestinationFilter, instance: DestinationInstance, fields=None) -> None:
    item.updated_at = timezone.now()
    item.save(update_fields=[*fields, "updated_at"] if fields else None)
    instance.source.bump_config_version()


@transaction.atomic
def create_filter(
    instance: DestinationInstance,
    actor,
    *,
    title: str,
    condition: str,
    actions: list,
    description: str = "",
    enabled: bool = True,
) -> DestinationFilter:
    _lock_source(instance)
    existing = DestinationFilter.objects.filter(instance=instance)
    if existing.count() >= MAX_FILTERS_PER_INSTANCE:
        raise Refusal(
            f"An instance has at most {MAX_FILTERS_PER_INSTANCE} filters; "
            f"{instance.name} has {MAX_FILTERS_PER_INSTANCE} already.",
            rule="filter-limit",
            status=409,
        )
    last = existing.aggregate(last=Max("position"))["last"]
    item = DestinationFilter(
        workspace_id=instance.workspace_id,
        instance=instance,
        title=checked_title(title),
        description=description or "",
        condition=condition.strip(),
        condition_ast=parsed_condition(condition),
        actions=checked_actions(actions),
        enabled=bool(enabled),
        position=0 if last is None else last + 1,
    )
    _saved(item, instance)
    audit.record(instance.workspace, actor, "filter.created", item, after=snapshot(item))
    return item


@transaction.atomic
def update_filter(item: DestinationFilter, actor, **changes) -> DestinationFilter:
    """Changes any of ``EDITABLE``; what is not given is kept (the Public API's PATCH)."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    _lock_source(item.instance)
    item = DestinationFilter.objects.select_related("instance__source").get(pk=item.pk)
    before = snapshot(item)
    if "title" in changes:
        item.title = checked_title(changes["title"])
    if "description" in changes:
        item.description = changes["description"] or ""
    if "condition" in changes:
        item.condition_ast = parsed_condition(changes["condition"])
        item.condition = changes["condition"].strip()
    if "actions" in changes:
        item.actions = checked_actions(changes["actions"])
    if "enabled" in changes:
        item.enabled = bool(changes["enabled"])
    if snapshot(item) != before:
        _saved(item, item.instance)
        audit.record(
            item.instance.workspace,
            actor,
            "filter.updated",
            item,
            before=before,
            after=snapshot(item),
        )
    return item


@transaction.atomic
def move_filter(item: DestinationFilter, actor, offset: int) -> DestinationFilter:
    """Moves a filter ``offset`` places up (negative) or down in its instance's list."""
    instance = item.instance
    _lock_source(instance)
    ordered = list(DestinationFilter.objects.filter(instance=instance))
    index = next(i for i, f in enumerate(ordered) if f.pk == item.pk)
    target = max(0, min(len(ordered) - 1, index + offset))
    if target == index:
        return item
    before = [f.pk for f in ordered]
    ordered.insert(target, ordered.pop(index))
    for position, other in enumerate(ordered):
        if other.position != position:
            other.position = position
            other.save(update_fields=["position"])
    instance.source.bump_config_version()
    audit.record(
        instance.workspace,
        actor,
        "filter.reordered",
        ordered[target],
        before={"order": before},
        after={"order": [f.pk for f in ordered]},
    )
    return ordered[target]


@transaction.atomic
def delete_filter(item: DestinationFilter, actor) -> None:
    instance = item.instance
    _lock_source(instance)
    audit.record(instance.workspace, actor, "filter.deleted", item, before=snapshot(item))
    item.delete()
    instance.source.bump_config_version()
