"""The layout every page shares: favicon, self-hosted scripts only, a menu grouped to fit."""

from __future__ import annotations

import re

from portal.menu import visible
from tests.conftest import login_as


def test_favicon_is_linked_and_the_browsers_own_request_finds_it(client):
    page = client.get("/login").text
    icon_url = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page)[1]
    assert re.fullmatch(r"/static/favicon\.svg\?v=[0-9a-f]{12}", icon_url)
    asked = client.get("/favicon.ico")
    assert asked.status_code == 301
    assert asked.headers["Location"].endswith(icon_url)
    with client.get(icon_url) as icon:
        assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
        assert b"<svg" in icon.data


def test_pages_load_the_table_cards_script_from_the_portal_only(client):
    login_as(client, "coordinator@demo.kz")
    page = client.get("/shifts/queue").text
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert scripts, page
    # The Content-Security-Policy allows no inline script: each one is a file of the portal.
    assert all(not body.strip() and 'src="/static/' in attrs for attrs, body in scripts)
    assert any("/static/js/table_cards.js" in attrs for attrs, _body in scripts)


def _menu(roles: set[str], menu_id: str) -> list[str | None]:
    menus = {key: links for key, _title, links in visible(frozenset(roles))}
    return [endpoint for endpoint, _label in menus.get(menu_id, [])]


def test_a_divider_shows_only_between_two_shown_groups_of_links():
    assert _menu({"deputy"}, "volunteers") == ["volunteers.members", None, "shifts.summary"]
    assert None not in _menu({"registrar"}, "volunteers")  # no shifts: no divider after
    assert _menu(set(), "volunteers") == []  # a citizen has no such menu at all
    assert _menu({"coordinator"}, "volunteers").count(None) == 1


def test_the_deputy_and_the_administrator_have_few_menus_on_the_bar():
    # Seven menus of Kazakh titles overflowed a 1280 px bar (issue 19, finding 3).
    assert len(visible(frozenset({"deputy"}))) <= 6
    assert len(visible(frozenset({"admin"}))) <= 6
