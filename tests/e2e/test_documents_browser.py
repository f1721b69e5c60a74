"""Official documents in the browser: the minutes in paragraphs, the bilingual certificate."""

from __future__ import annotations

import sqlite3

import pytest

from tests.e2e.conftest import photograph

pytestmark = pytest.mark.demo_data


@pytest.fixture(scope="module")
def demo_ids(sqlite_demo_template):
    with sqlite3.connect(sqlite_demo_template) as db:
        final = db.execute(
            "SELECT id FROM commission_session WHERE status = 'minutes_final'"
        ).fetchone()[0]
        member = db.execute(
            "SELECT member.id FROM member JOIN user_account ON user_account.id = member.user_id"
            " WHERE user_account.email = 'volunteer@demo.kz'"
        ).fetchone()[0]
    return {"session": final, "member": member}


def _lines_of(page, selector: str) -> tuple[int, int]:
    """How many of the blocks of ``selector`` show, and on how many separate lines."""
    return page.evaluate(
        """s => {
          const shown = [...document.querySelectorAll(s)].filter(e => e.getClientRects().length);
          const tops = new Set(shown.map(e => Math.round(e.getBoundingClientRect().top)));
          return [shown.length, tops.size];
        }""",
        selector,
    )


def test_minutes_print_and_deputy_view_read_as_paragraphs_on_a_phone(
    signed_in, demo_site, demo_ids
):
    for role, url, shot in (
        ("secretary", f"/commission/sessions/{demo_ids['session']}/minutes", "minutes-print"),
        ("deputy", f"/oversight/sessions/{demo_ids['session']}", "minutes-deputy"),
    ):
        page = signed_in(role)
        page.set_viewport_size({"width": 360, "height": 780})
        try:
            for lang in ("kk", "ru"):
                # The print page holds both texts; the deputies' page shows the one asked for.
                if role == "deputy" or lang == "kk":
                    page.goto(demo_site + url + (f"?minutes={lang}" if role == "deputy" else ""))
                blocks = ", ".join(
                    f"#minutes-{lang} {part}"
                    for part in ("> p", "li", "h2", "h3", "h4", "tbody tr")
                )
                # Every paragraph, list item, heading and row starts a line of its own.
                shown, lines = _lines_of(page, blocks)
                assert shown >= 20 and lines == shown
                assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            photograph(page, f"{shot}-360.png", full_page=True)
        finally:
            page.set_viewport_size({"width": 1280, "height": 900})


def test_certificate_is_bilingual_side_by_side(signed_in, demo_site, demo_ids):
    page = signed_in("registrar")
    page.goto(f"{demo_site}/volunteers/members/{demo_ids['member']}/certificate")
    kk, ru = page.locator("#certificate-kk"), page.locator("#certificate-ru")
    assert "КУӘЛІК" in kk.inner_text() and "УДОСТОВЕРЕНИЕ" in ru.inner_text()
    assert kk.get_attribute("lang") == "kk" and ru.get_attribute("lang") == "ru"
    assert page.locator("#certificate-not-valid").count() == 0
    photograph(page, "certificate-bilingual-1280.png", full_page=True)
