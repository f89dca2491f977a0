"""The Connections home: each source beside its destination instances, their state, mode and
health, with Add source and Add destination."""

import pytest
from django.urls import reverse

from connections import instances
from segapp.models import Role
from tests.factories import make_instance, make_member, make_source

pytestmark = pytest.mark.django_db


def test_home_shows_each_source_with_its_instances(catalog, client_as, owner, workspace):
    site = make_source(workspace, "javascript", name="Marketing site")
    make_instance(site, "webhooks", name="Orders hook", enabled=True)
    heap = instances.set_mode(make_instance(site, "heap", name="Heap web"), "device", None)
    make_source(workspace, "python", name="Backend")
    html = client_as(owner).get(reverse("segapp:workspace-overview", args=[workspace.slug])).text
    site_row = html.split(f'data-source="{site.pk}"', 1)[1].split("</li>\n  </li>")[0]
    assert "Orders hook" in site_row and "Cloud mode" in site_row
    assert "Heap web" in site_row and "Device mode" in site_row and "Disabled" in site_row
    assert f'data-instance="{heap.pk}"' in site_row
    assert "Backend" in html and "No destinations yet." in html
    catalog_url = reverse("catalog:catalog", args=[workspace.slug, "destinations"])
    assert f'href="{catalog_url}">Add destination</a>' in html
    assert ">Add source</a>" in html


def test_read_only_members_get_no_add_buttons(catalog, client_as, workspace):
    make_source(workspace, "javascript", name="Site")
    reader = make_member(workspace, Role.READ_ONLY)
    html = client_as(reader).get(reverse("segapp:workspace-overview", args=[workspace.slug])).text
    assert "Add destination" not in html and "Add source" not in html


def test_an_empty_workspace_starts_with_a_source(client_as, owner, workspace):
    html = client_as(owner).get(reverse("segapp:workspace-overview", args=[workspace.slug])).text
    assert "Start with a source" in html


@pytest.mark.parametrize("page", ["segapp:workspace-overview", "connections:source-list"])
def test_sources_and_instances_read_in_natural_order(catalog, client_as, owner, workspace, page):
    site = make_source(workspace, "javascript", name="Site 10")
    make_source(workspace, "python", name="site 2")
    for name in ["Hook 10", "hook 2", "Hook 1"]:
        make_instance(site, "webhooks", name=name)
    html = client_as(owner).get(reverse(page, args=[workspace.slug])).text
    assert html.index("site 2") < html.index("Site 10")
    assert html.index("Hook 1<") < html.index("hook 2") < html.index("Hook 10")
