"""Loads ``catalog/data/*.json`` into the catalog tables, idempotently.

Entries are matched by id: a new id is inserted, a known id is updated in place, and nothing is ever
duplicated. Entries that disappear from the files are kept (instances may still use them).
"""

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.dispatch import Signal

from catalog.models import DestinationMetadata, SourceMetadata

DATA_DIR = Path(__file__).resolve().parent / "data"

# Sent inside the loading transaction with ``ids``, the destination entries whose data changed:
# the device-mode settings document shows an entry's name and its non-secret options, so the
# sources using it must get a new configuration version (connections listens; catalog imports
# nothing of connections).
destinations_updated = Signal()

# Option type → the formats that may narrow it. The types are defined, with their checks and
# inputs, in connections/settings_schema.py's registry, which fills this in when the connections
# app is ready (catalog imports nothing of connections).
OPTION_TYPES: dict[str, frozenset[str]] = {}


def register_option_types(formats_by_type: dict[str, frozenset[str]]) -> None:
    OPTION_TYPES.clear()
    OPTION_TYPES.update(formats_by_type)


# JSON key in the data files → model field.
DESTINATION_FIELDS = {
    "slug": "slug", "name": "name", "description": "description", "categories": "categories",
    "website": "website", "options": "options", "status": "status", "previousNames": "previous_names",
    "kind": "kind", "connectionModes": "connection_modes", "components": "components",
    "supportedMethods": "supported_methods", "supportedPlatforms": "supported_platforms",
    "supportedFeatures": "supported_features", "multiInstanceSourceKinds": "multi_instance_source_kinds",
    "cloudDelivery": "cloud_delivery",
}  # fmt: skip
# Keys an entry may leave out, and the value it then has. ``cloudDelivery`` is true only for the
# entries ``delivery/adapters/`` can send to (tests/delivery/test_adapter_catalog.py keeps them in step).
DESTINATION_DEFAULTS = {"cloudDelivery": False}
SOURCE_FIELDS = {
    "slug": "slug", "name": "name", "description": "description", "categories": "categories",
    "website": "website", "options": "options", "kind": "kind",
    "isCloudEventSource": "is_cloud_event_source",
}  # fmt: skip


class CatalogDataError(ValueError):
    pass


@dataclass
class LoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    updated_ids: list[str] = dataclasses.field(default_factory=list)


def _check_options(entry: dict) -> None:
    if not OPTION_TYPES:
        raise CatalogDataError("No option types are registered: is the connections app installed?")
    for option in entry.get("options", []):
        missing = {"name", "type", "required", "label"} - option.keys()
        if missing:
            raise CatalogDataError(
                f"{entry['name']}: option {option.get('name')!r} lacks {sorted(missing)}"
            )
        if option["type"] not in OPTION_TYPES:
            raise CatalogDataError(
                f"{entry['name']}: option {option['name']!r} has unknown type {option['type']!r}"
            )
        fmt = option.get("format")
        if fmt is not None and fmt not in OPTION_TYPES[option["type"]]:
            raise CatalogDataError(
                f"{entry['name']}: option {option['name']!r} cannot have format {fmt!r}"
            )
        hosts = option.get("allowedHosts")
        if hosts is not None and (fmt != "url" or option["type"] != "string" or not hosts):
            raise CatalogDataError(
                f"{entry['name']}: option {option['name']!r}: allowedHosts needs a url string "
                "and at least one host"
            )


def _load(
    model, fields: dict[str, str], entries: list[dict], using: str, defaults=None
) -> LoadResult:
    result = LoadResult()
    defaults = defaults or {}
    existing = {obj.pk: obj for obj in model.objects.using(using)}
    to_create, to_update = [], []
    for entry in entries:
        entry = {**defaults, **entry}
        missing = ({"id"} | fields.keys()) - entry.keys()
        if missing:
            raise CatalogDataError(
                f"{entry.get('name', entry.get('id'))}: missing {sorted(missing)}"
            )
        _check_options(entry)
        values = {field: entry[key] for key, field in fields.items()}
        obj = existing.get(entry["id"])
        if obj is None:
            obj = model(id=entry["id"], **values)
            obj.index()
            to_create.append(obj)
            continue
        before = [getattr(obj, f) for f in values] + [obj.search_text, obj.category_index]
        for field, value in values.items():
            setattr(obj, field, value)
        obj.index()
        if before == [getattr(obj, f) for f in values] + [obj.search_text, obj.category_index]:
            result.unchanged += 1
        else:
            to_update.append(obj)
    model.objects.using(using).bulk_create(to_create, batch_size=500)
    update_fields = [*fields.values(), "search_text", "category_index"]
    model.objects.using(using).bulk_update(to_update, update_fields, batch_size=500)
    result.created, result.updated = len(to_create), len(to_update)
    result.updated_ids = [obj.pk for obj in to_update]
    return result


def load_catalog(data_dir: Path = DATA_DIR, using: str = "default") -> dict[str, LoadResult]:
    destinations = json.loads((data_dir / "destinations.json").read_text())
    sources = json.loads((data_dir / "sources.json").read_text())
    with transaction.atomic(using=using):
        results = {
            "destinations": _load(
                DestinationMetadata, DESTINATION_FIELDS, destinations, using, DESTINATION_DEFAULTS
            ),
            "sources": _load(SourceMetadata, SOURCE_FIELDS, sources, using),
        }
        if results["destinations"].updated_ids:
            destinations_updated.send(DestinationMetadata, ids=results["destinations"].updated_ids)
    return results
