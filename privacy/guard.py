"""Classified fields as routing meets them: one ``Guard`` per destination instance, compiled with
the source's plan (``delivery.pipeline``) and rebuilt when a classification, control, instance
choice or key changes (``privacy.versions``).

``screen`` runs after source transformations and before the instance's filters: it blocks the
event or drops and hashes fields. ``seal`` encrypts, last, just before the adapter: filters never
see ciphertext and an event a filter drops costs no RSA operation.

A field is a dotted path from the message's top (``properties.email``, ``context.traits.email``);
lists are fields themselves and are not entered.
"""

import hashlib
from dataclasses import dataclass, field

import orjson

from connections.models import DestinationInstance, Source
from privacy import controls, encryption
from privacy.models import ControlAction, EncryptionKey, Field, InstancePrivacy
from privacy.models import YellowProtection as Protection
from segapp.models import Workspace

Path = tuple[str, ...]


@dataclass(frozen=True)
class Guard:
    block: tuple[Path, ...] = ()
    drop: tuple[Path, ...] = ()
    hash: tuple[Path, ...] = ()
    encrypt: tuple[Path, ...] = ()
    key: object = field(default=None, repr=False)  # the RSA public key, when ``encrypt``

    def screen(self, message: dict) -> tuple[dict | None, str]:
        """``(None, reason)`` if a field blocks the event, else the message with the fields to
        drop or hash changed (a copy where anything changed; ``message`` itself never is)."""
        for path in self.block:
            if _get(message, path) is not _ABSENT:
                return None, f"privacy: blocked, it carries {'.'.join(path)}"
        changed = message
        for path in self.drop:
            changed = _replace(changed, path, None, remove=True)
        for path in self.hash:
            changed = _replace(changed, path, sha256)
        return changed, ""

    def seal(self, message: dict) -> dict:
        changed = message
        for path in self.encrypt:
            changed = _replace(changed, path, lambda value: encryption.encrypt(self.key, value))
        return changed


def sha256(value) -> str:
    """A string's SHA-256 in hex, of its UTF-8 bytes; any other value's, of its JSON."""
    raw = value.encode() if isinstance(value, str) else orjson.dumps(value)
    return hashlib.sha256(raw).hexdigest()


_ABSENT = object()


def _get(message: dict, path: Path):
    value = message
    for key in path:
        if type(value) is not dict or key not in value:
            return _ABSENT
        value = value[key]
    return value


def _replace(message: dict, path: Path, change, remove: bool = False) -> dict:
    """``message`` with the value at ``path`` changed (or removed), copying only the dicts on the
    way; ``message`` itself when the path is absent."""
    head, rest = path[0], path[1:]
    if type(message) is not dict or head not in message:
        return message
    if rest:
        inner = _replace(message[head], rest, change, remove)
        if inner is message[head]:
            return message
        return {**message, head: inner}
    copy = dict(message)
    if remove:
        del copy[head]
    elif copy[head] is not None:
        copy[head] = change(copy[head])
    return copy


def guards_for_source(source_id: str) -> dict[str, Guard]:
    """Each instance of the source whose events a classified field changes, with its guard:
    one query when the workspace has classified no field Red or Yellow."""
    workspace_of_source = Source.objects.filter(pk=source_id).values("workspace_id")[:1]
    classified = list(
        Field.objects.filter(
            workspace_id=workspace_of_source, classification__in=controls.CONTROLLED
        ).values_list("path", "classification")
    )
    if not classified:
        return {}
    workspace = Workspace.objects.get(sources=source_id)
    workspace_controls = controls.workspace_controls(workspace.pk)
    key = EncryptionKey.objects.filter(workspace=workspace).first()
    can_encrypt = workspace.hipaa_eligible and key is not None
    public_key = encryption.load_public_key(key.public_key_pem) if can_encrypt else None
    choices = {
        row.instance_id: row
        for row in InstancePrivacy.objects.filter(instance__source_id=source_id)
    }
    guards = {}
    instances = DestinationInstance.objects.filter(source_id=source_id).select_related("metadata")
    for instance in instances:
        chosen = choices.get(instance.pk) or InstancePrivacy()
        category = instance.metadata.primary_category
        by_action: dict[str, list[Path]] = {}
        for path, classification in classified:
            action = controls.effective_action(
                classification,
                controls.control_for(workspace_controls, category, classification),
                chosen.red_allowed,
                chosen.yellow_protection,
                can_encrypt,
            )
            if action != ControlAction.SEND:
                by_action.setdefault(action, []).append(tuple(path.split(".")))
        if by_action:
            guards[instance.pk] = Guard(
                block=tuple(by_action.get(ControlAction.BLOCK, ())),
                drop=tuple(by_action.get(ControlAction.DROP, ())),
                hash=tuple(by_action.get(ControlAction.HASH, ())),
                encrypt=tuple(by_action.get(Protection.ENCRYPT, ())),
                key=public_key,
            )
    return guards
