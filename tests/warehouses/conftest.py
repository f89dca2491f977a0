import base64
import json
from pathlib import Path

import pytest
import requests

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


FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str):
    return json.loads((FIXTURES / name).read_text())


def send(base_url: str, source, messages: list[dict]) -> None:
    """Posts ``messages`` to the tracking API as one batch, as a server library would."""
    key = base64.b64encode(f"{source.write_keys.get().key}:".encode()).decode()
    response = requests.post(
        f"{base_url}/v1/batch",
        json={"batch": messages},
        headers={"Authorization": f"Basic {key}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
