"""The console's rough edges: the sidebar shows where you
are, the favicon is served, and device-mode setup is on the source page."""

import re

import pytest
from django.urls import reverse

from tests.factories import make_instance, make_source


@pytest.fixture
def console(catalog, client_as, owner, workspace):
    return client_as(owner)


def url(name, workspace, *args):
    return reverse(f"connections:{name}", args=[workspace.slug, *args])


@pytest.mark.parametrize(
    ("page", "current"),
    [
        (lambda ws, s, i: url("source-list", ws), "Sources"),
        (lambda ws, s, i: url("source-detail", ws, s.pk), "Sources"),
        (lambda ws, s, i: url("instance-detail", ws, i.pk), "Destinations"),
        (lambda ws, s, i: reverse("catalog:catalog", args=[ws.slug, "sources"]), "Catalog"),
        (lambda ws, s, i: reverse("segapp:member-list", args=[ws.slug]), "Members"),
    ],
)
def test_the_sidebar_marks_the_current_section(console, workspace, page, current):
    source = make_source(workspace)
    instance = make_instance(source, "webhooks")
    html = console.get(page(workspace, source, instance)).content.decode()
    nav = re.search(r'<nav aria-label="Workspace">.*?</nav>', html, re.S)[0]
    marked = re.findall(r'<a href="[^"]*" aria-current="page">([^<]*)</a>', nav)
    assert marked == [current]


def test_the_favicon_is_linked_and_served(console, workspace, client):
    html = console.get(url("source-list", workspace)).content.decode()
    assert re.search(r'<link rel="icon" href="[^"]*favicon\.svg"', html)
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response.url.endswith("segapp/favicon.svg")


def test_a_web_source_shows_analytics_js_pointed_at_segapp(console, workspace):
    source = make_source(workspace, "javascript", name="Web")
    key = source.write_keys.get().key
    html = console.get(url("source-detail", workspace, source.pk)).content.decode()
    assert f"writeKey: &quot;{key}&quot;, cdnURL: &quot;http://testserver&quot;" in html
    assert "protocol: &quot;http&quot;" in html  # the test server is plain HTTP
    assert "bundled" not in html


def test_a_mobile_source_says_device_mode_needs_the_sdk_bundled(console, workspace):
    source = make_source(workspace, "ios", name="App")
    html = console.get(url("source-detail", workspace, source.pk)).content.decode()
    assert "needs its SDK bundled" in html and "cdnURL" not in html
