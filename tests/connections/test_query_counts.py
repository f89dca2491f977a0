"""Connections pages issue the same number of queries with 1 source and 1 instance as with
200 sources and 2,000 instances."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.models import DestinationMetadata, SourceMetadata
from connections.models import DestinationInstance, Source, WriteKey
from tests.factories import make_instance, make_source


def grow(workspace, sources: int, per_source: int) -> None:
    """Bulk rows for scale: the operations are tested elsewhere, here only the row count matters."""
    javascript = SourceMetadata.objects.get(slug="javascript")
    webhooks = DestinationMetadata.objects.get(slug="webhooks")
    new_sources = Source.objects.bulk_create(
        Source(workspace=workspace, metadata=javascript, name=f"Site {i}", slug=f"site-{i}")
        for i in range(sources)
    )
    WriteKey.objects.bulk_create(WriteKey(source=s) for s in new_sources)
    DestinationInstance.objects.bulk_create(
        DestinationInstance(workspace=workspace, source=s, metadata=webhooks, name=f"Hook {n}")
        for s in new_sources
        for n in range(per_source)
    )


def queries(client, path) -> int:
    client.get(path)  # first visit writes the session
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "page",
    ["source-list", "instance-list", "source-detail", "instance-detail", "confirm-source", "instance-create",
     "add-destination"],
)  # fmt: skip
def test_pages_do_not_grow_with_sources_and_instances(page, catalog, client_as, owner, workspace):
    client = client_as(owner)
    source = make_source(workspace, "javascript", name="Main")
    instance = make_instance(source, "webhooks", name="Main hook", settings={"sharedSecret": "x"})
    ws = workspace.slug
    path = {
        "source-list": reverse("connections:source-list", args=[ws]),
        "instance-list": reverse("connections:instance-list", args=[ws]),
        "source-detail": reverse("connections:source-detail", args=[ws, source.pk]),
        "instance-detail": reverse("connections:instance-detail", args=[ws, instance.pk]),
        "confirm-source": reverse("connections:instance-confirm-source", args=[ws, "webhooks"]),
        "instance-create": reverse("connections:instance-create", args=[ws, "webhooks", source.pk]),
        "add-destination": reverse("connections:source-add-destination", args=[ws, source.pk]),
    }[page]
    small = queries(client, path)
    grow(workspace, sources=200, per_source=10)
    large = queries(client, path)
    assert large == small, (
        f"{page}: {small} queries with 1 source, {large} with 200 and 2,000 instances"
    )
