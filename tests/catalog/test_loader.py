import json
import shutil

import pytest
from django.core.management import call_command

from catalog.loader import DATA_DIR, CatalogDataError, load_catalog
from catalog.models import DestinationMetadata, SourceMetadata

REQUIRED_DESTINATIONS = [
    "Webhooks", "Amplitude", "Amplitude (Actions)", "Mixpanel (Legacy)", "Google Analytics 4 Cloud",
    "Braze", "Braze Cloud Mode (Actions)", "Customer.io", "Leanplum", "Airship", "Intercom",
    "HubSpot", "Salesforce", "Slack", "Adobe Analytics", "Iterable", "Klaviyo", "Heap", "Hotjar",
    "FullStory", "Facebook Pixel", "Optimizely Web", "Zendesk", "MailChimp", "Postgres", "Snowflake",
    "BigQuery", "Redshift", "Amazon S3", "Data Lakes",
]  # fmt: skip


def rows():
    return sorted(DestinationMetadata.objects.values_list("id", "name", "description")), sorted(
        SourceMetadata.objects.values_list("id", "name")
    )


def test_loading_twice_leaves_the_same_rows(db):
    DestinationMetadata.objects.all().delete()
    SourceMetadata.objects.all().delete()
    first = load_catalog()
    before = rows()
    second = load_catalog()
    assert rows() == before
    assert first["destinations"].created == len(before[0]) >= 60
    assert second["destinations"].created == second["destinations"].updated == 0


def test_migrate_alone_gives_the_shipped_catalog(db):
    # The test database was made by ``migrate``, like a fresh production database.
    shipped = json.loads((DATA_DIR / "destinations.json").read_text())
    assert DestinationMetadata.objects.count() == len(shipped)
    assert SourceMetadata.objects.count() == len(
        json.loads((DATA_DIR / "sources.json").read_text())
    )


def test_migrate_brings_a_database_up_to_the_release_catalog(db):
    # As if the database had been loaded by an older release: one entry changed, one missing.
    webhooks = DestinationMetadata.objects.get(slug="webhooks")
    DestinationMetadata.objects.filter(pk=webhooks.pk).update(description="An old description.")
    DestinationMetadata.objects.filter(slug="slack").delete()
    call_command("migrate", verbosity=0)
    assert DestinationMetadata.objects.get(pk=webhooks.pk).description == webhooks.description
    assert DestinationMetadata.objects.filter(slug="slack").exists()


def test_shipped_catalog_has_what_the_product_promises(catalog):
    names = set(DestinationMetadata.objects.values_list("name", flat=True))
    assert set(REQUIRED_DESTINATIONS) <= names
    assert SourceMetadata.objects.count() >= 25
    both = {"Customer.io", "Leanplum", "Airship"}
    assert both <= set(SourceMetadata.objects.values_list("name", flat=True))
    assert {
        d.is_device_only
        for d in DestinationMetadata.objects.filter(name__in=["Hotjar", "FullStory"])
    } == {True}
    kinds = set(SourceMetadata.objects.values_list("kind", flat=True))
    assert kinds == {"web", "mobile", "server", "project", "cloud"}
    categories = {
        c for cats in DestinationMetadata.objects.values_list("categories", flat=True) for c in cats
    }
    assert len(categories) >= 12


def test_edited_file_updates_entries_in_place(db, tmp_path):
    shutil.copytree(DATA_DIR, tmp_path, dirs_exist_ok=True)
    load_catalog(tmp_path)
    count = DestinationMetadata.objects.count()
    path = tmp_path / "destinations.json"
    entries = json.loads(path.read_text())
    webhooks = next(e for e in entries if e["slug"] == "webhooks")
    webhooks["description"] = "Edited description."
    webhooks["options"].append({"name": "timeout", "type": "number", "required": False, "defaultValue": 5,
                                "label": "Timeout", "description": "", "secret": False})  # fmt: skip
    path.write_text(json.dumps(entries))

    result = load_catalog(tmp_path)
    assert result["destinations"].updated == 1 and result["destinations"].created == 0
    entry = DestinationMetadata.objects.get(pk=webhooks["id"])
    assert entry.description == "Edited description."
    assert entry.options[-1]["name"] == "timeout"
    assert DestinationMetadata.objects.count() == count


def test_bad_option_type_is_refused_and_nothing_is_written(db, tmp_path):
    shutil.copytree(DATA_DIR, tmp_path, dirs_exist_ok=True)
    entries = json.loads((tmp_path / "destinations.json").read_text())
    entries[-1]["options"][0]["type"] = "colour"
    (tmp_path / "destinations.json").write_text(json.dumps(entries))
    before = rows()
    with pytest.raises(CatalogDataError, match="unknown type 'colour'"):
        load_catalog(tmp_path)
    assert rows() == before


@pytest.mark.parametrize(
    ("name", "kind", "expected"),
    [
        ("Webhooks", "mobile", True),
        ("Amplitude", "web", True),
        ("Amplitude", "mobile", False),
        ("Amplitude (Actions)", "server", True),
        ("Amplitude (Actions)", "mobile", False),
        ("Braze Cloud Mode (Actions)", "web", False),
        ("Hotjar", "web", False),
        ("Data Lakes", "server", False),
    ],
)
def test_multi_instance_facts(catalog, name, kind, expected):
    assert DestinationMetadata.objects.get(name=name).allows_multiple_on(kind) is expected


@pytest.mark.parametrize(
    "option, problem",
    [
        ({"type": "boolean", "format": "url"}, "cannot have format 'url'"),
        ({"type": "map", "format": "email"}, "cannot have format 'email'"),
        ({"type": "string", "allowedHosts": ["api.example.com"]}, "allowedHosts needs"),
        ({"type": "string", "format": "url", "allowedHosts": []}, "allowedHosts needs"),
    ],
)
def test_refuses_option_formats_it_cannot_check(db, tmp_path, option, problem):
    entries = json.loads((DATA_DIR / "destinations.json").read_text())
    entries[0]["options"] = [{"name": "x", "required": False, "label": "X", **option}]
    (tmp_path / "destinations.json").write_text(json.dumps(entries))
    (tmp_path / "sources.json").write_text((DATA_DIR / "sources.json").read_text())
    with pytest.raises(CatalogDataError, match=problem):
        load_catalog(tmp_path)
