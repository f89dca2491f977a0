import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.loader import load_catalog
from tests.catalog.generated import write_catalog


@pytest.fixture
def owner_client(client_as, owner, workspace):
    return client_as(owner)


def names(response) -> list[str]:
    return re.findall(r'class="catalog-name">([^<]+)<', response.content.decode())


def test_search_customer_finds_customer_io_on_both_tabs(catalog, owner_client, workspace):
    for tab in ["destinations", "sources"]:
        response = owner_client.get(f"/w/{workspace.slug}/catalog/{tab}/", {"q": "customer"})
        assert "Customer.io" in names(response), tab


def test_search_and_category_narrow_the_list(catalog, owner_client, workspace):
    url = f"/w/{workspace.slug}/catalog/destinations/"
    everything = names(owner_client.get(url))
    narrowed = names(owner_client.get(url, {"q": "ampl"}))
    assert set(narrowed) == {n for n in everything if "ampl" in n.lower()} and narrowed
    referrals = names(owner_client.get(url, {"category": "Referrals"}))
    assert set(referrals) == {"Ambassador", "Extole Platform", "Talkable"}
    assert names(owner_client.get(url, {"q": "zzzz-nothing"})) == []


def test_warehouses_have_their_own_tab_and_leave_destinations(catalog, owner_client, workspace):
    base = f"/w/{workspace.slug}/catalog"
    warehouses = owner_client.get(f"{base}/warehouses/")
    assert names(warehouses) == ["BigQuery", "Postgres", "Redshift", "Snowflake"]
    assert "4 warehouses" in warehouses.content.decode()
    assert warehouses.content.decode().count("Not available yet") == 3
    destinations = names(owner_client.get(f"{base}/destinations/"))
    assert "Postgres" not in destinations and "BigQuery" not in destinations
    assert "Data Lakes" in destinations
    assert owner_client.get(f"{base}/destinations/postgres/").status_code == 404
    entry = owner_client.get(f"{base}/warehouses/postgres/").content.decode()
    assert f'href="/w/{workspace.slug}/warehouses/new/postgres/"' in entry


def test_htmx_search_returns_the_results_fragment_only(catalog, owner_client, workspace):
    response = owner_client.get(
        f"/w/{workspace.slug}/catalog/destinations/", {"q": "slack"},
        headers={"HX-Request": "true", "HX-Target": "catalog-results"},
    )  # fmt: skip
    body = response.content.decode()
    assert names(response) == ["Slack"] and "<html" not in body
    assert "HX-Request" in response["Vary"]


def test_entry_page_states_modes_settings_and_instance_limits(catalog, owner_client, workspace):
    body = owner_client.get(f"/w/{workspace.slug}/catalog/destinations/amplitude/").content.decode()
    assert "Cloud mode and device mode" in body
    assert "Up to 25 cloud-mode instances per source on website, server sources" in body
    assert "One instance per source on mobile, project (legacy) sources" in body
    assert "<code>apiKey</code>" in body and "Configure Amplitude" in body
    hotjar = owner_client.get(f"/w/{workspace.slug}/catalog/destinations/hotjar/").content.decode()
    assert "Device mode only" in hotjar


def test_unknown_tab_and_entry_are_404(catalog, owner_client, workspace):
    assert owner_client.get(f"/w/{workspace.slug}/catalog/widgets/").status_code == 404
    assert owner_client.get(f"/w/{workspace.slug}/catalog/destinations/nope/").status_code == 404


def test_logo_is_a_local_svg(catalog, client):
    response = client.get("/catalog/logos/customer-io.svg")
    assert response["Content-Type"] == "image/svg+xml" and b">CI<" in response.content


def count_queries(client, url) -> int:
    client.get(url)  # the first visit to a workspace writes the session; measure a steady page
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_catalog_list_queries_do_not_grow_with_the_catalog(db, owner_client, workspace, tmp_path):
    url = f"/w/{workspace.slug}/catalog/destinations/?q=tool"
    load_catalog(write_catalog(tmp_path / "small", destinations=1))
    small = count_queries(owner_client, url)
    load_catalog(write_catalog(tmp_path / "big", destinations=500))
    # session, user, membership, the categories column, the entries, the switcher's memberships
    assert count_queries(owner_client, url) == small == 6
