"""An instance's settings history: each version beside what it changed from the one before.

Plain settings show old → new. Secrets are compared here, on the server, decrypted; what leaves
this module is only each secret's name and whether it was set, changed, kept or removed.
"""

from dataclasses import dataclass, replace

from connections.models import DestinationInstance, SettingsVersion
from segapp import audit

HISTORY_LIMIT = 50


@dataclass(frozen=True)
class SecretChange:
    key: str
    status: str  # "set" (new), "changed", "unchanged", "removed"


@dataclass(frozen=True)
class VersionDiff:
    version: SettingsVersion
    action: str
    changes: list[audit.Change]
    secrets: list[SecretChange]
    is_current: bool


def _secret_changes(previous: dict | None, current: dict) -> list[SecretChange]:
    previous = previous or {}
    found = []
    for name in sorted(previous.keys() | current.keys()):
        if name not in previous:
            status = "set"
        elif name not in current:
            status = "removed"
        else:
            status = "unchanged" if previous[name] == current[name] else "changed"
        found.append(SecretChange(name, status))
    return found


def history(
    instance: DestinationInstance, older_than: int | None = None
) -> tuple[list[VersionDiff], int | None]:
    """The newest ``HISTORY_LIMIT`` versions (below number ``older_than``), each with its diff
    against the version before it, and the number to page on from (None at the first version).
    One query: one more version than shown is read, to diff the oldest shown against."""
    versions = instance.settings_versions.all()
    if older_than is not None:
        versions = versions.filter(number__lt=older_than)
    found = list(versions.order_by("-number")[: HISTORY_LIMIT + 1])
    secrets = [version.secrets for version in found]
    labels = {o["name"]: o.get("label") or o["name"] for o in instance.metadata.options}
    order = {name: index for index, name in enumerate(labels)}

    def named(items):
        """In the catalog's order, by label (stored settings are JSON objects without order)."""
        items = sorted(items, key=lambda item: order.get(item.key, len(order)))
        return [replace(item, key=labels.get(item.key, item.key)) for item in items]

    diffs = []
    for index, version in enumerate(found[:HISTORY_LIMIT]):
        previous = found[index + 1] if index + 1 < len(found) else None
        diffs.append(
            VersionDiff(
                version=version,
                action=audit.action_label(version.action) if version.action else "",
                changes=named(
                    audit.changes(previous and previous.settings, version.settings, flatten=False)
                ),
                secrets=named(_secret_changes(previous and secrets[index + 1], secrets[index])),
                is_current=index == 0 and older_than is None,
            )
        )
    more = diffs[-1].version.number if len(found) > HISTORY_LIMIT else None
    return diffs, more
