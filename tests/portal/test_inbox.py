"""The inbox: every account's notifications, an unread badge, marking read once, nobody else's."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select, update

from core import accounts, notifications
from core.notifications import Notification
from tests.conftest import audit_count, login_as, translated


def _note(app, login: str, kind: str, params: dict) -> int:
    from portal.extensions import db

    with app.app_context():
        user = accounts.find_by_login(db.session, login)
        note = notifications.queue_message(
            db.session,
            user_id=user.id,
            email=user.email,
            kind=kind,
            params=params,
            language=user.preferred_language,
        )
        db.session.info.pop("portal_pending_notifications", None)  # the inbox needs no mail
        db.session.commit()
        return note.id


def _unread(session, login: str) -> int:
    session.rollback()
    return notifications.unread_count(session, accounts.find_by_login(session, login).id)


def test_inbox_shows_unread_badge_and_marks_read_once(app, client, session):
    before = _unread(session, "volunteer@demo.kz")  # the demo's own messages
    outcome = _note(
        app, "volunteer@demo.kz", "nomination.outcome", {"nomination_id": 7, "outcome": "approved"}
    )
    status = _note(
        app,
        "volunteer@demo.kz",
        "application.status",
        {"application_id": 3, "status": "refused", "reason": "Құжат жоқ"},
    )
    _note(app, "volunteer@demo.kz", "password.reset_code", {"code": "123456", "minutes": 15})
    login_as(client, "volunteer@demo.kz")
    home = client.get("/").text
    assert f'id="unread-badge">{before + 2}<' in home  # a reset code is no inbox message
    page = client.get("/inbox")
    assert page.status_code == 200
    assert "123456" not in page.text
    assert "Құжат жоқ" in page.text
    language = session.scalar(
        select(accounts.User.preferred_language).where(accounts.User.email == "volunteer@demo.kz")
    )
    subject = translated(
        app,
        "The reward commission has decided: %(outcome)s",
        language,
        outcome=translated(app, "approved", language),
    )
    assert subject in page.text  # in the reader's language

    first = client.post(f"/inbox/{status}/read", data={"open": "1"})
    assert first.status_code == 302 and first.headers["Location"].endswith("/my")  # its object
    again = client.post(f"/inbox/{status}/read")
    assert again.status_code == 302  # idempotent: no error, nothing more
    session.rollback()
    assert session.get(Notification, status).read_at is not None
    assert session.get(Notification, outcome).read_at is None
    assert audit_count(session, "notification.read", "notification", status) == 1
    assert f'id="unread-badge">{before + 1}<' in client.get("/inbox").text
    assert client.post("/inbox/read-all").status_code == 302
    assert 'id="unread-badge"' not in client.get("/inbox").text


def test_inbox_refuses_other_peoples_notifications_and_forged_posts(app, client, session):
    others = _note(app, "coordinator@demo.kz", "inquiry.answered", {"inquiry_id": 4})
    hidden = _note(
        app, "volunteer@demo.kz", "password.reset_code", {"code": "654321", "minutes": 15}
    )
    login_as(client, "volunteer@demo.kz")
    assert client.post(f"/inbox/{others}/read").status_code == 404
    assert client.post(f"/inbox/{hidden}/read").status_code == 404
    assert client.post("/inbox/999999/read").status_code == 404
    session.rollback()
    assert session.get(Notification, others).read_at is None
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"/inbox/{others}/read").status_code == 400
    assert client.get("/inbox").status_code == 200
    client.post("/logout")
    anonymous = app.test_client().get("/inbox")
    assert anonymous.status_code in (302, 401)


def test_every_kind_renders_in_each_language_with_a_link(app, session):
    """Each kind's templates exist and fill in kk, ru and en: subject, text, both e-mail parts."""
    import datetime as dt

    from core.db import utcnow
    from portal.mail import KINDS, render
    from tests.factories.volunteers import unit, user
    from volunteers import shifts

    coordinator = user(session, "coordinator@demo.kz")
    starts = utcnow() + dt.timedelta(days=2)
    (shift,) = shifts.plan_shift(
        session,
        unit_id=unit(session, "354030100").id,
        patrol_unit_id=None,
        place="Ботақара <саябақ>",
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=3),
        capacity=2,
        supervisor_id=coordinator.id,
        actor_id=coordinator.id,
        now=utcnow(),
    )
    session.commit()
    params = {
        "application.status": {"application_id": 1, "status": "registered", "reason": ""},
        "signup.code": {"code": "135790", "minutes": 15},
        "signup.existing": {},
        "password.reset_code": {"code": "246801", "minutes": 15},
        "shift.changed": {"shift_id": shift.id},
        "shift.cancelled": {"shift_id": shift.id, "reason": "Жаңбыр"},
        "shift.reminder": {"shift_id": shift.id},
        "nomination.outcome": {"nomination_id": 5, "outcome": "deferred"},
        "job.failed": {"kind": "audit.verify", "run_id": 9},
        "inquiry.answered": {"inquiry_id": 4},
        "payout.iban_missing": {"item_id": 3, "nomination_id": 5},
        "hearing_notice": {
            "hearing_id": 7,
            "act_kind": "expel",
            "objection_due_on": "2026-03-24",
            "earliest_act_on": "2026-03-25",
        },
        "hearing_adopted": {
            "hearing_id": 7,
            "act_kind": "expel",
            "act_number": "А-2026-00001",
            "act_on": "2026-03-26",
        },
        "hearing_protocol": {"hearing_id": 7, "remarks_due_on": "2026-03-27"},
        "complaint_registered": {
            "complaint_id": 8,
            "number": "Ш-2026-00001",
            "registered_on": "2026-03-30",
            "forward_due_on": "2026-04-02",
        },
        "complaint_forwarded": {
            "complaint_id": 8,
            "number": "Ш-2026-00001",
            "forwarded_on": "2026-04-01",
            "review_due_on": "2026-04-29",
        },
        "complaint_decided": {"complaint_id": 8, "number": "Ш-2026-00001", "outcome": "cancel"},
    }
    assert set(params) == set(KINDS)
    with app.test_request_context():
        for kind, values in params.items():
            note = Notification(kind=kind, params=json.dumps(values), language="kk")
            subjects = set()
            for language in ("kk", "ru", "en"):
                message = render(note, language=language)
                assert message.subject and message.text and message.html.startswith("<!doctype")
                assert message.text in message.body, (kind, language)
                subjects.add(message.subject)
                if kind.startswith("shift."):
                    assert "Ботақара &lt;саябақ&gt;" in message.html  # escaped in HTML
                    assert "Ботақара <саябақ>" in message.body
            assert len(subjects) == 3, kind  # three languages, three subjects


def _count_statements(app):
    """Return (a list that collects SQL statements, a function that stops collecting)."""
    from sqlalchemy import event

    from portal.extensions import db

    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def collect(conn, cursor, statement, params, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", collect)
    return seen, lambda: event.remove(engine, "before_cursor_execute", collect)


# The count is a correlated column of the user's statement: per-dialect SQL.
@pytest.mark.both_databases
def test_the_badge_is_read_with_the_user_in_one_statement(app, client, session):
    """The menu's unread count comes with the signed-in user, not in a statement of its own."""
    before = _unread(session, "volunteer@demo.kz")
    _note(
        app, "volunteer@demo.kz", "nomination.outcome", {"nomination_id": 7, "outcome": "approved"}
    )
    login_as(client, "volunteer@demo.kz")
    client.get("/my")
    seen, stop = _count_statements(app)
    try:
        page = client.get("/my").text
    finally:
        stop()
    assert f'id="unread-badge">{before + 1}<' in page
    assert not [s for s in seen if "FROM notification" in s and "user_account" not in s]
    assert sum("user_account" in s and "notification" in s for s in seen) == 1


def test_a_count_read_with_the_user_is_forgotten_when_the_session_writes(app, session):
    """A step that changes the inbox in the same request is counted again before the page."""
    volunteer = accounts.find_by_login(session, "volunteer@demo.kz")
    actual = notifications.unread_count(session, volunteer.id)

    notifications.remember_unread(session, volunteer.id, actual + 40)
    assert notifications.unread_count(session, volunteer.id) == actual + 40  # as read

    # A new message, flushed (a step that notifies its own actor): counted again.
    notifications.queue_message(
        session,
        user_id=volunteer.id,
        email=volunteer.email,
        kind="nomination.outcome",
        params={"nomination_id": 7, "outcome": "approved"},
        language="kk",
    )
    session.info.pop("portal_pending_notifications", None)
    session.flush()
    assert notifications.unread_count(session, volunteer.id) == actual + 1

    # Marked read by an UPDATE statement alone, with no object to flush.
    notifications.remember_unread(session, volunteer.id, actual + 40)
    session.execute(
        update(Notification)
        .where(Notification.user_id == volunteer.id, Notification.read_at.is_(None))
        .values(read_at=func.now())
    )
    assert notifications.unread_count(session, volunteer.id) == 0

    # The end of the transaction forgets it too.
    notifications.remember_unread(session, volunteer.id, 40)
    session.rollback()
    assert notifications.unread_count(session, volunteer.id) == actual
