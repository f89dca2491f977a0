"""The multi-instance rules (DESIGN §2), in one place for the console, the Public API and admin.

Each ``refuse_*`` function returns None when the change is allowed, or a Refusal that names the rule
and says why. They take plain facts (the source kind, counts of sibling instances) so a page can
evaluate them for many sources from one query; ``connections/instances.py`` gathers the facts for a
single change, checks, then writes.

Segment's statement of these rules: https://segment.com/docs/connections/destinations/add-destination/
"""

from dataclasses import dataclass

from catalog.models import (
    MAX_CLOUD_INSTANCES_PER_SOURCE,
    ConnectionMode,
    DestinationKind,
    DestinationMetadata,
    SourceKind,
)
from segapp.refusal import Refusal

# Mobile and legacy Project sources may hold several instances only of cloud-only destinations.
MOBILE_LIKE = {SourceKind.MOBILE, SourceKind.PROJECT}
# Server and cloud sources run on servers: there is no device to bundle a destination into.
CLOUD_MODE_ONLY = {SourceKind.SERVER, SourceKind.CLOUD}


@dataclass(frozen=True)
class Siblings:
    """Instances of one destination already on one source (the one being changed excluded)."""

    cloud: int = 0
    device: int = 0

    @property
    def total(self) -> int:
        return self.cloud + self.device


def initial_mode(metadata: DestinationMetadata) -> str:
    """New instances start in cloud mode wherever the entry offers it (device mode is switched on
    from the instance's settings page, as in Segment); device-only entries start in device mode."""
    return ConnectionMode.CLOUD if metadata.offers_cloud else ConnectionMode.DEVICE


def refuse_new_instance(
    source_kind: str,
    source_sends_events: bool,
    metadata: DestinationMetadata,
    siblings: Siblings,
) -> Refusal | None:
    """May a source of this kind get one more instance of ``metadata``?"""
    name = metadata.name
    if metadata.kind == DestinationKind.WAREHOUSE:
        # A warehouse belongs to the workspace and loads the sources connected to it
        # (warehouses/), with its own rules (warehouses/rules.py).
        return Refusal(
            f"{name} is a warehouse: add it from Catalog → Warehouses, then connect sources to it.",
            rule="warehouse-not-an-instance",
        )
    if not source_sends_events:
        return Refusal(
            "This cloud source sends objects, which only warehouses can receive.",
            rule="object-source-warehouses-only",
        )
    if initial_mode(metadata) == ConnectionMode.DEVICE and source_kind in CLOUD_MODE_ONLY:
        return Refusal(
            f"{name} runs only in device mode, and {SourceKind(source_kind).label.lower()} sources "
            "send data in cloud mode only.",
            rule="device-mode-unavailable",
        )
    if not siblings.total:
        return None
    if metadata.kind == DestinationKind.DATA_LAKE:
        return Refusal(
            "A source can send to one data lake only.", rule="data-lake-single", status=409
        )
    if metadata.is_device_only:
        return Refusal(
            f"{name} runs only in device mode, so a source can have one instance of it.",
            rule="device-only-single",
            status=409,
        )
    if source_kind in MOBILE_LIKE and metadata.is_hybrid:
        return Refusal(
            "Mobile and Project sources can have several instances only of destinations that run "
            f"in cloud mode only; {name} also runs in device mode.",
            rule="mobile-hybrid-single",
            status=409,
        )
    if not metadata.allows_multiple_on(source_kind):
        return Refusal(
            f"{name} supports one instance per {SourceKind(source_kind).label.lower()} source.",
            rule="single-instance",
            status=409,
        )
    if siblings.cloud >= MAX_CLOUD_INSTANCES_PER_SOURCE:
        return Refusal(
            f"A source can have at most {MAX_CLOUD_INSTANCES_PER_SOURCE} cloud-mode instances of {name}.",
            rule="cloud-instance-limit",
            status=409,
        )
    return None


def refuse_mode(
    source_kind: str, metadata: DestinationMetadata, mode: str, siblings: Siblings
) -> Refusal | None:
    """May an instance of ``metadata`` on a source of this kind run in ``mode``?"""
    if mode == ConnectionMode.DEVICE:
        if not metadata.offers_device:
            return Refusal(
                f"{metadata.name} does not run in device mode.",
                rule="mode-not-offered",
                field="mode",
            )
        if source_kind in CLOUD_MODE_ONLY:
            return Refusal(
                f"{SourceKind(source_kind).label} sources send data in cloud mode only.",
                rule="device-mode-unavailable",
                field="mode",
            )
        if siblings.device:
            return Refusal(
                f"Only one instance of {metadata.name} per source can run in device mode: the SDK "
                "cannot bundle two copies of its code.",
                rule="one-device-instance",
                field="mode",
                status=409,
            )
        return None
    if mode == ConnectionMode.CLOUD:
        if not metadata.offers_cloud:
            return Refusal(
                f"{metadata.name} runs only in device mode.", rule="mode-not-offered", field="mode"
            )
        if siblings.cloud >= MAX_CLOUD_INSTANCES_PER_SOURCE:
            return Refusal(
                f"A source can have at most {MAX_CLOUD_INSTANCES_PER_SOURCE} cloud-mode instances of {metadata.name}.",
                rule="cloud-instance-limit",
                field="mode",
                status=409,
            )
        return None
    return Refusal(f"Unknown connection mode “{mode}”.", rule="mode-unknown", field="mode")


def refuse_sending(
    metadata: DestinationMetadata, mode: str, field: str = "enabled"
) -> Refusal | None:
    """May an enabled instance of ``metadata`` run in ``mode``? Segment offers cloud mode for
    many tools Segapp has no adapter for yet; enabling one would accept events and send none."""
    if mode == ConnectionMode.CLOUD and not metadata.cloud_delivery:
        return Refusal(metadata.cannot_send_message(), rule="cannot-send-cloud-mode", field=field)
    return None


def warn_bundled_instances(
    source_kind: str, metadata: DestinationMetadata, mode: str, siblings: Siblings
) -> str | None:
    """A warning (not a refusal) for a mobile source on which one instance of a destination runs
    in device mode while other instances of it exist.

    The app bundles one copy of the tool's SDK, configured from the device-mode instance, and the
    SDK knows the destination only by its name: the integrations option in the app's calls turns
    every instance on or off together, and events the SDK sends directly never reach the other
    instances' settings. Rule 5 keeps new configurations out of this state; a catalog update that
    makes a cloud-only destination hybrid can still lead into it.
    """
    if source_kind != SourceKind.MOBILE:
        return None
    device_here = mode == ConnectionMode.DEVICE
    if not (device_here and siblings.total) and not siblings.device:
        return None
    return (
        f"Mobile device-mode bundles cannot tell instances apart: the app loads one copy of "
        f"{metadata.name}'s SDK, set up from the device-mode instance, and the integrations option "
        f"in your app's calls names {metadata.name} for every instance at once. Keep one instance "
        "of this destination on this source, or run them all in cloud mode."
    )


def refuse_name(name: str, taken: set[str]) -> Refusal | None:
    """Instance names are unique within a source (compared without regard to case)."""
    if not name.strip():
        return Refusal("Give the instance a name.", rule="instance-name-required", field="name")
    if len(name.strip()) > 100:
        return Refusal(
            "Keep the name within 100 characters.", rule="instance-name-length", field="name"
        )
    if name.strip().casefold() in {t.casefold() for t in taken}:
        return Refusal(
            f"This source already has an instance named “{name.strip()}”; choose another name.",
            rule="instance-name-unique",
            field="name",
            status=409,
        )
    return None


def suggest_name(metadata: DestinationMetadata, taken: set[str]) -> str:
    """The destination's name, numbered if the source already uses it ("Amplitude 2")."""
    folded = {t.casefold() for t in taken}
    name, n = metadata.name, 2
    while name.casefold() in folded:
        name, n = f"{metadata.name} {n}", n + 1
    return name
