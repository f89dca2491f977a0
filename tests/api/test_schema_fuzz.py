"""Schemathesis against ``/api/schema/``, in-process over WSGI: every operation, with bodies and
parameters generated from the schema (valid and invalid ones), answers without a server error.
Path ids are a real workspace's own, so the requests reach the operations behind the lookups.

Bounded and reproducible for CI: a fixed number of examples per operation, derandomized, with no
Hypothesis example database."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error

from catalog.models import DestinationMetadata, SourceMetadata

EXAMPLES_PER_OPERATION = 25

schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def connection_kept_across_requests():
    """As Django's test client does: closing "old" connections after a request would close the
    test's own, with its transaction and the workspace made for the module."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


# The catalog entry a body's ``metadataId`` names, by path (a destination's elsewhere).
CATALOG_ENTRIES = {
    "/api/sources": (SourceMetadata, "javascript"),
    "/api/warehouses": (DestinationMetadata, "postgres"),
    "/api/warehouses/validation": (DestinationMetadata, "postgres"),
}


def real_ids(workspace: dict) -> dict:
    """Path and query parameters → the workspace's own objects (a catalog id stays generated)."""
    return {
        "workspaceSlug": workspace["workspace"].slug,
        "sourceId": workspace["source"].pk,
        "sourceSlug": workspace["source"].slug,
        "destinationId": workspace["instance"].pk,
        "destinationConfigId": workspace["instance"].pk,
        "filterId": workspace["filter"].pk,
        "writeKey": workspace["write_key"].key,
        "warehouseId": workspace["warehouse"].pk,
    }


def with_real_ids(case, workspace: dict) -> None:
    ids = real_ids(workspace)
    for parameters in (case.path_parameters, case.query):
        for name in parameters or {}:
            if name in ids:
                parameters[name] = ids[name]
    if isinstance(case.body, dict):
        if "sourceId" in case.body:
            case.body["sourceId"] = ids["sourceId"]
        if "metadataId" in case.body:
            catalog, slug = CATALOG_ENTRIES.get(case.path, (DestinationMetadata, "webhooks"))
            case.body["metadataId"] = catalog.objects.get(slug=slug).pk


@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_a_server_error(case, workspaces_a_and_b, settings):
    settings.API_RATE_LIMIT = 0  # thousands of requests from one token
    _, workspace = workspaces_a_and_b
    with_real_ids(case, workspace)
    case.call_and_validate(
        headers={"Authorization": f"Bearer {workspace['owner_raw_token']}"},
        checks=[not_a_server_error],
    )
