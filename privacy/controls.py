"""Data controls: what routing does with classified fields, per destination, in one place.

For a Red or Yellow field, the workspace's control for the destination's catalog category (or its
control for every other category, or the default below) says send, drop the field, hash it or
block the event. Two choices of the instance refine it:

- Red fields are never sent as they are to an instance that has not been explicitly allowed to
  receive them: there a "send" becomes "drop".
- Yellow fields that are sent may be protected per instance: hashed (SHA-256), or encrypted under
  the workspace's public key where the workspace is HIPAA eligible. Should encryption become
  impossible later (eligibility withdrawn), the field is dropped: it never goes out in clear.

Changes go through the ``set_*`` operations here (console, API and admin alike), which record an
audit entry and make routing rebuild its plan on the next batch (``privacy.versions``).
"""

from django.db import transaction
from django.utils import timezone

from connections.models import DestinationInstance
from privacy import encryption
from privacy.models import (
    Classification,
    ControlAction,
    DataControl,
    EncryptionKey,
    InstancePrivacy,
    YellowProtection,
)
from privacy.versions import policy_changed
from segapp import audit
from segapp.models import Workspace
from segapp.refusal import Refusal

# Without a control of the workspace's own: Red fields are dropped, Yellow ones sent.
DEFAULT_ACTIONS = {
    Classification.RED: ControlAction.DROP,
    Classification.YELLOW: ControlAction.SEND,
}
# What the protected classifications are, for pages and loops.
CONTROLLED = (Classification.RED, Classification.YELLOW)


def effective_action(
    classification: str,
    control: str,
    red_allowed: bool,
    yellow_protection: str,
    can_encrypt: bool,
) -> str:
    """What is done to one classified field for one instance: a ``ControlAction``, or
    ``"encrypt"``. ``control`` is the workspace's control for the instance's category."""
    if classification not in CONTROLLED:
        return ControlAction.SEND
    action = control
    if action != ControlAction.SEND:
        return action
    if classification == Classification.RED:
        return ControlAction.SEND if red_allowed else ControlAction.DROP
    if yellow_protection == YellowProtection.HASH:
        return ControlAction.HASH
    if yellow_protection == YellowProtection.ENCRYPT:
        return YellowProtection.ENCRYPT if can_encrypt else ControlAction.DROP
    return ControlAction.SEND


def control_for(controls: dict[tuple[str, str], str], category: str, classification: str) -> str:
    """The workspace's control for ``category`` (``controls`` keyed ``(category,
    classification)``), else its control for every other category (``""``), else the default."""
    return (
        controls.get((category, classification))
        or controls.get(("", classification))
        or DEFAULT_ACTIONS[classification]
    )


def workspace_controls(workspace_id: str) -> dict[tuple[str, str], str]:
    rows = DataControl.objects.filter(workspace_id=workspace_id)
    return {(row.category, row.classification): row.action for row in rows}


def can_encrypt(workspace: Workspace) -> bool:
    return workspace.hipaa_eligible and EncryptionKey.objects.filter(workspace=workspace).exists()


# Changing the controls.


# A category's control may follow the one for every other category instead of its own.
FOLLOW = ""


def refuse_control(category: str, classification: str, action: str) -> Refusal | None:
    if classification not in CONTROLLED:
        return Refusal(
            "Data controls act on Red and Yellow fields; Green fields are always sent.",
            rule="privacy-control-classification",
            field="classification",
        )
    if action not in ControlAction.values and not (category and action == FOLLOW):
        return Refusal(
            f"Unknown action {action!r}: use one of {', '.join(ControlAction.values)}.",
            rule="privacy-control-action",
            field="action",
        )
    return None


def set_control(workspace: Workspace, category: str, classification: str, action: str, actor):
    """Sets the workspace's control for ``category`` (``""``: every other category). A category
    given ``FOLLOW``, or every other category given the default, keeps no row of its own."""
    if refusal := refuse_control(category, classification, action):
        raise refusal
    with transaction.atomic():
        current = DataControl.objects.filter(
            workspace=workspace, category=category, classification=classification
        ).first()
        before = current.action if current else FOLLOW
        if action == FOLLOW or (not category and action == DEFAULT_ACTIONS[classification]):
            action = FOLLOW
            if current:
                current.delete()
        else:
            DataControl.objects.update_or_create(
                workspace=workspace,
                category=category,
                classification=classification,
                defaults={"action": action, "updated_at": timezone.now()},
            )
        if before != action:
            label = f"{classification.title()} fields for {category or 'every other category'}"
            shown = {"category": category, "classification": classification}
            audit.record(
                workspace,
                actor,
                "privacy.control_changed",
                workspace,
                before={**shown, "action": before or "default"},
                after={**shown, "action": action or "default"},
                label=label,
            )
            policy_changed(workspace.pk)


def reset_control(control: DataControl, actor) -> None:
    """Back to the default: a category follows every other category's control, which follows
    ``DEFAULT_ACTIONS``."""
    default = FOLLOW if control.category else DEFAULT_ACTIONS[control.classification]
    set_control(control.workspace, control.category, control.classification, default, actor)


def refuse_yellow_protection(workspace: Workspace, protection: str) -> Refusal | None:
    if protection not in YellowProtection.values:
        return Refusal(
            f"Unknown protection {protection!r}.", rule="privacy-protection", field="yellow"
        )
    if protection == YellowProtection.ENCRYPT and not workspace.hipaa_eligible:
        return Refusal(
            "Encryption of Yellow fields is for HIPAA-eligible workspaces; hash them instead.",
            rule="privacy-encryption-hipaa",
            field="yellow",
        )
    if protection == YellowProtection.ENCRYPT and not can_encrypt(workspace):
        return Refusal(
            "Upload the workspace's RSA public key (Privacy → Encryption) before turning "
            "encryption on.",
            rule="privacy-encryption-key",
            field="yellow",
        )
    return None


def instance_privacy(instance: DestinationInstance) -> InstancePrivacy:
    """The instance's choices (the defaults if it never made any: no Red, Yellow as controlled)."""
    return InstancePrivacy.objects.filter(instance=instance).first() or InstancePrivacy(
        instance=instance
    )


def set_instance_privacy(
    instance: DestinationInstance, red_allowed: bool, yellow_protection: str, actor
) -> InstancePrivacy:
    workspace = Workspace.objects.get(pk=instance.workspace_id)  # eligibility as it is now
    if refusal := refuse_yellow_protection(workspace, yellow_protection):
        raise refusal
    with transaction.atomic():
        current = instance_privacy(instance)
        before = {"redAllowed": current.red_allowed, "yellow": current.yellow_protection}
        current.red_allowed, current.yellow_protection = red_allowed, yellow_protection
        current.updated_at = timezone.now()
        current.save()
        after = {"redAllowed": red_allowed, "yellow": yellow_protection}
        if before != after:
            audit.record(
                workspace, actor, "instance.privacy_changed", instance, before=before, after=after
            )
            instance.source.bump_config_version()
    return current


# The HIPAA encryption key.


def refuse_key(workspace: Workspace, pem: str) -> Refusal | None:
    if not workspace.hipaa_eligible:
        return Refusal(
            "Only HIPAA-eligible workspaces encrypt fields; support staff set eligibility once "
            "a Business Associate Addendum is signed.",
            rule="privacy-encryption-hipaa",
            status=403,
        )
    try:
        encryption.load_public_key(pem)
    except encryption.UnusableKey as error:
        return Refusal(str(error), rule="privacy-encryption-key-format", field="public_key")
    return None


def set_key(workspace: Workspace, pem: str, actor) -> EncryptionKey:
    """Stores (or replaces) the workspace's public key: new events are encrypted under it from
    the next batch on. There is no removing it, only replacing, while instances encrypt."""
    if refusal := refuse_key(workspace, pem):
        raise refusal
    key = encryption.load_public_key(pem)
    with transaction.atomic():
        previous = EncryptionKey.objects.filter(workspace=workspace).first()
        stored, _ = EncryptionKey.objects.update_or_create(
            workspace=workspace,
            defaults={
                "public_key_pem": pem.strip() + "\n",
                "fingerprint": encryption.fingerprint(key),
                "bits": key.key_size,
                "uploaded_at": timezone.now(),
                "uploaded_by": actor if getattr(actor, "is_authenticated", False) else None,
            },
        )
        audit.record(
            workspace,
            actor,
            "privacy.key_uploaded",
            workspace,
            before={"fingerprint": previous.fingerprint} if previous else None,
            after={"fingerprint": stored.fingerprint, "bits": stored.bits},
            label="encryption key",
        )
        policy_changed(workspace.pk)
    return stored
