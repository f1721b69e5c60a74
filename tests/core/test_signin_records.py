"""Login keys, pending sign-ups and one-time reveal tokens, in the domain's own terms."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import select

from core import reveals, signups
from core.account_models import find_by_login, login_key
from core.db import utcnow
from core.places import AdminUnit


@pytest.mark.parametrize(
    "spelling",
    [
        "+7 (701) 123-45-67",
        "87011234567",
        "+7 701 123 45 67",
        "8-701-123-45-67",
        "+77011234567",
        "77011234567",
    ],
)
def test_login_key_is_one_for_every_spelling_of_a_phone(spelling):
    assert login_key(spelling) == "+77011234567"


def test_login_key_of_an_e_mail_is_case_blind():
    assert login_key("  Admin@Demo.KZ ") == login_key("admin@demo.kz") == "admin@demo.kz"


def test_a_reveal_token_shows_once_and_only_its_record(app, session):
    admin = find_by_login(session, "admin@demo.kz")
    token = reveals.grant(session, user_id=admin.id, object_type="member", object_id=7, field="iin")
    session.commit()
    claim = dict(user_id=admin.id, object_type="member", object_id=7, field="iin")
    assert reveals.claim(session, token=token, **{**claim, "object_id": 8}) is False
    assert reveals.claim(session, token=token, **claim) is True
    with pytest.raises(reveals.AlreadyShown):
        reveals.claim(session, token=token, **claim)
    session.rollback()
    late = reveals.grant(session, user_id=admin.id, object_type="member", object_id=7, field="iin")
    later = utcnow() + reveals.SHOWN_FOR + dt.timedelta(seconds=1)
    assert reveals.claim(session, token=late, now=later, **claim) is False
    # Only hashes are stored: the browser's token is not in the table.
    stored = session.scalars(select(reveals.RevealToken.token_hash)).all()
    assert hashlib.sha256(token.encode()).hexdigest() in stored and token not in stored
    session.rollback()


def test_a_pending_sign_up_keeps_neither_code_nor_token(app, session):
    unit_id = session.scalar(select(AdminUnit.id).limit(1))
    token = signups.begin_signup(
        session,
        email="Pending@Example.kz",
        phone="8 701 000 11 22",
        full_name="  Жаңа   Адам ",
        preferred_language="ru",
        unit_id=unit_id,
        password="a long enough passphrase",
    )
    row = session.scalars(select(signups.SignupRequest)).one()
    assert row.email == "pending@example.kz" and row.phone == "+77010001122"
    assert row.full_name == "Жаңа Адам" and row.attempts == 0
    assert token not in (row.token_hash, row.code_hash)
    assert row.expires_at - row.created_at == dt.timedelta(minutes=signups.CODE_MINUTES)
    with pytest.raises(signups.CodeRefused):
        signups.complete_signup(session, token=token, code="not a code")
    assert signups.pending_email(session, token) == "pending@example.kz"
    assert signups.pending_email(session, "another token") is None
    late = utcnow() + dt.timedelta(minutes=signups.CODE_MINUTES + 1)
    with pytest.raises(signups.SignupLapsed):
        signups.complete_signup(session, token=token, code="123456", now=late)
    session.rollback()
