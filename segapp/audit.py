"""The audit trail: every configuration change is recorded by the operation that makes it.

Each app registers the object types it audits (``register``): a readable name, a readable phrase
for each of its actions, and how to link an entry to the object's page while the object exists.
The audit trail page reads only this registry, so it needs no import of the apps above ``segapp``.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from django.urls import reverse

from segapp.models import ApiToken, AuditEntry, Invitation, Membership, User, Workspace

Actor = User | ApiToken | None
SYSTEM = "system"


def actor_label(actor: Actor) -> str:
    if isinstance(actor, User):
        return actor.email
    if isinstance(actor, ApiToken):
        return token_label(actor.description)
    return SYSTEM


def token_label(description: str) -> str:
    return f"API token “{description}”"


def record(
    workspace: Workspace,
    actor: Actor,
    action: str,
    obj,
    *,
    before: dict | None = None,
    after: dict | None = None,
    label: str | None = None,
) -> AuditEntry:
    return AuditEntry.objects.create(
        workspace=workspace,
        actor_user=actor if isinstance(actor, User) else None,
        actor_token=actor if isinstance(actor, ApiToken) else None,
        actor_label=actor_label(actor),
        action=action,
        object_type=obj._meta.model_name,
        object_id=str(obj.pk),
        object_label=label if label is not None else str(obj)[:200],
        before=before,
        after=after,
    )


# The links of one page of entries: (workspace, ids of one object type) → {id: url}.
Links = Callable[[Workspace, list[str]], dict[str, str]]


@dataclass(frozen=True)
class ObjectType:
    label: str
    actions: dict[str, str] = field(default_factory=dict)
    links: Links | None = None


OBJECT_TYPES: dict[str, ObjectType] = {}


def register(model, label: str, actions: dict[str, str], links: Links | None = None) -> None:
    """Names ``model``'s entries on the audit trail: ``actions`` maps each action it records to
    a phrase ("enabled destination")."""
    OBJECT_TYPES[model._meta.model_name] = ObjectType(label, actions, links)


def extend(model, actions: dict[str, str]) -> None:
    """Adds actions another app records on ``model``'s entries to its registered type."""
    registered = OBJECT_TYPES[model._meta.model_name]
    OBJECT_TYPES[model._meta.model_name] = ObjectType(
        registered.label, {**registered.actions, **actions}, registered.links
    )


def action_label(action: str) -> str:
    for object_type in OBJECT_TYPES.values():
        if action in object_type.actions:
            return object_type.actions[action]
    return action


def type_label(object_type: str) -> str:
    registered = OBJECT_TYPES.get(object_type)
    return registered.label if registered else object_type


def object_types_named(name: str) -> list[str]:
    """The object types a reader's name stands for: a label ("Destination", any case, singular
    or plural) or an object type itself ("destinationinstance")."""

    def plain(text: str) -> str:
        return text.strip().lower().removesuffix("s")

    wanted = plain(name)
    return [
        object_type
        for object_type, registered in OBJECT_TYPES.items()
        if wanted in (plain(object_type), plain(registered.label))
    ]


def linker(queryset, url_name: str, *fields: str) -> Links:
    """Links to ``url_name`` (args: the workspace slug, then ``fields`` of the object) for the
    objects of ``queryset`` that are still in the workspace; one query for a page of entries."""

    def links(workspace: Workspace, ids: list[str]) -> dict[str, str]:
        found = queryset.filter(workspace=workspace, pk__in=ids).order_by()
        rows = found.values_list("pk", *fields)
        return {str(pk): reverse(url_name, args=[workspace.slug, *args]) for pk, *args in rows}

    return links


@dataclass(frozen=True)
class Change:
    key: str
    old: str | None  # None: the key was absent
    new: str | None


def _shown(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _flat(snapshot: dict | None) -> dict:
    """One level of nesting spelled out ("settings.apiKey"), so a diff names the setting."""
    flat = {}
    for key, value in (snapshot or {}).items():
        if isinstance(value, dict) and value:
            flat.update({f"{key}.{inner}": v for inner, v in value.items()})
        else:
            flat[key] = value
    return flat


def changes(before: dict | None, after: dict | None, *, flatten: bool = True) -> list[Change]:
    """The keys whose values differ, old → new. Snapshots hold secrets as masks, so do the changes.
    ``flatten`` spells out nested documents (an audit snapshot's ``settings``)."""
    old, new = (_flat(before), _flat(after)) if flatten else (before or {}, after or {})
    return [
        Change(
            key, _shown(old[key]) if key in old else None, _shown(new[key]) if key in new else None
        )
        for key in [*old, *(k for k in new if k not in old)]
        if old.get(key, _ABSENT) != new.get(key, _ABSENT)
    ]


_ABSENT = object()


def register_workspace_types() -> None:
    register(
        Workspace,
        "Workspace",
        {"workspace.created": "created workspace", "workspace.updated": "changed workspace"},
        lambda workspace, ids: {
            workspace.pk: reverse("segapp:settings-general", args=[workspace.slug])
        },
    )
    register(
        Membership,
        "Member",
        {
            "member.added": "added member",
            "member.role_changed": "changed member's role",
            "member.removed": "removed member",
            "member.invited": "sent a new invitation link to member",
        },
        linker(Membership.objects, "segapp:member-list"),
    )
    register(Invitation, "Invitation", {"member.joined": "accepted the invitation"})
    register(
        ApiToken,
        "Access token",
        {"token.created": "created access token", "token.revoked": "revoked access token"},
        linker(ApiToken.objects, "segapp:token-list"),
    )
