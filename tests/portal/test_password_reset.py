"""Password resets through the web: a code by e-mail, no enumeration, forced resets."""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import select

from core import accounts, mfa
from core.audit import AuditEvent
from tests.conftest import DEMO_PASSWORD, login_as
from tests.portal.security.signin_steps import messages_to, retry_text

NEW = "a brand new passphrase"
# Both databases: guarded updates count the attempts and claim the code.
pytestmark = pytest.mark.both_databases


def _visible(html: str) -> str:
    return re.sub(r'name="csrf_token"[^>]*', "", html)


def _ask(client, email: str, **extra):
    return client.post("/password/forgot", data={"email": email}, **extra)


def _reset(client, code: str, password: str = NEW):
    return client.post("/password/reset", data={"code": code, "new": password, "confirm": password})


def _events(session, action: str) -> list[AuditEvent]:
    session.rollback()
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_sign_in_page_links_to_the_reset(app, client):
    assert 'href="/password/forgot"' in client.get("/login").text


def test_a_known_and_an_unknown_address_get_the_same_answer(app, session):
    answers = {}
    for email in ("volunteer@demo.kz", "nobody@example.kz"):
        client = app.test_client()
        asked = _ask(client, email)
        page = client.get("/password/reset")
        wrong = _reset(client, "000000")
        answers[email] = (
            asked.status_code,
            asked.headers["Location"],
            page.status_code,
            _visible(page.text),
            wrong.status_code,
            _visible(wrong.text),
        )
    assert answers["volunteer@demo.kz"] == answers["nobody@example.kz"]
    assert answers["nobody@example.kz"][:3] == (302, "/password/reset", 200)
    assert [set(m) for m in messages_to(app, "volunteer@demo.kz", "password.reset_code")] == [
        {"code", "minutes"}
    ]
    assert messages_to(app, "nobody@example.kz", "password.reset_code") == []


def test_the_code_sets_the_password_and_ends_every_session(app, session):
    signed_in = app.test_client()
    login_as(signed_in, "volunteer@demo.kz")
    assert signed_in.get("/account/password").status_code == 200
    client = app.test_client()
    assert _ask(client, "Volunteer@demo.kz").status_code == 302
    (sent,) = messages_to(app, "volunteer@demo.kz", "password.reset_code")
    done = _reset(client, sent["code"])
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    # Nobody is signed in by the reset, and the session that was open has ended.
    assert client.get("/account/password").status_code == 302
    assert signed_in.get("/account/password").status_code == 302
    old = client.post("/login", data={"login": "volunteer@demo.kz", "password": DEMO_PASSWORD})
    assert old.status_code == 401
    new = client.post("/login", data={"login": "volunteer@demo.kz", "password": NEW})
    assert new.status_code == 302
    (event,) = _events(session, "auth.password_reset")
    assert event.data == {"via": "email_code"}  # no address, no name
    # The code is spent.
    again = app.test_client()
    with again.session_transaction() as sess:
        sess["password_reset"] = "gone"
    assert again.post("/password/reset", data={"code": sent["code"]}).status_code == 302


def test_wrong_codes_are_counted_and_the_request_lapses(app, session):
    client = app.test_client()
    _ask(client, "volunteer@demo.kz")
    (sent,) = messages_to(app, "volunteer@demo.kz", "password.reset_code")
    wrong = f"{(int(sent['code']) + 1) % 10**6:06d}"
    for _ in range(5):
        assert _reset(client, wrong).status_code == 401
    late = _reset(client, sent["code"])
    assert late.status_code == 302 and late.headers["Location"] == "/password/forgot"
    assert _events(session, "auth.password_reset") == []


def test_a_short_password_costs_no_attempt(app, session):
    client = app.test_client()
    _ask(client, "volunteer@demo.kz")
    (sent,) = messages_to(app, "volunteer@demo.kz", "password.reset_code")
    assert _reset(client, sent["code"], "short").status_code == 400
    assert _reset(client, sent["code"]).status_code == 302


def test_a_second_factor_is_still_asked_after_a_reset(app, session):
    volunteer = accounts.find_by_login(session, "volunteer@demo.kz")
    secret = mfa.new_secret()
    mfa.enable(session, user_id=volunteer.id, secret=secret, code=pyotp.TOTP(secret).now())
    session.commit()
    client = app.test_client()
    _ask(client, "volunteer@demo.kz")
    (sent,) = messages_to(app, "volunteer@demo.kz", "password.reset_code")
    assert _reset(client, sent["code"]).status_code == 302
    step = client.post("/login", data={"login": "volunteer@demo.kz", "password": NEW})
    assert step.status_code == 302 and step.headers["Location"] == "/login/code"
    assert client.get("/account/password").status_code == 302  # not signed in yet


def test_codes_are_throttled_per_address_and_per_account(app, session):
    address = {"REMOTE_ADDR": "203.0.113.21"}
    for i in range(10):
        asked = _ask(app.test_client(), f"flood{i}@example.kz", environ_base=address)
        assert asked.status_code == 302
    limited = _ask(app.test_client(), "volunteer@demo.kz", environ_base=address)
    assert limited.status_code == 429 and retry_text(app, limited) in limited.text
    assert messages_to(app, "volunteer@demo.kz", "password.reset_code") == []
    # One mailbox gets at most three codes an hour, however many addresses ask.
    for i in range(5):
        asked = _ask(
            app.test_client(), "volunteer@demo.kz", environ_base={"REMOTE_ADDR": f"198.51.100.{i}"}
        )
        assert asked.status_code == 302
    assert len(messages_to(app, "volunteer@demo.kz", "password.reset_code")) == 3


# ---- forced reset ---------------------------------------------------------------------------


def test_an_admin_forces_a_reset_and_the_next_sign_in_sets_a_password(app, session):
    volunteer = accounts.find_by_login(session, "volunteer@demo.kz")
    victim = app.test_client()
    login_as(victim, "volunteer@demo.kz")
    admin = app.test_client()
    login_as(admin, "admin@demo.kz")
    assert b"Force a password reset" in admin.get(f"/admin/users/{volunteer.id}").data
    forced = admin.post(f"/admin/users/{volunteer.id}/password/force-reset")
    assert forced.status_code == 302
    assert len(_events(session, "user.force_reset")) == 1
    assert victim.get("/account/password").status_code == 302  # its session ended
    client = app.test_client()
    step = client.post(
        "/login",
        data={"login": "volunteer@demo.kz", "password": DEMO_PASSWORD, "next": "/my/shifts"},
    )
    assert step.status_code == 302 and step.headers["Location"] == "/password/new"
    assert client.get("/account/password").status_code == 302  # nothing else before it
    same = client.post("/password/new", data={"new": DEMO_PASSWORD, "confirm": DEMO_PASSWORD})
    assert same.status_code == 422
    done = client.post("/password/new", data={"new": NEW, "confirm": NEW})
    assert done.status_code == 302 and done.headers["Location"] == "/my/shifts"
    assert client.get("/account/password").status_code == 200
    session.rollback()
    assert session.get(accounts.User, volunteer.id).must_reset is False
    (event,) = _events(session, "auth.password_reset")
    assert event.data == {"via": "required_at_sign_in"}


def test_an_admin_cannot_force_their_own_reset(app, session):
    admin_user = accounts.find_by_login(session, "admin@demo.kz")
    admin = app.test_client()
    login_as(admin, "admin@demo.kz")
    assert admin.post(f"/admin/users/{admin_user.id}/password/force-reset").status_code == 409
    assert _events(session, "user.force_reset") == []


def test_the_new_password_step_needs_a_held_sign_in(app, client):
    answer = client.post("/password/new", data={"new": NEW, "confirm": NEW})
    assert answer.status_code == 302 and answer.headers["Location"] == "/login"
