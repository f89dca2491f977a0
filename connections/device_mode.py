"""The device-mode settings document (DESIGN §5): what analytics.js and the mobile SDKs fetch from
``GET /v1/projects/{writeKey}/settings`` before they send anything.

Its shape is analytics-next's ``CDNSettings`` (``src/browser/settings.ts`` in
``@segment/analytics-next``): ``integrations`` holds each enabled device-mode instance's settings
under its destination's display name, marked ``bundlingStatus: "bundled"`` so the SDK loads that
tool's code; ``integrations["Segment.io"]`` tells the SDK where to send events and lists the
enabled cloud-mode destinations, which the SDK does not load.

Segment's CDN takes up to 30 minutes to show a change; this document is rendered per request and
its ETag is derived from the source's ``config_version``, which every change to the source or its
instances bumps (``connections/instances.py``, ``connections/sources.py``). A client that revalidates
gets a 304 from one indexed query, or the new document.

A disabled source is still answered with 200, so pages that embed its write key keep working, but
with no destinations in it: a disabled source sends to no destination, and device-mode
destinations can only be stopped by not loading them. The tracking API refuses its events (403).
"""

import functools
import hashlib
from dataclasses import dataclass
from typing import NamedTuple

from django.db import connection

from catalog.models import ConnectionMode, DestinationKind
from connections.models import DestinationFilter, DestinationInstance, WriteKey
from connections.routing_rules import rule_for

# Part of every ETag: change it when this module renders a different document from the same
# configuration, so browsers holding a copy from older code fetch the new one.
DOCUMENT_FORMAT = 2

# analytics-next sends its own telemetry to api.segment.io unless told not to; a self-hosted
# Segapp does not report its users' page loads to Segment.
METRICS = {"sampleRate": 0}

# Segment's default plan: every track, identify and group call is allowed.
PLAN = {
    "track": {"__default": {"enabled": True, "integrations": {}}},
    "identify": {"__default": {"enabled": True}},
    "group": {"__default": {"enabled": True}},
}

# Catalog component types whose code runs on the device (``SERVER`` is Segment's cloud mode).
DEVICE_COMPONENTS = ("BROWSER", "IOS", "ANDROID")


@dataclass(frozen=True, slots=True)
class SourceVersion:
    """What the conditional GET needs to know about a write key's source."""

    source_id: str
    config_version: int
    enabled: bool


@functools.cache
def _version_sql() -> str:
    # Compiling the ORM query costs more than running it; only the SQL text is kept per process.
    query = (
        WriteKey.objects.filter(key="")
        .order_by()
        .values_list("source_id", "source__config_version", "source__enabled")[:1]
        .query
    )
    return query.sql_with_params()[0]


def source_version(write_key: str) -> SourceVersion | None:
    """The key's source and its configuration version, from one indexed query (None: no such key)."""
    with connection.cursor() as cursor:
        cursor.execute(_version_sql(), [write_key])
        row = cursor.fetchone()
    return None if row is None else SourceVersion(row[0], row[1], bool(row[2]))


def etag(write_key: str, version: SourceVersion, api_host: str) -> str:
    """Changes whenever the document would: the key and host appear in it, and the source's
    ``config_version`` covers everything else (instances, their settings and filters, the source's
    own state, catalog updates to the destinations it uses)."""
    facts = (
        f"{DOCUMENT_FORMAT}|{write_key}|{version.source_id}|{version.config_version}|"
        f"{version.enabled}|{api_host}"
    )
    return '"' + hashlib.blake2b(facts.encode(), digest_size=16).hexdigest() + '"'


class Connected(NamedTuple):
    """An enabled instance as the document needs it: a few columns, not model objects (building
    instances and their catalog entries with every JSON field tripled a render's cost)."""

    id: str
    mode: str
    settings: dict
    name: str  # the destination's display name, the key of the integrations object
    kind: str
    options: list
    components: list


def browser_settings(options: list[dict], settings: dict) -> dict:
    """The one rule for which settings may leave the server in this document: the options the
    catalog entry declares and does not mark ``secret``. Secrets live in their own encrypted column
    and are never read here; filtering the plain settings too keeps out a value whose option the
    catalog has since marked secret or dropped."""
    public = {option["name"] for option in options if not option.get("secret")}
    return {name: value for name, value in settings.items() if name in public}


def component_types(components: list[dict]) -> list[str]:
    """Where the entry's device-mode code runs, as ``versionSettings.componentTypes`` names it;
    analytics.js loads an integration only when this includes ``browser``."""
    kinds = {component.get("type") for component in components}
    return [kind.lower() for kind in DEVICE_COMPONENTS if kind in kinds]


def bundled_integration(instance: Connected) -> dict:
    """One device-mode instance's entry in ``integrations``."""
    types = component_types(instance.components)
    entry = {
        **browser_settings(instance.options, instance.settings),
        "versionSettings": {"version": "latest", "componentTypes": types},
        "bundlingStatus": "bundled",
    }
    if "browser" in types:
        entry["type"] = "browser"  # deprecated in analytics-next, still read by older clients
    return entry


def routing_rules(instances: list[Connected]) -> list:
    """``middlewareSettings.routingRules``: the enabled filters of the device-mode instances, one
    rule per destination, in the shape analytics.js applies (``connections.routing_rules``).
    One query, and none without device-mode instances."""
    if not instances:
        return []
    by_instance: dict[str, list[DestinationFilter]] = {}
    for item in DestinationFilter.objects.filter(
        instance_id__in=[i.id for i in instances], enabled=True
    ).order_by("position", "created_at"):
        by_instance.setdefault(item.instance_id, []).append(item)
    rules = []
    for instance in instances:
        if rule := rule_for(instance.name, by_instance.get(instance.id, [])):
            rules.append(rule)
    return rules


CONNECTED_COLUMNS = (
    "id",
    "mode",
    "settings",
    "metadata__name",
    "metadata__kind",
    "metadata__options",
    "metadata__components",
)


def connected_instances(source_id: str) -> list[Connected]:
    """The source's enabled instances, oldest first, in one query."""
    rows = (
        DestinationInstance.objects.filter(source_id=source_id, enabled=True)
        .order_by("created_at", "id")
        .values_list(*CONNECTED_COLUMNS)
    )
    return [Connected(*row) for row in rows]


def settings_document(write_key: str, version: SourceVersion, api_host: str) -> dict:
    """The whole document for ``write_key``; ``api_host`` is the host browsers reach us on."""
    instances = connected_instances(version.source_id) if version.enabled else []
    device = [i for i in instances if i.mode == ConnectionMode.DEVICE]
    cloud = [
        i
        for i in instances
        if i.mode == ConnectionMode.CLOUD and i.kind == DestinationKind.DESTINATION
    ]
    integrations, bundled_ids = {}, {}
    for instance in device:
        # The rules allow one device-mode instance of a destination per source; should an older
        # configuration hold two, the SDK can load only one copy, and the first one wins.
        if instance.name not in integrations:
            integrations[instance.name] = bundled_integration(instance)
            bundled_ids[instance.name] = [instance.id]
    integrations["Segment.io"] = {
        "apiKey": write_key,
        "apiHost": f"{api_host}/v1",
        "unbundledIntegrations": sorted({i.name for i in cloud}),
        "addBundledMetadata": True,
        "maybeBundledConfigIds": bundled_ids,
        "bundledConfigIds": [ids[0] for ids in bundled_ids.values()],
        "unbundledConfigIds": [i.id for i in cloud],
        "versionSettings": {"componentTypes": []},
    }
    return {
        "integrations": integrations,
        "plan": PLAN,
        "middlewareSettings": {"routingRules": routing_rules(device)},
        "enabledMiddleware": {},
        "metrics": METRICS,
        "legacyVideoPluginsEnabled": False,
        "remotePlugins": [],
        "edgeFunction": {},
        "analyticsNextEnabled": True,
    }
