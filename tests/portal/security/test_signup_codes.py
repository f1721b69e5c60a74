"""Sign-up without enumeration: a one-time code by e-mail, one answer for every address."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from core.accounts import User
from core.signups import SignupRequest
from tests.conftest import login_as
from tests.portal.security.signin_steps import messages_to, retry_text, sign_up

PASSWORD = "a long enough passphrase"
# Both databases: guarded updates claim the sign-up and the reveal token.
pytestmark = pytest.mark.both_databases


def _form(session, email: str, phone: str = "") -> dict:
    from core import places

    return {
        "full_name": "Айгүл Нұрланова",
        "email": email,
        "phone": phone,
        "preferred_language": "kk",
        "unit_id": places.by_kato(session, "354030100").id,
        "password": PASSWORD,
        "confirm": PASSWORD,
    }


def _users(session, email: str) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(User).where(User.email == email))


def _visible(html: str, email: str) -> str:
    """The page without what differs by nature: the address typed and the form's token."""
    html = html.replace(email, "EMAIL")
    return re.sub(r'name="csrf_token"[^>]*', "", html)


def test_a_known_and_a_new_address_get_the_same_answer(app, session):
    answers = {}
    for email in ("admin@demo.kz", "new-person@example.kz"):
        client = app.test_client()
        started = client.post("/signup", data=_form(session, email))
        page = client.get("/signup/code")
        answers[email] = (
            started.status_code,
            started.headers["Location"],
            page.status_code,
            _visible(page.text, email),
        )
    assert answers["admin@demo.kz"] == answers["new-person@example.kz"]
    assert answers["admin@demo.kz"][:3] == (302, "/signup/code", 200)
    # The new address got a code; the owner of the known one a warning, and no code.
    assert [set(m) for m in messages_to(app, "new-person@example.kz", "signup.code")] == [
        {"code", "minutes"}
    ]
    assert messages_to(app, "admin@demo.kz", "signup.code") == []
    assert messages_to(app, "admin@demo.kz", "signup.existing") == [{}]
    assert _users(session, "new-person@example.kz") == 0  # not before the code


def test_the_code_creates_the_account_and_signs_in(app, session):
    client = app.test_client()
    done = sign_up(app, client, _form(session, "Aigul@Example.kz", "+7 701 555 44 33"))
    assert done.status_code == 302 and done.headers["Location"].endswith("/apply")
    assert client.get("/apply").status_code == 200
    assert _users(session, "aigul@example.kz") == 1
    assert session.scalar(select(User.phone).where(User.email == "aigul@example.kz")) == (
        "+77015554433"
    )
    # The pending request is gone: its code cannot be used again.
    assert session.scalar(select(func.count()).select_from(SignupRequest)) == 0


def test_wrong_codes_are_counted_and_the_request_lapses(app, session):
    client = app.test_client()
    assert client.post("/signup", data=_form(session, "tries@example.kz")).status_code == 302
    (sent,) = messages_to(app, "tries@example.kz", "signup.code")
    wrong = f"{(int(sent['code']) + 1) % 10**6:06d}"
    for _ in range(5):
        assert client.post("/signup/code", data={"code": wrong}).status_code == 401
    # Used up: even the right code now only leads back to the form.
    late = client.post("/signup/code", data={"code": sent["code"]})
    assert late.status_code == 302 and late.headers["Location"].endswith("/signup")
    assert _users(session, "tries@example.kz") == 0


def test_a_known_address_never_completes_a_sign_up(app, session):
    client = app.test_client()
    assert client.post("/signup", data=_form(session, "volunteer@demo.kz")).status_code == 302
    for code in ("000000", "123456", "999999"):
        assert client.post("/signup/code", data={"code": code}).status_code == 401
    assert _users(session, "volunteer@demo.kz") == 1


def test_sign_ups_and_codes_are_throttled_per_address(app, session):
    address = {"REMOTE_ADDR": "203.0.113.9"}
    for i in range(10):
        client = app.test_client()
        started = client.post(
            "/signup", data=_form(session, f"flood{i}@example.kz"), environ_base=address
        )
        assert started.status_code == 302
    limited = app.test_client().post(
        "/signup", data=_form(session, "flood-last@example.kz"), environ_base=address
    )
    assert limited.status_code == 429 and retry_text(app, limited) in limited.text
    assert messages_to(app, "flood-last@example.kz", "signup.code") == []
    # Codes: ten wrong ones from an address (over several requests), then that address waits.
    other = {"REMOTE_ADDR": "203.0.113.10"}
    statuses = []
    for i in range(3):
        client = app.test_client()
        client.post("/signup", data=_form(session, f"guess{i}@example.kz"), environ_base=other)
        for _ in range(4):
            response = client.post("/signup/code", data={"code": "000001"}, environ_base=other)
            statuses.append(response.status_code)
    assert statuses[:10].count(401) == 10 and statuses[10] == 429


def test_the_audit_filter_does_not_tell_whether_an_e_mail_exists(app):
    deputy = app.test_client()
    login_as(deputy, "deputy@demo.kz")
    pages = {}
    # The national admin is outside a district deputy's reading; nobody@… does not exist.
    for email in ("admin@demo.kz", "nobody@nowhere.kz"):
        response = deputy.get("/oversight/audit", query_string={"actor": email})
        pages[email] = (response.status_code, _visible(response.text, email).count("alert"))
        assert '<tr class="event">' not in response.text
    assert pages["admin@demo.kz"] == pages["nobody@nowhere.kz"]
    assert pages["nobody@nowhere.kz"][0] == 200
