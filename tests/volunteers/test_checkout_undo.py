"""Undo of a check-out (issue 19, finding 4): two minutes, the member or their coordinator, once."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db import utcnow
from core.errors import Conflict, PermissionDenied
from core.scope import Scope
from tests.conftest import audit_count, engine_of, login_as, race, same_browser, translated
from tests.factories.volunteers import make_member, unit, user
from volunteers import attendance, contributions, shifts
from volunteers.activity_models import Contribution, Shift, Signup

START = dt.datetime(2026, 3, 21, 14, 0, tzinfo=dt.UTC)  # 19:00 in Almaty
MINUTE = dt.timedelta(minutes=1)


def _on_shift(session, serial: int, *, starts=START, applicant=None) -> Signup:
    """A registered member (the demo volunteer's account when ``applicant``) checked in."""
    coordinator = user(session, "coordinator@demo.kz")
    member = make_member(session, serial, applicant=applicant, today=starts.date())
    (shift,) = shifts.plan_shift(
        session,
        unit_id=unit(session, "354030100").id,
        patrol_unit_id=None,
        place="Ботақара, вокзал алаңы",
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=4),
        capacity=3,
        supervisor_id=coordinator.id,
        actor_id=coordinator.id,
        now=starts - dt.timedelta(days=1),
    )
    signup = shifts.sign_up(
        session,
        shift_id=shift.id,
        member_id=member.id,
        actor_id=coordinator.id,
        now=starts - dt.timedelta(days=1),
    )
    shifts.check_in(session, signup_id=signup.id, actor_id=coordinator.id, now=starts)
    session.commit()
    return signup


def _hours(session, signup_id: int) -> list[Contribution]:
    return session.scalars(select(Contribution).where(Contribution.signup_id == signup_id)).all()


def test_undo_within_two_minutes_restores_the_shift_and_recounts_the_hours(app, session):
    signup = _on_shift(session, 8801)
    member_user = user(session, "coordinator@demo.kz")  # the member's coordinator
    shifts.check_out(session, signup_id=signup.id, actor_id=member_user.id, now=START + 5 * MINUTE)
    session.commit()
    (logged,) = _hours(session, signup.id)
    assert logged.minutes == 5

    attendance.undo_check_out(
        session, signup_id=signup.id, actor_id=member_user.id, now=START + 6 * MINUTE
    )
    session.commit()
    back = session.get(Signup, signup.id)
    assert (back.status, back.checked_out_at) == ("checked_in", None)
    assert audit_count(session, "signup.undo_check_out", "signup", signup.id) == 1
    # Nobody confirms the 5 minutes while the member is back on the shift.
    with pytest.raises(Conflict, match="back on this shift"):
        contributions.confirm(
            session,
            contribution_id=logged.id,
            actor_id=user(session, "registrar@demo.kz").id,
            scope=Scope.everywhere(),
            now=START + 7 * MINUTE,
        )
    session.rollback()
    # The next check-out counts the whole time, on the same (still undecided) record.
    shifts.check_out(session, signup_id=signup.id, actor_id=member_user.id, now=START + 65 * MINUTE)
    session.commit()
    (again,) = _hours(session, signup.id)
    session.refresh(again)
    assert (again.id, again.minutes, again.status) == (logged.id, 65, "logged")
    assert session.get(Signup, signup.id).status == "completed"


def test_undo_after_two_minutes_or_by_someone_else_is_refused(app, session):
    signup = _on_shift(session, 8802)
    coordinator = user(session, "coordinator@demo.kz")
    shifts.check_out(session, signup_id=signup.id, actor_id=coordinator.id, now=START + 5 * MINUTE)
    session.commit()
    with pytest.raises(PermissionDenied):
        attendance.undo_check_out(
            session,
            signup_id=signup.id,
            actor_id=user(session, "registrar@demo.kz").id,
            now=START + 6 * MINUTE,
        )
    session.rollback()
    with pytest.raises(Conflict, match="2 minutes only"):
        attendance.undo_check_out(
            session,
            signup_id=signup.id,
            actor_id=coordinator.id,
            now=START + 7 * MINUTE + dt.timedelta(seconds=1),
        )
    session.rollback()
    assert session.get(Signup, signup.id).status == "completed"
    assert audit_count(session, "signup.undo_check_out", "signup", signup.id) == 0


def test_undo_is_refused_once_the_hours_are_confirmed(app, session):
    signup = _on_shift(session, 8803)
    coordinator = user(session, "coordinator@demo.kz")
    shifts.check_out(session, signup_id=signup.id, actor_id=coordinator.id, now=START + 30 * MINUTE)
    (logged,) = _hours(session, signup.id)
    contributions.confirm(
        session,
        contribution_id=logged.id,
        actor_id=user(session, "registrar@demo.kz").id,
        scope=Scope.everywhere(),
        now=START + 31 * MINUTE,
    )
    session.commit()
    with pytest.raises(Conflict, match="already been decided"):
        attendance.undo_check_out(
            session, signup_id=signup.id, actor_id=coordinator.id, now=START + 31 * MINUTE
        )
    session.rollback()
    assert session.get(Signup, signup.id).status == "completed"


def test_the_volunteer_confirms_an_early_check_out_and_undoes_it_on_the_page(app, client, session):
    volunteer = user(session, "volunteer@demo.kz")
    signup = _on_shift(
        session, 8804, starts=utcnow() - dt.timedelta(minutes=3), applicant=volunteer
    )
    login_as(client, "volunteer@demo.kz")
    # Three minutes after the check-in: the confirmation states the time worked; nothing done.
    early = client.post(f"/my/signups/{signup.id}/check-out", data={})
    assert early.status_code == 422
    assert "0:03" in early.text and 'name="confirmed" value="yes"' in early.text
    session.rollback()
    assert session.get(Signup, signup.id).status == "checked_in"
    assert audit_count(session, "signup.check_out", "signup", signup.id) == 0
    done = client.post(f"/my/signups/{signup.id}/check-out", data={"confirmed": "yes"})
    assert done.status_code == 302
    page = client.get(done.headers["Location"])  # the member's own shifts
    assert "checked-out" in page.text  # the "Checked out at HH:MM — Undo" notice
    assert f"/my/signups/{signup.id}/undo-check-out" in page.text
    assert client.post(f"/my/signups/{signup.id}/undo-check-out", data={}).status_code == 302
    session.rollback()
    assert session.get(Signup, signup.id).status == "checked_in"
    twice = client.post(f"/my/signups/{signup.id}/undo-check-out", data={})
    assert twice.status_code == 409
    assert translated(app, "There is no check-out to undo.", "kk") in twice.text


def test_ten_undos_at_once_take_effect_once(pg_app):
    engine = engine_of(pg_app)
    with Session(engine) as s:
        signup = _on_shift(s, 8805, starts=utcnow() - dt.timedelta(hours=1))
        coordinator = user(s, "coordinator@demo.kz")
        shifts.check_out(s, signup_id=signup.id, actor_id=coordinator.id, now=utcnow())
        s.commit()
        signup_id, shift_id = signup.id, signup.shift_id
    browser = pg_app.test_client()
    login_as(browser, "coordinator@demo.kz")
    browsers = [same_browser(browser) for _ in range(10)]
    url = f"/shifts/{shift_id}/signups/{signup_id}/undo-check-out"

    responses = race(10, lambda i: browsers[i].post(url, data={}))

    assert not [r for r in responses if isinstance(r, Exception)], responses
    assert sorted(r.status_code for r in responses) == [302] + [409] * 9
    with Session(engine) as s:
        assert s.get(Signup, signup_id).status == "checked_in"
        assert audit_count(s, "signup.undo_check_out", "signup", signup_id) == 1
        assert s.scalar(select(func.count()).where(Contribution.signup_id == signup_id)) == 1


def test_an_undo_and_the_closing_job_at_once_never_leave_a_member_on_a_closed_shift(pg_app):
    """The shift's row is locked by both: either the undo wins and the job completes the
    sign-up again, or the job wins and the undo is refused; never a closed shift with a
    member checked in."""
    engine = engine_of(pg_app)
    with Session(engine) as s:
        signup = _on_shift(s, 8806)
        coordinator_id = user(s, "coordinator@demo.kz").id
        ends_at = START + dt.timedelta(hours=4)
        shifts.check_out(s, signup_id=signup.id, actor_id=coordinator_id, now=ends_at - MINUTE)
        s.commit()
        signup_id = signup.id

    def act(i):
        with Session(engine) as session:
            try:
                if i == 0:
                    attendance.undo_check_out(
                        session, signup_id=signup_id, actor_id=coordinator_id, now=ends_at
                    )
                else:
                    attendance.close_ended(session, now=ends_at)
                session.commit()
                return "done"
            except (Conflict, PermissionDenied):
                session.rollback()
                return "refused"

    results = race(2, act)
    assert "done" in results, results
    with Session(engine) as s:
        signup = s.get(Signup, signup_id)
        assert s.get(Shift, signup.shift_id).closed_at is not None
        assert signup.status == "completed" and signup.checked_out_at is not None
