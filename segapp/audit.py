"""The audit trail: every configuration change is recorded by the operation that makes it."""

from segapp.models import ApiToken, AuditEntry, User, Workspace

Actor = User | ApiToken | None


def actor_label(actor: Actor) -> str:
    if isinstance(actor, User):
        return actor.email
    if isinstance(actor, ApiToken):
        return f"API token “{actor.description}”"
    return "system"


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
