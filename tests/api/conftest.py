"""Public API test helpers: a client that speaks JSON with a Bearer token, and SDK validation."""

import json
import subprocess

import pytest
from django.test import Client

from catalog.models import DestinationMetadata
from segapp.models import Role
from tests.factories import make_instance, make_source, make_token, make_workspace
from tests.processes import REPO


class Api:
    """The Django test client, as a Public API caller holding one token."""

    def __init__(self, raw_token: str):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {raw_token}"}

    def get(self, path, **params):
        return self.client.get(f"/api{path}", params, headers=self.headers)

    def post(self, path, body=None):
        return self.client.post(
            f"/api{path}", json.dumps(body or {}), "application/json", headers=self.headers
        )

    def patch(self, path, body):
        return self.client.patch(
            f"/api{path}", json.dumps(body), "application/json", headers=self.headers
        )

    def delete(self, path):
        return self.client.delete(f"/api{path}", headers=self.headers)


@pytest.fixture
def api_as(workspace):
    """An Api for a new token of ``role`` in ``workspace`` (the token stays on ``.token``)."""

    def make(role=Role.OWNER, ws=None):
        token, raw = make_token(ws or workspace, role)
        api = Api(raw)
        api.token = token
        return api

    return make


@pytest.fixture
def member_api(api_as):
    return api_as(Role.MEMBER)


def patch_settings(api, instance, settings):
    return api.patch(f"/destinations/{instance.pk}", {"settings": settings})


@pytest.fixture
def api(api_as):
    return api_as(Role.OWNER)


@pytest.fixture
def source(catalog, workspace):
    return make_source(workspace, "javascript", name="Website")


@pytest.fixture
def instance(source):
    return make_instance(source, "webhooks", name="Hook", settings={"sharedSecret": "s3cr3t-hook"})


@pytest.fixture
def postgres(catalog):
    """The warehouse catalog entry Segapp loads."""
    return DestinationMetadata.objects.get(slug="postgres")


@pytest.fixture
def foreign(catalog):
    """Another workspace's source and instance: this workspace's tokens must not reach them."""
    other = make_workspace(name="Other")
    source = make_source(other, "javascript", name="Their site")
    return {
        "workspace": other,
        "source": source,
        "instance": make_instance(source, "webhooks", name="Their hook"),
        "write_key": source.write_keys.get().key,
    }


def errors_of(response, status):
    assert response.status_code == status, response.content[:2000]
    return response.json()["errors"]


def validate_with_sdk(values: list[dict]) -> None:
    """Checks ``[{"model", "value", "label"}]`` against the official SDK's models."""
    result = subprocess.run(
        ["node", "validate_models.js"], cwd=REPO / "tests" / "clients", input=json.dumps(values),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[:3000] + result.stderr
    assert f"checked {len(values)} values, 0 problems" in result.stderr
