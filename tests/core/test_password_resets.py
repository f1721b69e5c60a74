"""Password reset requests and break-glass, in the domain's own terms."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from core import accounts, password_resets
from core.account_models import find_by_login
from core.audit import AuditEvent
from core.db import utcnow
from core.notifications import Notification
from core.passwords import verify_password

NEW = "a brand new passphrase"


def _code(session, email: str) -> str:
    params = session.scalars(
        select(Notification.params)
        .where(Notification.email == email, Notification.kind == "password.reset_code")
        .order_by(Notification.id.desc())
    ).first()
    return json.loads(params)["code"]


def test_a_code_expires_after_fifteen_minutes(app, session):
    start = utcnow()
    token = password_resets.begin_reset(session, email="volunteer@demo.kz", now=start)
    code = _code(session, "volunteer@demo.kz")
    late = start + dt.timedelta(minutes=password_resets.CODE_MINUTES, seconds=1)
    assert password_resets.is_pending(session, token, now=late) is False
    with pytest.raises(password_resets.ResetLapsed):
        password_resets.complete_reset(session, token=token, code=code, new_password=NEW, now=late)
    in_time = start + dt.timedelta(minutes=password_resets.CODE_MINUTES - 1)
    user = password_resets.complete_reset(
        session, token=token, code=code, new_password=NEW, now=in_time
    )
    assert verify_password(user.password_hash, NEW)


def test_five_wrong_codes_use_up_the_request(app, session):
    token = password_resets.begin_reset(session, email="volunteer@demo.kz")
    code = _code(session, "volunteer@demo.kz")
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(password_resets.MAX_ATTEMPTS):
        with pytest.raises(password_resets.CodeRefused):
            password_resets.complete_reset(session, token=token, code=wrong, new_password=NEW)
    with pytest.raises(password_resets.ResetLapsed):
        password_resets.complete_reset(session, token=token, code=code, new_password=NEW)


def test_an_inactive_account_is_sent_no_code(app, session):
    admin = find_by_login(session, "admin@demo.kz")
    volunteer = find_by_login(session, "volunteer@demo.kz")
    accounts.set_active(session, user_id=volunteer.id, active=False, actor_id=admin.id)
    password_resets.begin_reset(session, email="volunteer@demo.kz")
    sent = session.scalars(
        select(Notification.id).where(Notification.kind == "password.reset_code")
    ).all()
    assert sent == []


def test_break_glass_refuses_an_account_that_is_not_an_administrator(app, session):
    with pytest.raises(password_resets.NotAnAdministrator):
        password_resets.break_glass(
            session, email="volunteer@demo.kz", operator="root", host="portal-1"
        )
    assert (
        session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.break_glass")).all()
        == []
    )
