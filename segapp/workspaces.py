"""Operations on workspaces and their members. Views, admin and commands call these."""

from django.conf import settings
from django.db import transaction
from django.utils.text import slugify

from segapp import audit, invitations
from segapp.models import Membership, Plan, Role, User, Workspace
from segapp.refusal import Refusal


def unique_workspace_slug(name: str) -> str:
    base = slugify(name)[:90] or "workspace"
    taken = set(Workspace.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def create_workspace(owner: User, name: str, plan: str = Plan.FREE) -> Workspace:
    name = name.strip()
    if not name:
        raise Refusal("A workspace needs a name.", rule="workspace-name-required", field="name")
    workspace = Workspace.objects.create(name=name, slug=unique_workspace_slug(name), plan=plan)
    Membership.objects.create(workspace=workspace, user=owner, role=Role.OWNER)
    audit.record(
        workspace, owner, "workspace.created", workspace, after={"name": name, "plan": plan}
    )
    return workspace


_UNCHANGED = object()


def refuse_retention(days: int | None) -> Refusal | None:
    """A workspace keeps its events 1 day to the server's maximum (None: the server's default)."""
    most = settings.ARCHIVE_MAX_RETENTION_DAYS
    if days is not None and not 1 <= days <= most:
        return Refusal(
            f"Choose between 1 and {most} days (this server keeps events {most} days at most).",
            rule="retention-range",
            field="retention_days",
        )
    return None


@transaction.atomic
def update_workspace(
    workspace: Workspace,
    actor,
    *,
    name: str | None = None,
    plan: str | None = None,
    retention_days=_UNCHANGED,
    hipaa_eligible: bool | None = None,
):
    """Changes what is given; ``retention_days`` None goes back to the server's default.
    ``hipaa_eligible`` is for support staff (Django admin), once a BAA is signed."""
    before = {"name": workspace.name, "plan": workspace.plan,
              "retentionDays": workspace.retention_days,
              "hipaaEligible": workspace.hipaa_eligible}  # fmt: skip
    if name is not None:
        if not name.strip():
            raise Refusal("A workspace needs a name.", rule="workspace-name-required", field="name")
        workspace.name = name.strip()
    if plan is not None:
        if plan not in Plan.values:
            raise Refusal(f"Unknown plan “{plan}”.", rule="plan-unknown", field="plan")
        workspace.plan = plan
    if retention_days is not _UNCHANGED:
        if refusal := refuse_retention(retention_days):
            raise refusal
        workspace.retention_days = retention_days
    if hipaa_eligible is not None:
        workspace.hipaa_eligible = hipaa_eligible
    after = {"name": workspace.name, "plan": workspace.plan,
             "retentionDays": workspace.retention_days,
             "hipaaEligible": workspace.hipaa_eligible}  # fmt: skip
    if after != before:
        workspace.save(update_fields=["name", "plan", "retention_days", "hipaa_eligible"])
        audit.record(workspace, actor, "workspace.updated", workspace, before=before, after=after)
    return workspace


@transaction.atomic
def add_member(workspace: Workspace, email: str, role: str, actor) -> tuple[Membership, str | None]:
    """Adds a member. A person without an account gets one, and the owner gets the one-time link
    (a path) to pass on so they choose a password; anyone who already has an account gets no link
    (it would be a way into their account), they sign in with their own."""
    email = User.objects.normalize_email(email.strip()).lower()
    if role not in Role.values:
        raise Refusal(f"Unknown role “{role}”.", rule="role-unknown", field="role")
    user, created = User.objects.get_or_create(email=email)
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    if Membership.objects.filter(workspace=workspace, user=user).exists():
        raise Refusal(
            f"{email} is already a member.", rule="member-exists", field="email", status=409
        )
    membership = Membership.objects.create(workspace=workspace, user=user, role=role)
    audit.record(workspace, actor, "member.added", membership, after={"email": email, "role": role})
    return membership, invitations.issue_invitation(user, workspace, actor) if created else None


def _refuse_losing_last_owner(membership: Membership) -> None:
    others = Membership.objects.filter(workspace_id=membership.workspace_id, role=Role.OWNER)
    if membership.role == Role.OWNER and not others.exclude(pk=membership.pk).exists():
        raise Refusal(
            "A workspace must keep at least one owner.", rule="last-owner", field="role", status=409
        )


@transaction.atomic
def change_member_role(membership: Membership, role: str, actor) -> Membership:
    if role not in Role.values:
        raise Refusal(f"Unknown role “{role}”.", rule="role-unknown", field="role")
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if role == membership.role:
        return membership
    if role != Role.OWNER:
        _refuse_losing_last_owner(membership)
    before = {"role": membership.role}
    membership.role = role
    membership.save(update_fields=["role"])
    audit.record(
        membership.workspace,
        actor,
        "member.role_changed",
        membership,
        before=before,
        after={"role": role},
    )
    return membership


@transaction.atomic
def remove_member(membership: Membership, actor) -> None:
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    _refuse_losing_last_owner(membership)
    audit.record(
        membership.workspace,
        actor,
        "member.removed",
        membership,
        before={"email": membership.user.email, "role": membership.role},
    )
    membership.delete()
