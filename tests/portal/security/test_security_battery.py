"""The web-security battery items not covered elsewhere: S2 on every page, S9, S10, P5."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from core import accounts, passwords
from core.errors import DomainError
from tests.conftest import DEMO_PASSWORD, login

ROOT = Path(__file__).resolve().parents[3]


def _pages(app) -> list[str]:
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and not rule.arguments and rule.endpoint != "static"
    )


def test_security_headers_on_every_page_signed_in_or_not(app):
    anonymous, admin = app.test_client(), app.test_client()
    login(admin, "admin@demo.kz")
    checked = 0
    for client in (anonymous, admin):
        for url in _pages(app):
            headers = client.get(url).headers
            csp = headers.get("Content-Security-Policy", "")
            assert "object-src 'none'" in csp and "base-uri 'none'" in csp, url
            assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, url
            assert "unsafe-inline" not in csp, url
            assert headers["X-Content-Type-Options"] == "nosniff", url
            assert headers["Referrer-Policy"] == "same-origin", url
            hsts = headers["Strict-Transport-Security"]
            # includeSubDomains is opt-in (PORTAL_HSTS_INCLUDE_SUBDOMAINS): it binds sibling hosts.
            assert hsts == "max-age=31536000", url
            checked += 1
    print(f"S2 routes checked={checked}")
    assert checked > 100


def test_templates_have_no_inline_script_and_no_unescaped_output():
    """The CSP forbids inline script; autoescaping must never be switched off by hand."""
    hits = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for pattern in (
            r"\|\s*safe\b",
            r"autoescape\s+false",
            r"<script(?![^>]*\bsrc=)",
            r"\son\w+=",
        ):
            hits += [f"{path.name}: {m.group(0)}" for m in re.finditer(pattern, text)]
        # An attribute value must be quoted, or a value with a space breaks out of it.
        hits += [f"{path.name}: {m.group(0)}" for m in re.finditer(r"=\{\{", text)]
    for path in sorted(ROOT.glob("portal/**/*.py")):
        text = path.read_text(encoding="utf-8")
        found = [f"{path.name}: Markup(" for _ in re.finditer(r"\bMarkup\(", text)]
        hits += found[TRUSTED_MARKUP.get(path.relative_to(ROOT).as_posix(), 0) :]
    assert hits == []


# Where the portal marks text safe by hand, and why; any other Markup( fails the test above.
TRUSTED_MARKUP = {
    # Templates' _() and gettext(): the catalogue's own text, marked as Jinja's gettext marks it;
    # the variables are still escaped by Markup's % (tests/portal/test_i18n.py checks both).
    "portal/i18n.py": 1,
    # The attributes of form fields' tags (html_params): WTForms' own, every name and value
    # escaped (tests/portal/test_form_html.py compares it with WTForms').
    "portal/forms.py": 1,
}


def test_user_text_is_escaped_where_it_is_shown(app, client, session):
    payload = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    admin = accounts.find_by_login(session, "admin@demo.kz")
    target = accounts.find_by_login(session, "volunteer@demo.kz")
    accounts.update_profile(
        session,
        user_id=target.id,
        email=target.email,
        phone=target.phone,
        full_name=payload,
        preferred_language="kk",
        unit_id=target.unit_id,
        actor_id=admin.id,
    )
    session.commit()
    login(client, "admin@demo.kz")
    for url in ("/admin/users", f"/admin/users/{target.id}"):
        page = client.get(url).text
        assert payload not in page, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, url


def test_an_older_password_hash_is_upgraded_at_sign_in(app, client, session, monkeypatch):
    # The suite hashes with the cheap test profile; production's is what an old hash becomes.
    monkeypatch.setattr(passwords, "_hasher", passwords.PASSWORD_PROFILES["standard"])
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    user = accounts.find_by_login(session, "coordinator@demo.kz")
    user.password_hash = weak.hash(DEMO_PASSWORD)
    session.commit()
    assert login(client, "coordinator@demo.kz").status_code == 302
    session.rollback()
    stored = session.scalar(select(accounts.User.password_hash).where(accounts.User.id == user.id))
    assert stored.startswith("$argon2id$") and "m=65536,t=3,p=4" in stored


JPEG_ID_SCAN = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 512


def test_identity_document_images_are_refused_by_every_upload(app, session):
    """P5: uploads take only the documents they are for, never a photo of an ID card."""
    import sober

    with pytest.raises(DomainError, match="must be a PDF file"):
        sober.store_record_pdf(
            session, filename="udostoverenie.jpg", content=JPEG_ID_SCAN, owner_id=None
        )
    session.rollback()
    from volunteers.importing import read_table

    with pytest.raises(DomainError):
        read_table(JPEG_ID_SCAN, "passport.jpg")
    with pytest.raises(DomainError):
        read_table(JPEG_ID_SCAN, "passport.csv")


def test_a_jpeg_is_refused_as_the_signed_minutes(app, session):
    from incentives import sessions

    with pytest.raises(DomainError, match="must be a PDF file"):
        sessions.attach_scan(session, session_id=1, file_id=1, content=JPEG_ID_SCAN, actor_id=1)
    session.rollback()
