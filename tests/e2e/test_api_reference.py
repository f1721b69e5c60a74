"""The API reference page: the vendored Swagger UI reads the portal's document under its CSP."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import photograph

pytestmark = pytest.mark.e2e


def test_the_reference_lists_the_operations_without_breaking_the_policy(browser, demo_site):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    refused = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    page.on("pageerror", lambda e: refused.append(str(e)))
    page.goto(demo_site + "/api/v1/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=20000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/v1/me/signups/{signup_id}/check-in" in p for p in paths), paths[:5]
    assert any("/api/v1/public/certificates/{number}" in p for p in paths)
    assert refused == []
    photograph(page, "api-reference.png")
    context.close()
