"""Invitation links: how a person whose account an owner created chooses their password.

A link is a credential for that one account, so it goes only to the owner who created the
account, in the same call (``workspaces.add_member``), to pass on. Adding someone who already has
an account, with or without a password, hands out nothing: they sign in with their own. Only the
workspace that created the account may replace its link, and a new link supersedes the old ones.
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from segapp import audit
from segapp.models import Invitation, Membership, User, Workspace, hash_token
from segapp.refusal import Refusal


def accept_path(raw: str) -> str:
    return reverse("segapp:invitation-accept", kwargs={"token": raw})


def issue_invitation(user: User, workspace: Workspace, actor) -> str:
    """A new link for ``user``; earlier ones stop working. Returns the link's path."""
    now = timezone.now()
    Invitation.objects.filter(
        user=user, accepted_at__isnull=True, superseded_at__isnull=True
    ).update(superseded_at=now)
    raw = secrets.token_urlsafe(32)
    Invitation.objects.create(
        user=user,
        workspace=workspace,
        invited_by=actor if isinstance(actor, User) else None,
        token_hash=hash_token(raw),
        created_at=now,
        expires_at=now + timedelta(seconds=settings.INVITATION_MAX_AGE),
    )
    return accept_path(raw)


@transaction.atomic
def reissue_invitation(membership: Membership, actor) -> str:
    """A replacement link for a member who has not chosen a password yet (the first one was lost
    or expired). Refused unless this workspace created their account."""
    user = User.objects.select_for_update().get(pk=membership.user_id)
    if user.has_usable_password():
        raise Refusal(
            f"{user.email} already chose a password; they sign in with it.",
            rule="invitation-accepted",
            status=409,
        )
    if not Invitation.objects.filter(user=user, workspace_id=membership.workspace_id).exists():
        raise Refusal(
            f"{user.email} was invited by another workspace: only the workspace that invited "
            "them can send them a new link.",
            rule="invitation-other-workspace",
            status=409,
        )
    path = issue_invitation(user, membership.workspace, actor)
    audit.record(
        membership.workspace, actor, "member.invited", membership, after={"email": user.email}
    )
    return path


def usable_invitation(raw: str) -> Invitation | None:
    """The invitation whose link is ``raw``, if it may still be used."""
    invitation = (
        Invitation.objects.select_related("user", "workspace")
        .filter(token_hash=hash_token(raw))
        .first()
    )
    if invitation is None or not _may_accept(invitation):
        return None
    return invitation


def _may_accept(invitation: Invitation) -> bool:
    # A password chosen any other way (support staff, say) ends every pending invitation.
    return invitation.is_usable(timezone.now()) and not invitation.user.has_usable_password()


@transaction.atomic
def accept_invitation(raw: str, password: str) -> User:
    """Sets the invited person's password and spends the link."""
    invitation = (
        Invitation.objects.select_for_update()
        .select_related("user", "workspace")
        .filter(token_hash=hash_token(raw))
        .first()
    )
    if invitation is None or not _may_accept(invitation):
        raise Refusal("This link has already been used or has expired.", rule="invitation-unusable")
    user = invitation.user
    user.set_password(password)
    user.save(update_fields=["password"])
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    audit.record(invitation.workspace, user, "member.joined", invitation, label=user.email)
    return user
