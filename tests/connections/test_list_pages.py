"""The pages that list every source or instance show them a page at a time, in natural order."""

import pytest
from django.urls import reverse

from tests.connections.test_query_counts import grow

pytestmark = pytest.mark.django_db


def shown(first: int, last: int, total: int, noun: str) -> str:
    """The pager's count, as the template writes it (with an en dash)."""
    return f"{first}\N{EN DASH}{last} of {total} {noun}"


def rows(response, marker: str) -> int:
    return response.content.decode().count(marker)


def test_destinations_come_a_hundred_to_a_page(catalog, client_as, owner, workspace):
    grow(workspace, sources=15, per_source=10)  # 150 instances, "Hook 0" … "Hook 9" per source
    client = client_as(owner)
    url = reverse("connections:instance-list", args=[workspace.slug])
    first = client.get(url)
    assert rows(first, "/destinations/") - rows(first, "/destinations/new") >= 100
    assert shown(1, 100, 150, "destinations") in first.content.decode()
    assert "?page=2" in first.content.decode()
    second = client.get(url, {"page": 2}).content.decode()
    assert shown(101, 150, 150, "destinations") in second and "?page=1" in second
    # A page past the end, or not a number, is the nearest page rather than an error.
    assert shown(101, 150, 150, "destinations") in client.get(url, {"page": 99}).content.decode()
    assert shown(1, 100, 150, "destinations") in client.get(url, {"page": "x"}).content.decode()


@pytest.mark.parametrize("page", ["connections:source-list", "segapp:workspace-overview"])
def test_sources_come_twenty_five_to_a_page_with_their_destinations(
    page, catalog, client_as, owner, workspace
):
    grow(workspace, sources=30, per_source=2)
    client = client_as(owner)
    url = reverse(page, args=[workspace.slug])
    first = client.get(url).content.decode()
    assert shown(1, 25, 30, "sources") in first
    assert "Site 0<" in first and "Site 9<" in first and "Site 29<" not in first  # natural order
    last = client.get(url, {"page": 2}).content.decode()
    assert shown(26, 30, 30, "sources") in last and "Site 29<" in last and "Site 9<" not in last
    assert last.count(">Hook 1<") == 5  # each source on the page with its instances


def test_a_short_list_has_no_pager(catalog, client_as, owner, workspace):
    grow(workspace, sources=2, per_source=2)
    page = client_as(owner).get(reverse("connections:source-list", args=[workspace.slug]))
    assert 'class="pager"' not in page.content.decode()
