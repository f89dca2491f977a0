import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def catalog_page(signed_in, owner, workspace, catalog):
    page = signed_in(owner)
    page.get_by_role("link", name="Catalog").click()
    return page


def cards(page):
    return page.locator(".catalog-name")


def test_search_narrows_as_you_type_and_the_url_follows(catalog_page):
    page = catalog_page
    total = cards(page).count()
    assert total >= 60
    page.get_by_label("Search destinations").press_sequentially("amplit", delay=30)
    expect(cards(page)).to_have_text(["Amplitude", "Amplitude (Actions)"])
    assert "q=amplit" in page.url
    page.get_by_label("Search destinations").fill("")
    expect(cards(page)).to_have_count(total)


def test_category_filter_and_tab_switch(catalog_page):
    page = catalog_page
    page.get_by_label("Category").select_option("Referrals")
    expect(cards(page)).to_have_text(["Ambassador", "Extole Platform", "Talkable"])
    tabs = page.get_by_role("navigation", name="Catalog tabs")
    tabs.get_by_role("link", name="Warehouses").click()
    expect(cards(page)).to_have_text(["BigQuery", "Postgres", "Redshift", "Snowflake"])
    expect(page.get_by_text("Not available yet")).to_have_count(3)
    page.get_by_role("navigation", name="Catalog tabs").get_by_role("link", name="Sources").click()
    expect(
        page.get_by_role("navigation", name="Catalog tabs").get_by_role("link", name="Sources")
    ).to_have_attribute("aria-current", "page")
    expect(page.get_by_label("Search sources")).to_be_visible()
    assert page.url.endswith("/catalog/sources/")


def test_customer_shows_customer_io_on_both_tabs(catalog_page):
    page = catalog_page
    page.get_by_label("Search destinations").fill("customer")
    expect(cards(page).get_by_text("Customer.io", exact=True)).to_have_count(1)
    page.get_by_role("navigation", name="Catalog tabs").get_by_role("link", name="Sources").click()
    page.get_by_label("Search sources").fill("customer")
    expect(cards(page).get_by_text("Customer.io", exact=True)).to_have_count(1)


def test_entry_page_from_the_results(catalog_page):
    page = catalog_page
    page.get_by_label("Search destinations").fill("hotjar")
    expect(cards(page)).to_have_count(1)
    page.get_by_role("link", name="Hotjar").click()
    expect(page.get_by_role("heading", name="Hotjar")).to_be_visible()
    expect(page.get_by_text("Device mode only").first).to_be_visible()
    expect(page.get_by_role("link", name="Configure Hotjar")).to_be_visible()


def test_search_works_without_javascript(browser, live_server, owner, workspace, catalog):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.goto("/signin/")
    page.get_by_label("Email").fill(owner.email)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"/w/{workspace.slug}/catalog/destinations/")
    page.get_by_label("Search destinations").fill("slack")
    page.get_by_role("button", name="Search").click()
    expect(cards(page)).to_have_text(["Slack"])
    context.close()
