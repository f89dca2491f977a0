"""Swagger UI runs from our own static files under the Content-Security-Policy."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_api_docs_render_the_operations(page, db):
    page.goto("/api/docs/")
    expect(page.get_by_text("Segapp Public API").first).to_be_visible()
    expect(page.locator(".opblock").first).to_be_visible()
