"""Public API tokens: created by owners, shown once, stored hashed, revocable."""

import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from segapp import audit
from segapp.models import TOKEN_PREFIX, ApiToken, Workspace, hash_token
from segapp.refusal import Refusal

# Writing last_used_at on every call would add a write to every read; a minute is precise enough.
LAST_USED_PRECISION = timedelta(minutes=1)


@transaction.atomic
def create_token(workspace: Workspace, description: str, role: str, actor) -> tuple[ApiToken, str]:
    description = description.strip()
    if not description:
        raise Refusal(
            "Describe what the token is for.",
            rule="token-description-required",
            field="description",
        )
    if role not in dict(ApiToken.ROLES):
        raise Refusal(
            "A token's role is owner, member or read-only.", rule="token-role", field="role"
        )
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        workspace=workspace,
        description=description,
        role=role,
        token_hash=hash_token(raw),
        hint=raw[-4:],
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit.record(
        workspace, actor, "token.created", token, after={"description": description, "role": role}
    )
    return token, raw


@transaction.atomic
def revoke_token(token: ApiToken, actor) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(token.workspace, actor, "token.revoked", token)
    return token


def authenticate_token(raw: str) -> ApiToken | None:
    """The active token for ``raw``, or None. Marks it used (at most once a minute)."""
    token = (
        ApiToken.objects.select_related("workspace")
        .filter(token_hash=hash_token(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
