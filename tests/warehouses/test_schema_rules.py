"""Segment's schema rules at the edges: names that are reserved, too long or start with a digit;
a value whose type no longer fits its column lands in ``discards`` with the reason; selective
sync keeps what is off out of the next sync."""

import pytest

from segapp.refusal import Refusal
from tests.warehouses.conftest import fixture, send
from tests.warehouses.test_loading import sync_once
from warehouses import operations
from warehouses.models import Collection

MESSAGES = fixture("schema_evolution.json")


def test_names_follow_segments_rules(live_server, source, warehouse, reader):
    send(live_server.url, source, MESSAGES["first"])
    sync_once(warehouse)

    assert {"product_viewed", "_identifies", "coupon_applied"} <= reader.tables("backend")
    columns = reader.columns("backend", "product_viewed")
    assert columns["_select"] == "text"  # a reserved word gets a leading underscore
    assert columns["_1st_visit"] == "boolean"  # so does a leading digit
    assert columns["dimensions_width_cm"] == "bigint"  # nested objects are flattened
    long_names = [c for c in columns if c.startswith("a_very_long")]
    assert len(long_names) == 1 and len(long_names[0]) == 63  # cut to PostgreSQL's limit
    # A property named like a column the schema reserves is kept out, and said why.
    assert reader.query("SELECT user_id FROM backend.product_viewed") == [("u1",)]
    assert reader.query("SELECT table_name, column_name, value, reason FROM backend.discards") == [
        ("product_viewed", "user_id", "not the caller", "user_id is a column the warehouse schema reserves")
    ]  # fmt: skip


def test_a_value_of_another_type_goes_to_discards_with_the_reason(
    live_server, source, warehouse, reader
):
    send(live_server.url, source, MESSAGES["first"])
    sync_once(warehouse)
    send(live_server.url, source, MESSAGES["second"])
    second = sync_once(warehouse)

    assert second.discarded == 1
    # The event is loaded; only the value that does not fit stays out of its column.
    assert reader.query("SELECT name, price FROM backend.product_viewed WHERE user_id = 'u3'") == [
        ("Uno", None)
    ]
    discarded = reader.query(
        "SELECT table_name, column_name, column_type, value, reason FROM backend.discards"
        " WHERE column_name = 'price'"
    )
    assert discarded == [
        ("product_viewed", "price", "bigint", "eighteen", "a text value in a bigint column")
    ]
    # An integer in a decimal column fits.
    assert sorted(reader.query("SELECT discount FROM backend.coupon_applied")) == [(2.5,), (5.0,)]


def test_selective_sync_keeps_what_is_off_out_of_the_next_sync(
    live_server, source, warehouse, reader, owner, workspace
):
    workspace.plan = "business"
    workspace.save()
    send(live_server.url, source, MESSAGES["first"])
    sync_once(warehouse)
    assert (
        Collection.objects.get(warehouse=warehouse, name="product_viewed").columns["price"]
        == "bigint"
    )

    changed, _ = operations.set_selective_sync(
        warehouse,
        owner,
        [
            {"sourceId": source.pk, "collection": "coupon_applied", "enabled": False},
            {"sourceId": source.pk, "collection": "product_viewed", "property": "name", "enabled": False},
        ],
    )  # fmt: skip
    assert changed
    send(live_server.url, source, MESSAGES["second"])
    sync_once(warehouse)

    assert reader.count("backend", "coupon_applied") == 1  # only the first sync's row
    assert reader.query(
        "SELECT product_id, name FROM backend.product_viewed ORDER BY received_at"
    ) == [("507f1f77", "Monopoly: 3rd Edition"), ("505bd76785", None)]
    assert reader.count("backend", "tracks") == 5  # tracks itself stays on


def test_selective_sync_is_a_business_feature(source, warehouse, owner):
    with pytest.raises(Refusal) as refused:
        operations.set_selective_sync(
            warehouse, owner, [{"sourceId": source.pk, "collection": "tracks", "enabled": False}]
        )
    assert refused.value.rule == "selective-sync-business"


def test_the_columns_rows_merge_on_cannot_be_turned_off(source, warehouse, owner, workspace):
    workspace.plan = "business"
    workspace.save()
    for column in ("id", "received_at"):
        with pytest.raises(Refusal) as refused:
            operations.set_selective_sync(
                warehouse, owner,
                [{"sourceId": source.pk, "collection": "tracks", "property": column, "enabled": False}],
            )  # fmt: skip
        assert refused.value.rule == "selective-sync-required-column"
