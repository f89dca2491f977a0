import pytest

from catalog.models import DestinationMetadata
from tests.factories import make_source
from warehouses import operations


@pytest.fixture
def source(catalog, workspace):
    return make_source(workspace, "http-api", name="Backend")


@pytest.fixture
def postgres_entry(catalog):
    return DestinationMetadata.objects.get(slug="postgres")


@pytest.fixture
def warehouse(workspace, postgres_entry, warehouse_db, source, owner):
    made = operations.create_warehouse(workspace, postgres_entry, owner, settings=warehouse_db)
    operations.connect_source(made, source, owner)
    return made
