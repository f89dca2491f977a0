"""Adding a destination has no dead ends: a path offers only what the rules allow and says why,
and its back links return where the user came from."""

import pytest
from django.urls import reverse

from catalog.models import MAX_CLOUD_INSTANCES_PER_SOURCE
from tests.factories import make_instance, make_source


@pytest.fixture
def console(catalog, client_as, owner, workspace):
    return client_as(owner)


def url(name, workspace, *args):
    return reverse(f"connections:{name}", args=[workspace.slug, *args])


def test_source_path_does_not_offer_configure_for_a_forbidden_instance(console, workspace):
    source = make_source(workspace, "javascript", name="Web")
    entry = url("source-add-destination-entry", workspace, source.pk, "hotjar")
    assert "Configure Hotjar" in console.get(entry).content.decode()
    make_instance(source, "hotjar")
    page = console.get(entry).content.decode()
    assert "Configure Hotjar" not in page
    assert "runs only in device mode, so a source can have one instance of it" in page


def test_source_path_refuses_the_26th_cloud_instance_before_configure(console, workspace):
    source = make_source(workspace, "javascript", name="Web")
    for n in range(MAX_CLOUD_INSTANCES_PER_SOURCE):
        make_instance(source, "webhooks", name=f"Hook {n + 1}")
    page = console.get(url("source-add-destination-entry", workspace, source.pk, "webhooks"))
    html = page.content.decode()
    assert "Configure Webhooks" not in html
    assert f"at most {MAX_CLOUD_INSTANCES_PER_SOURCE} cloud-mode instances" in html


def test_confirm_source_is_disabled_when_no_source_can_take_it(console, workspace):
    page = console.get(url("instance-confirm-source", workspace, "webhooks")).content.decode()
    assert "Add a source first" in page
    assert 'class="primary" disabled' in page
    source = make_source(workspace, "javascript", name="Web")
    make_instance(source, "hotjar")
    page = console.get(url("instance-confirm-source", workspace, "hotjar")).content.decode()
    assert "sources can take Hotjar" in page
    assert 'class="primary" disabled' in page
    page = console.get(url("instance-confirm-source", workspace, "webhooks")).content.decode()
    assert 'class="primary" disabled' not in page


def test_add_a_source_detour_returns_to_confirm_source(console, workspace):
    confirm = url("instance-confirm-source", workspace, "webhooks")
    page = console.get(confirm).content.decode()
    detour = f"/w/{workspace.slug}/catalog/sources/?next=%2Fw%2F{workspace.slug}%2Fdestinations"
    assert detour in page
    catalog = console.get(reverse("catalog:catalog", args=[workspace.slug, "sources"]),
                          {"next": confirm}).content.decode()  # fmt: skip
    entry = reverse("catalog:entry", args=[workspace.slug, "sources", "javascript"])
    assert f'{entry}?next={confirm.replace("/", "%2F")}"' in catalog
    create = url("source-create", workspace, "javascript")
    response = console.post(create, {"name": "Web", "slug": "web", "next": confirm})
    assert response.status_code == 302 and response.url == confirm


@pytest.mark.parametrize("unsafe", ["https://evil.example/", "//evil.example/", "/\\evil"])
def test_next_takes_only_same_site_paths(console, workspace, unsafe):
    create = url("source-create", workspace, "javascript")
    response = console.post(create, {"name": "Web", "slug": "web", "next": unsafe})
    assert response.url.startswith(f"/w/{workspace.slug}/sources/")
    page = console.get(url("instance-confirm-source", workspace, "webhooks"), {"next": unsafe})
    assert unsafe not in page.content.decode()


def test_back_links_return_where_the_user_came_from(console, workspace):
    source = make_source(workspace, "javascript", name="Web")
    entry = url("source-add-destination-entry", workspace, source.pk, "webhooks")
    page = console.get(entry).content.decode()
    configure = f"{url('instance-create', workspace, 'webhooks', source.pk)}?next="
    assert configure in page
    back = url("source-add-destination", workspace, source.pk)
    assert f'href="{back}">← Back' in page
    create = console.get(url("instance-create", workspace, "webhooks", source.pk), {"next": entry})
    assert f'href="{entry}">← Back' in create.content.decode()
