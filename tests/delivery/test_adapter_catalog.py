"""The catalog's ``cloudDelivery`` flags name exactly the entries ``delivery/adapters/`` sends to
(and, for warehouses, those ``warehouses/`` loads into): ``connections`` cannot import
``delivery``, so it refuses cloud mode from the flag alone."""

import json

from catalog.loader import DATA_DIR
from delivery.adapters import ADAPTERS


def test_cloud_delivery_flags_match_the_adapters():
    entries = json.loads((DATA_DIR / "destinations.json").read_text())
    flagged = {e["slug"] for e in entries if e.get("cloudDelivery") and e["kind"] != "warehouse"}
    assert flagged == set(ADAPTERS)
    loadable = {e["slug"] for e in entries if e.get("cloudDelivery") and e["kind"] == "warehouse"}
    assert loadable == {"postgres"}


def test_every_adapter_serves_a_cloud_mode_catalog_entry():
    entries = {e["slug"]: e for e in json.loads((DATA_DIR / "destinations.json").read_text())}
    for slug in ADAPTERS:
        assert "cloud" in entries[slug]["connectionModes"], slug
