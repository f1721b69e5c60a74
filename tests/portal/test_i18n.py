"""Languages: complete catalogs, the default, the switcher and remembering the choice."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from core import accounts
from tests.conftest import login_as

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = ROOT / "portal" / "translations"
LANGS = ("kk", "ru", "en")
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "N_": None,
    "_l": None,
    "lazy_gettext": None,
}


def _source_msgids() -> set[str]:
    # Read babel.cfg itself, so a package missing there cannot hide untranslated messages.
    method_map = [
        (line.strip("[]").split(": ")[1], line.strip("[]").split(": ")[0])
        for line in (ROOT / "babel.cfg").read_text().splitlines()
        if line.startswith("[")
    ]
    packages = {pattern.split("/")[0] for pattern, _method in method_map}
    expected = {
        "core",
        "volunteers",
        "budget",
        "incentives",
        "sober",
        "appeals",
        "portal",
        "templates",
    }
    assert expected <= packages
    found = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(ROOT),
        method_map,
        keywords=KEYWORDS,
        directory_filter=lambda d: not any(p in d for p in (".venv", "tests", "instance")),
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.mark.parametrize("lang", LANGS)
def test_catalog_is_complete_and_compiled(lang):
    with open(CATALOGS / lang / "LC_MESSAGES" / "messages.po", "rb") as fh:
        catalog = read_po(fh)
    # A plural entry's id is (singular, plural) and its string one text per form.
    entries = {_singular(m.id): m for m in catalog if m.id}
    missing = sorted(_source_msgids() - set(entries))
    assert missing == [], f"{lang}: msgids not in the catalog (run python3 dev.py i18n)"
    untranslated = sorted(
        k for k, m in entries.items() if not _texts(m.string) or "" in _texts(m.string)
    )
    fuzzy = sorted(k for k, m in entries.items() if m.fuzzy)
    assert untranslated == [] and fuzzy == [], (lang, untranslated[:10], fuzzy[:10])
    with open(CATALOGS / lang / "LC_MESSAGES" / "messages.mo", "rb") as fh:
        compiled = {_singular(m.id): _texts(m.string) for m in read_mo(fh) if m.id}
    assert compiled == {k: _texts(m.string) for k, m in entries.items()}, f"{lang}: .mo is stale"


def _singular(msgid):
    return msgid[0] if isinstance(msgid, tuple | list) else msgid


def _texts(string) -> tuple:
    return tuple(string) if isinstance(string, tuple | list) else (string,)


def test_kazakh_is_the_default_when_the_browser_says_nothing(app, client):
    html = client.get("/").data.decode()
    assert '<html lang="kk">' in html


def test_browser_language_is_used(app, client):
    html = client.get("/", headers={"Accept-Language": "ru-RU,ru;q=0.9"}).data.decode()
    assert '<html lang="ru">' in html and "Войти" in html


@pytest.mark.parametrize("lang", LANGS)
def test_sign_in_page_exists_in_each_language(app, client, lang):
    client.post("/language", data={"lang": lang})
    response = client.get("/login")
    assert response.status_code == 200 and f'<html lang="{lang}">' in response.data.decode()


def test_switcher_sets_the_language_and_unknown_codes_fall_back(app, client):
    client.post("/language", data={"lang": "en", "next": "/login"})
    assert '<html lang="en">' in client.get("/login").data.decode()
    response = client.post("/language", data={"lang": "xx", "next": "//evil.example"})
    assert response.headers["Location"] == "/"
    assert '<html lang="kk">' in client.get("/").data.decode()


def test_signed_in_users_choice_is_remembered(app, client, session):
    login_as(client, "deputy@demo.kz")
    client.post("/language", data={"lang": "ru", "next": "/"})
    session.rollback()
    assert accounts.find_by_login(session, "deputy@demo.kz").preferred_language == "ru"
    client.post("/logout")
    other = app.test_client()
    login_as(other, "deputy@demo.kz")
    assert '<html lang="ru">' in other.get("/").data.decode()


ADMIN_PAGES = ["/", "/account/password", "/admin/users", "/admin/users/new", "/admin/audit"]


@pytest.mark.parametrize("lang", LANGS)
def test_every_page_exists_in_each_language(app, client, session, lang):
    login_as(client, "admin@demo.kz")
    client.post("/language", data={"lang": lang})
    admin = accounts.find_by_login(session, "admin@demo.kz")
    page = client.post("/admin/audit/verify").headers["Location"]
    for url in [*ADMIN_PAGES, f"/admin/users/{admin.id}", f"/admin/users/{admin.id}/edit", page]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert f'<html lang="{lang}">' in response.data.decode(), url


def test_templates_translate_escape_variables_and_read_double_percent(app):
    """Templates' ``_()`` (portal.i18n's own, issue 16) answers as Jinja's gettext would."""
    from flask_babel import force_locale

    template = app.jinja_env.from_string(
        '{{ _("%(h)s h", h=v) }}|{{ _("%(rate)s %% from %(date)s (%(basis)s)", rate=v, '
        'date="1.01", basis="x") }}|{{ gettext("%(h)s h", h=v) }}'
    )
    with app.test_request_context("/"), force_locale("ru"):
        shown = template.render(v="<b>5</b>")
    assert shown == (
        "&lt;b&gt;5&lt;/b&gt; ч|&lt;b&gt;5&lt;/b&gt; % с 1.01 (x)|&lt;b&gt;5&lt;/b&gt; ч"
    )


WTFORMS_WORDING = {  # WTForms' own catalogue (its package's kk, ru and en .mo files)
    "kk": "Жарамды таңдау емес.",
    "ru": "Неверный вариант.",
    "en": "Not a valid choice.",
}


def _refused_choice(app, lang: str) -> list[str]:
    """The errors of a choice the form does not offer, posted in a request in ``lang``."""
    import wtforms

    from portal.forms import PortalForm

    class Pick(PortalForm):
        colour = wtforms.SelectField(choices=[wtforms.SelectChoice("red", "Red")])

    with app.test_request_context(
        "/", method="POST", data={"colour": "blue"}, headers={"Accept-Language": lang}
    ):
        form = Pick(meta={"csrf": False})
        assert not form.validate()
        return form.colour.errors


@pytest.mark.parametrize("lang", LANGS)
def test_wtforms_own_messages_are_in_the_language_of_the_request(app, lang):
    assert _refused_choice(app, lang) == [WTFORMS_WORDING[lang]]


def test_wtforms_catalogue_is_read_once_per_language(app, monkeypatch):
    """Flask-WTF read it from disk in every request that built a form (0.3 ms each)."""
    from portal import forms

    reads = []
    load = forms.Translations.load
    monkeypatch.setattr(
        forms.Translations, "load", lambda *args, **kw: reads.append(args[1]) or load(*args, **kw)
    )
    forms._wtforms_catalogue.cache_clear()
    try:
        for lang in ("ru", "kk", "ru", "ru", "kk"):
            assert _refused_choice(app, lang) == [WTFORMS_WORDING[lang]]
        assert reads == [["ru"], ["kk"]]
    finally:
        forms._wtforms_catalogue.cache_clear()  # no catalogue read through the counting stub
