"""axe-core finds no serious or critical accessibility violation on every demo role's main pages.

Each role's home page and the first pages of two of its work menus are checked in Kazakh at a
desk width against the WCAG 2.2 AA rules (contrast, names and labels, landmarks, ids). The
vendored axe-core is evaluated through the browser's debugging protocol: the portal's
Content-Security-Policy (self-hosted scripts only) rightly refuses the inline script tag
``page.add_script_tag`` would insert.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from demo.accounts import DEMO_USERS

pytestmark = pytest.mark.e2e
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
PAGES_PER_ROLE = 3  # the home page and two work pages
# Work pages already checked for another role (several roles share the commission's pages).
CHECKED: set[str] = set()

# The first link of each work menu (the account menu and "My cabinet" last), in bar order.
MAIN_PAGES = """() => {
  const menus = [...document.querySelectorAll('nav.navbar .dropdown-menu')]
    .filter(m => m.getAttribute('aria-labelledby') !== 'menu-account')
    .map(m => m.getAttribute('aria-labelledby') === 'menu-mine' ? [] : [m.querySelector('a')]);
  const single = [...document.querySelectorAll('nav.navbar .nav-item > a.nav-link[href^="/"]')];
  const mine = [...document.querySelectorAll('[aria-labelledby="menu-mine"] a')];
  return [...menus.flat(), ...single, ...mine].filter(Boolean).map(a => a.getAttribute('href'));
}"""
RUN_AXE = """async () => {
  const result = await axe.run(document, {
    resultTypes: ['violations'],
    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']},
  });
  return result.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => v.id + ' (' + v.impact + '): '
      + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '));
}"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


@pytest.mark.parametrize("role", list(DEMO_USERS))
def test_main_pages_of_the_role_have_no_serious_accessibility_violation(
    role, signed_in, demo_site, axe_source
):
    page = signed_in(role)
    page.set_viewport_size({"width": 1280, "height": 800})
    response = page.goto(f"{demo_site}/")
    work = [p for p in dict.fromkeys(page.evaluate(MAIN_PAGES)) if p not in CHECKED]
    paths = ["/", *work[: PAGES_PER_ROLE - 1]]
    CHECKED.update(paths[1:])
    problems = []
    for path in paths:
        if path != "/":  # the home page is the one loaded above
            response = page.goto(demo_site + path)
        assert response is not None and response.ok, f"{role} {path}: HTTP {response.status}"
        assert page.locator("html").get_attribute("lang") == "kk"
        page.evaluate(axe_source)
        problems += [f"{role} {path}: {found}" for found in page.evaluate(RUN_AXE)]
    assert not problems, "\n".join(problems)
