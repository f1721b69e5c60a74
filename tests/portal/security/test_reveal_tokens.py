"""One-time reveals behind a second factor, and the sign-in audited after it (finding 9)."""

from __future__ import annotations

import json

import pyotp
import pytest
from sqlalchemy import func, select

from core import audit, places
from core.accounts import User
from core.reveals import RevealToken
from tests.conftest import DEMO_PASSWORD, close_app, login, make_app
from volunteers.models import Member

SESSION_COOKIE = "__Host-session"
# Both databases: guarded updates claim the sign-up and the reveal token.
pytestmark = pytest.mark.both_databases


@pytest.fixture
def strict(db_url):
    """The portal as deployed: no demo waiver for second factors."""
    app = make_app(db_url, DEMO_MFA_WAIVER=False)
    yield app
    close_app(app)


def _member_in_district(session) -> Member:
    district = places.by_kato(session, "354000000")
    return session.scalars(
        select(Member).where(Member.unit_id.in_(sorted(places.covered_by(session, [district.id]))))
    ).first()


def _password_only(client, email: str):
    return client.post("/login", data={"login": email, "password": DEMO_PASSWORD})


def _enrol(client) -> None:
    client.get("/account/two-factor")
    with client.session_transaction() as sess:
        secret = sess["mfa_enrol_secret"]
    done = client.post("/account/two-factor", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200


def _count(session, model) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(model))


def test_a_coordinator_without_a_second_factor_is_sent_to_set_one_up(strict, session):
    member = _member_in_district(session)
    client = strict.test_client()
    assert _password_only(client, "coordinator@demo.kz").status_code == 302
    reveal = f"/oversight/reveal/member/{member.id}/iin"
    for response in (
        client.get(reveal),
        client.post(reveal, data={"password": DEMO_PASSWORD, "reason": "Тексеру"}),
    ):
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/account/two-factor")
    assert member.iin not in client.get(f"/volunteers/members/{member.id}").text
    assert _count(session, RevealToken) == 0
    reveals = select(func.count()).where(audit.AuditEvent.action == "pii.reveal")
    assert session.scalar(reveals) == 0


def test_a_replayed_cookie_reveals_nothing_more(strict, session):
    member = _member_in_district(session)
    iin, page = member.iin, f"/volunteers/members/{member.id}"
    client = strict.test_client()
    _password_only(client, "coordinator@demo.kz")
    _enrol(client)  # the second factor of this session
    granted = client.post(
        f"/oversight/reveal/member/{member.id}/iin", data={"reason": "Полиция тексеруі"}
    )
    assert granted.status_code == 302 and granted.headers["Location"].endswith(page)
    saved = client.get_cookie(SESSION_COOKIE).value
    assert iin in client.get(page).text  # shown once
    assert iin not in client.get(page).text  # the next view is masked again
    # The cookie saved with the grant, sent again (a replay, or a second tab): refused.
    client.set_cookie(SESSION_COOKIE, saved)
    replayed = client.get(page)
    assert replayed.status_code == 409 and iin not in replayed.text
    session.rollback()
    token = session.scalars(select(RevealToken)).one()
    assert token.used_at is not None and token.object_id == member.id


def test_the_second_factor_is_audited_and_the_sign_in_after_it(strict, session):
    first = strict.test_client()
    login(first, "finance@demo.kz")  # enrols the factor on the way in
    first.post("/logout")
    session.rollback()
    user_id = session.scalar(select(User.id).where(User.email == "finance@demo.kz"))
    since = session.scalar(select(func.max(audit.AuditEvent.seq)))
    assert login(strict.test_client(), "finance@demo.kz").status_code == 302  # password, code
    session.rollback()
    events = session.execute(
        select(audit.AuditEvent.action, audit.AuditEvent.payload)
        .where(audit.AuditEvent.seq > since, audit.AuditEvent.object_id == str(user_id))
        .order_by(audit.AuditEvent.seq)
    ).all()
    assert [action for action, _ in events] == [
        "auth.password_ok",
        "auth.second_factor",
        "auth.login",
    ]
    for _, payload in events:
        data = payload if isinstance(payload, dict) else json.loads(payload or "{}")
        assert set(data) <= {"ip", "kind"} and "finance@demo.kz" not in json.dumps(data)
    # Without a factor, the password step is the sign-in.
    since = session.scalar(select(func.max(audit.AuditEvent.seq)))
    assert _password_only(strict.test_client(), "volunteer@demo.kz").status_code == 302
    session.rollback()
    actions = session.scalars(
        select(audit.AuditEvent.action).where(audit.AuditEvent.seq > since)
    ).all()
    assert actions == ["auth.login"]
