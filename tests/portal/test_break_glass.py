"""The break-glass command for a locked-out last administrator."""

from __future__ import annotations

import getpass
import re
import socket

import pyotp
from sqlalchemy import select

from core import accounts, mfa
from core.audit import AuditEvent
from tests.conftest import DEMO_PASSWORD

NEW = "a brand new passphrase"


def _break_glass(app, email: str):
    return app.test_cli_runner().invoke(args=["break-glass", "--email", email])


def _events(session):
    session.rollback()
    return session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.break_glass")).all()


def test_break_glass_gives_a_one_time_password_and_clears_the_factor(app, session):
    admin = accounts.find_by_login(session, "admin@demo.kz")
    secret = mfa.new_secret()
    mfa.enable(session, user_id=admin.id, secret=secret, code=pyotp.TOTP(secret).now())
    session.commit()
    result = _break_glass(app, "Admin@demo.kz")
    assert result.exit_code == 0, result.output
    password = re.search(r"One-time password for admin@demo.kz: (\S+)", result.output)[1]
    (event,) = _events(session)
    assert event.object_id == str(admin.id) and event.actor_id is None
    assert event.data == {
        "operator": getpass.getuser(),
        "host": socket.gethostname(),
        "factor_removed": True,
    }
    assert mfa.factor_of(session, admin.id) is None
    client = app.test_client()
    old = client.post("/login", data={"login": "admin@demo.kz", "password": DEMO_PASSWORD})
    assert old.status_code == 401
    # The printed password works once, to choose a new one; no code is asked (re-enrolment).
    step = client.post("/login", data={"login": "admin@demo.kz", "password": password})
    assert step.status_code == 302 and step.headers["Location"] == "/password/new"
    done = client.post("/password/new", data={"new": NEW, "confirm": NEW})
    assert done.status_code == 302
    session.rollback()
    assert session.get(accounts.User, admin.id).must_reset is False


def test_break_glass_refuses_a_non_administrator_and_an_unknown_address(app, session):
    for email in ("volunteer@demo.kz", "nobody@example.kz"):
        result = _break_glass(app, email)
        assert result.exit_code != 0
        assert "One-time password" not in result.output
    assert _events(session) == []
    client = app.test_client()
    still = client.post("/login", data={"login": "volunteer@demo.kz", "password": DEMO_PASSWORD})
    assert still.status_code == 302
