"""Testing a connection asks the same rule as adding a warehouse: only entries Segapp can load."""

import pytest

from catalog.models import DestinationMetadata
from segapp.refusal import Refusal
from warehouses import operations


@pytest.mark.parametrize(
    ("slug", "rule"),
    [("snowflake", "warehouse-not-available"), ("webhooks", "not-a-warehouse")],
)
def test_refuses_to_test_a_connection_segapp_cannot_load(catalog, slug, rule):
    metadata = DestinationMetadata.objects.get(slug=slug)
    with pytest.raises(Refusal) as refused:
        operations.test_connection(metadata, {"hostname": "127.0.0.1"})
    assert (refused.value.rule, refused.value.field) == (rule, "metadataId")


def test_tests_a_postgres_connection(postgres_entry, warehouse_db):
    operations.test_connection(postgres_entry, warehouse_db)  # raises unless it connects
