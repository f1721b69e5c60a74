"""Every demo role's pages fit a 360 px phone and a 1280 px desk in Kazakh, the longest language.

Each page is loaded once, measured at one width, resized to the other and measured again: the
layout must never be wider than the window (no horizontal scrollbar), and on the phone no table
may need scrolling inside its box either, because tables turn into cards there.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError

from demo.accounts import DEMO_USERS
from tests.e2e.conftest import photograph

pytestmark = pytest.mark.e2e
PHONE, DESK = 360, 1280
HEIGHT = 800
# Key pages photographed on the phone (PORTAL_SCREENSHOTS=1) as evidence of the cards.
SHOTS = {
    "/contributions/queue": "queue",
    "/commission/payouts": "payouts",
    "/finance/lines": "lines",
}
# Pages measured for another role already: one page of each kind is enough.
SEEN: set[str] = set()
# Links that answer with a file, or that the browser would download instead of showing.
NOT_A_PAGE = re.compile(r"\.(csv|xlsx|pdf|docx|ics|json|zip|png|svg)$|/(export|download)", re.I)

MEASURE = """() => {
  const wide = [];
  if (document.documentElement.scrollWidth > window.innerWidth) {
    wide.push('page ' + document.documentElement.scrollWidth + ' px');
  }
  for (const box of document.querySelectorAll('main .table-responsive')) {
    if (window.innerWidth < 576 && box.scrollWidth > box.clientWidth + 1) {
      wide.push('table ' + box.scrollWidth + ' px in ' + box.clientWidth + ' px');
    }
  }
  return wide;
}"""
# One link of each kind found on a page: its path with the ids taken out.
DETAIL_LINKS = """() => [...document.querySelectorAll('main a[href^="/"]')]
  .map(a => a.getAttribute('href')).filter(h => /\\/\\d+/.test(h))"""
MENU_LINKS = """() => [...document.querySelectorAll('nav.navbar a[href^="/"]')]
  .map(a => a.getAttribute('href'))"""


def _kind(href: str) -> str:
    return re.sub(r"/\d+", "/{id}", urlsplit(href).path)


def _shoot(page, name: str) -> None:
    photograph(page, name, full_page=False)


def _visit(page, url: str, width: int, problems: list, role: str) -> int:
    """Load ``url``, measure it at the current width and at the other; return the width left."""
    try:
        response = page.goto(url)
    except PlaywrightError as exc:
        if "Download is starting" in str(exc):
            return width  # a file (PDF, DOCX, CSV) served from an address without a suffix
        raise
    if response is None or not response.ok:
        problems.append(f"{role} {url}: HTTP {response.status if response else '?'}")
        return width
    for w in (width, PHONE if width == DESK else DESK):
        if w != width:
            page.set_viewport_size({"width": w, "height": HEIGHT})
        for what in page.evaluate(MEASURE):
            problems.append(f"{role} {url} at {w} px: {what}")
        path = urlsplit(url).path
        if path == "/" and w == PHONE and role in ("volunteer", "coordinator", "finance"):
            _shoot(page, f"home-{role}-kk-{PHONE}.png")  # the role's to-do list
        shot = SHOTS.get(path)
        if shot and w == PHONE and page.locator("main table").count():
            page.locator("main table").first.scroll_into_view_if_needed()
            _shoot(page, f"{shot}-kk-{PHONE}.png")
    return PHONE if width == DESK else DESK


@pytest.mark.parametrize("role", list(DEMO_USERS))
def test_every_page_of_the_role_fits_a_phone_and_a_desk_in_kazakh(role, signed_in, demo_site):
    page = signed_in(role)
    page.set_viewport_size({"width": DESK, "height": HEIGHT})
    page.goto(f"{demo_site}/my")  # every role has this page; the home page is measured below
    assert page.locator("html").get_attribute("lang") == "kk"
    # The whole menu, "Sign out" included, is on the bar at a desk width.
    assert page.locator("nav.navbar .navbar-toggler").is_hidden()
    sign_out = page.locator("nav.navbar").get_by_role("button", name="Шығу")
    if sign_out.is_hidden():  # kept in the account menu: open it
        page.locator("#menu-account").click()
    box = sign_out.bounding_box()
    assert box is not None and box["x"] + box["width"] <= DESK, f"{role}: Sign out is off screen"
    if role in ("deputy", "admin"):
        _shoot(page, f"menu-{role}-kk-{DESK}.png")
    page.keyboard.press("Escape")

    # Each role's home page is its own (a to-do list); other pages are measured once.
    menu = ["/", *(p for p in dict.fromkeys(page.evaluate(MENU_LINKS)) if _kind(p) not in SEEN)]
    SEEN.update(_kind(p) for p in menu[1:])
    problems: list[str] = []
    width = DESK
    for path in menu:
        if NOT_A_PAGE.search(path):
            continue
        width = _visit(page, demo_site + path, width, problems, role)
        details = []
        for href in page.evaluate(DETAIL_LINKS):
            kind = _kind(href)
            if kind not in SEEN and not NOT_A_PAGE.search(href):
                SEEN.add(kind)
                details.append(href)
        for href in details:
            width = _visit(page, demo_site + href, width, problems, role)
    assert not problems, "\n".join(problems)


def test_the_pages_a_citizen_sees_before_signing_in_fit_a_phone_and_a_desk(browser, demo_site):
    context = browser.new_context(viewport={"width": PHONE, "height": HEIGHT}, locale="kk-KZ")
    page = context.new_page()
    problems: list[str] = []
    width = PHONE
    try:
        for path in ("/", "/login", "/signup", "/sober-settlements", "/password/forgot"):
            width = _visit(page, demo_site + path, width, problems, "anonymous")
    finally:
        context.close()
    assert not problems, "\n".join(problems)


def test_sign_out_is_reached_by_keyboard_through_the_account_menu(signed_in, demo_site):
    page = signed_in("deputy")
    page.set_viewport_size({"width": DESK, "height": HEIGHT})
    page.goto(f"{demo_site}/my")
    page.locator("#menu-account").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowUp")  # Bootstrap's dropdown wraps round to its last item
    focused = page.evaluate(
        "[document.activeElement.textContent.trim(), document.activeElement.form?.action]"
    )
    # Pressing it would end every session of the account, the other checks' too.
    assert focused == ["Шығу", f"{demo_site}/logout"]
    page.keyboard.press("Escape")
    assert page.locator("#menu-account").get_attribute("aria-expanded") == "false"
