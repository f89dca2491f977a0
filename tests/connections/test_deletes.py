"""Deletes in the console ask first and say they happened."""

import pytest
from django.urls import reverse

from connections import filters, transformations
from tests.factories import make_instance, make_source


@pytest.fixture
def console(catalog, client_as, owner, workspace):
    return client_as(owner)


def url(name, workspace, *args):
    return reverse(f"connections:{name}", args=[workspace.slug, *args])


def test_deleting_a_destination_asks_then_says_so(console, workspace):
    source = make_source(workspace, name="Web")
    instance = make_instance(source, "webhooks", name="Orders hook")
    ask = console.get(url("instance-delete", workspace, instance.pk)).content.decode()
    assert "Delete Orders hook?" in ask
    response = console.post(url("instance-delete", workspace, instance.pk), follow=True)
    assert "Deleted the destination “Orders hook”." in response.content.decode()


def test_deleting_a_source_asks_then_says_so(console, workspace):
    source = make_source(workspace, name="Web")
    assert "Delete Web?" in console.get(url("source-delete", workspace, source.pk)).content.decode()
    response = console.post(url("source-delete", workspace, source.pk), follow=True)
    assert "Deleted the source “Web”." in response.content.decode()


def test_deleting_a_filter_confirms_then_says_so(console, workspace):
    instance = make_instance(make_source(workspace), "webhooks")
    item = filters.create_filter(instance, None, title="Drop tests", condition="all", actions=[
        {"type": "DROP"}])  # fmt: skip
    page = console.get(url("instance-detail", workspace, instance.pk)).content.decode()
    assert 'hx-confirm="Delete the filter Drop tests?"' in page
    delete = url("filter-delete", workspace, instance.pk, item.pk)
    fragment = console.post(delete, HTTP_HX_REQUEST="true").content.decode()
    assert "Deleted the filter “Drop tests”." in fragment


def test_deleting_a_transformation_asks_then_says_so(console, workspace):
    source = make_source(workspace)
    item = transformations.create_transformation(
        source,
        None,
        {
            "name": "Money",
            "target": "track",
            "event_name": "Order Done",
            "new_event_name": "Purchase",
        },
    )
    delete = url("transformation-delete", workspace, source.pk, item.pk)
    assert (
        f'href="{delete}"'
        in console.get(url("transformations", workspace, source.pk)).content.decode()
    )
    assert "Delete Money?" in console.get(delete).content.decode()
    assert source.transformations.exists()  # asking deletes nothing
    response = console.post(delete, follow=True)
    assert "Deleted the transformation “Money”." in response.content.decode()
    assert not source.transformations.exists()
