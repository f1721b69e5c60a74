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


def test_every_form_renders_its_csrf_field_without_an_id(app):
    """A page with a form per card or row (a shift's check-in, a grant's revoke) said
    id="csrf_token" once per form, and an id must be unique on a page: every form of the
    portal is a PortalForm, whose CSRF field carries no id."""
    from flask_wtf import FlaskForm

    from portal.auth.forms import LoginForm
    from portal.forms import ConfirmForm, PortalForm

    def below(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from below(sub)

    forms = {c for c in below(FlaskForm) if c.__module__.startswith("portal.")}
    assert len(forms) > 50
    assert sorted(c.__qualname__ for c in forms if not issubclass(c, PortalForm)) == []
    with app.test_request_context("/"):
        on = {"csrf": True}  # the test app turns CSRF off; production renders it
        html = str(ConfirmForm(meta=on).csrf_token) + str(LoginForm(meta=on).csrf_token)
    assert html.count('name="csrf_token"') == 2 and " id=" not in html
