"""In the browser: a place picker narrows as one types; a refused form lists its errors with links.

Issue 19, finding 8: place pickers showed 9-digit KATO codes with no way to find a village in
a long list, and the errors of a form came one round at a time in a banner.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import photograph

pytestmark = pytest.mark.e2e

VISIBLE = "sel => [...sel.options].filter(o => !o.hidden && o.value).map(o => o.textContent.trim())"


def test_place_filter_narrows_the_picker_and_error_links_reach_their_fields(signed_in, demo_site):
    page = signed_in("coordinator")
    page.goto(f"{demo_site}/volunteers/applications/new")
    picker = page.locator("select#unit_id")
    before = picker.evaluate(VISIBLE)
    assert len(before) > 8
    # Typed in Russian on a Kazakh page: both names are searched.
    page.locator("input.place-filter").fill("ботакар")
    shown = picker.evaluate(VISIBLE)
    assert "Ботақара кенті" in shown and len(shown) < len(before) / 2, shown
    chosen = picker.evaluate("s => s.selectedOptions[0].textContent.trim()")
    assert all("Ботақара" in name or name == chosen for name in shown), shown  # chosen stays
    page.locator("input.place-filter").fill("")
    assert len(picker.evaluate(VISIBLE)) == len(before)

    # Nothing typed but the IIN, wrong: one round lists every problem, each a link to its field.
    page.locator("#iin").fill("123")
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector("#form-error-summary")
    links = page.locator("#form-error-summary a")
    assert links.count() >= 4  # kind, IIN, full name, phone, address...
    photograph(page, "form-errors-kk-1280.png")
    page.locator('#form-error-summary a[href="#iin"]').click()
    assert page.evaluate("document.activeElement.id") == "iin"
    assert page.locator("#iin").get_attribute("aria-invalid") == "true"
    assert page.locator("#iin").input_value() == "123"


def test_paid_by_month_chart_draws_axes_and_the_year_before(signed_in, demo_site):
    page = signed_in("deputy")
    page.goto(f"{demo_site}/oversight/")
    chart = page.locator('svg[aria-labelledby="months-title"]')
    assert chart.bounding_box()["height"] > 100
    assert chart.locator("text.chart-axis-title").text_content() == "₸"
    assert chart.locator("rect.bar-previous").count() == 12
    figure = page.locator("figure", has=chart)
    photograph(figure, "chart-months-kk-1280.png")
