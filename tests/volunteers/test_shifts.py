"""Shifts: planning, sign-ups under capacity and overlap rules, attendance, closing, reminders."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from core.audit import AuditEvent
from core.errors import Conflict, DomainError, PermissionDenied
from core.notifications import Notification
from tests.factories.volunteers import make_member, unit, user
from volunteers import register, shifts
from volunteers.activity_models import Contribution, Shift, Signup

NOW = dt.datetime(2026, 3, 20, 6, 0, tzinfo=dt.UTC)
START = dt.datetime(2026, 3, 21, 14, 0, tzinfo=dt.UTC)  # 19:00 in Almaty


PLACE = "Ботақара, орталық саябақ — Абай көшесі"


def _plan(session, *, capacity=3, starts=START, hours=4, repeat=0, kato="354030100", place=PLACE):
    coordinator = user(session, "coordinator@demo.kz")
    return shifts.plan_shift(
        session,
        unit_id=unit(session, kato).id,
        patrol_unit_id=None,
        place=place,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=hours),
        capacity=capacity,
        supervisor_id=coordinator.id,
        actor_id=coordinator.id,
        now=NOW,
        repeat_weeks=repeat,
    )


def test_plan_refuses_bad_times_and_capacity(app, session):
    for kwargs, _msg in (
        ({"hours": -1}, "end after"),
        ({"starts": NOW - dt.timedelta(hours=1)}, "past"),
        ({"capacity": 0}, "capacity"),
        ({"hours": 17}, "16 hours"),
    ):
        with pytest.raises(DomainError):
            _plan(session, **kwargs)
        session.rollback()
    assert session.scalar(select(func.count()).select_from(Shift)) == 0


def test_weekly_series_plans_each_week(app, session):
    planned = _plan(session, repeat=3)
    session.commit()
    assert [s.starts_at - START for s in planned] == [dt.timedelta(weeks=w) for w in range(4)]
    assert len({s.series for s in planned}) == 1
    assert (
        session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "shift.plan")
        )
        == 4
    )


def test_sign_up_capacity_overlap_duplicate_and_district(app, session):
    (shift,) = _plan(session, capacity=1)
    m1, m2 = make_member(session, 8101), make_member(session, 8102)
    session.commit()
    signup = shifts.sign_up(session, shift_id=shift.id, member_id=m1.id, actor_id=1, now=NOW)
    session.commit()
    with pytest.raises(Conflict, match="already signed up"):
        shifts.sign_up(session, shift_id=shift.id, member_id=m1.id, actor_id=1, now=NOW)
    session.rollback()
    with pytest.raises(Conflict, match="full"):
        shifts.sign_up(session, shift_id=shift.id, member_id=m2.id, actor_id=1, now=NOW)
    session.rollback()
    # An overlapping shift elsewhere in the district: the database refuses the second place.
    (other,) = _plan(session, starts=START + dt.timedelta(hours=2), capacity=5)
    session.commit()
    with pytest.raises(Conflict, match="overlaps"):
        shifts.sign_up(session, shift_id=other.id, member_id=m1.id, actor_id=1, now=NOW)
    session.rollback()
    session.refresh(other)
    assert other.taken == 0
    # A shift of another district is not theirs.
    (far,) = _plan(session, kato="355630100", starts=START + dt.timedelta(days=2))
    session.commit()
    with pytest.raises(PermissionDenied):
        shifts.sign_up(session, shift_id=far.id, member_id=m2.id, actor_id=1, now=NOW)
    session.rollback()
    # Cancelling frees the place; the other member takes it.
    shifts.cancel_signup(session, signup_id=signup.id, actor_id=1, now=NOW)
    shifts.sign_up(session, shift_id=shift.id, member_id=m2.id, actor_id=1, now=NOW)
    session.commit()
    session.refresh(shift)
    assert shift.taken == 1


def test_suspended_or_expired_members_cannot_sign_up(app, session):
    (shift,) = _plan(session)
    member = make_member(session, 8103)
    register.change_status(
        session, member_id=member.id, to_status="suspended", reason="Тексеру", actor_id=None
    )
    session.commit()
    with pytest.raises(PermissionDenied):
        shifts.sign_up(session, shift_id=shift.id, member_id=member.id, actor_id=1, now=NOW)
    session.rollback()
    other = make_member(session, 8104)
    other.expires_on = NOW.date() - dt.timedelta(days=1)
    session.commit()
    with pytest.raises(PermissionDenied):
        shifts.sign_up(session, shift_id=shift.id, member_id=other.id, actor_id=1, now=NOW)


def test_database_refuses_overlap_even_without_the_python_path(app, session):
    from sqlalchemy.exc import IntegrityError

    a, b = (
        _plan(session, capacity=5),
        _plan(session, capacity=5, starts=START + dt.timedelta(hours=1)),
    )
    member = make_member(session, 8105)
    session.commit()
    for shift in (a[0], b[0]):
        session.add(
            Signup(
                shift_id=shift.id,
                member_id=member.id,
                status="signed_up",
                starts_at=shift.starts_at,
                ends_at=shift.ends_at,
            )
        )
    with pytest.raises(IntegrityError):
        session.flush()


def test_check_in_window_check_out_and_patrol_hours(app, session):
    (shift,) = _plan(session)
    member = make_member(session, 8106)
    session.commit()
    signup = shifts.sign_up(session, shift_id=shift.id, member_id=member.id, actor_id=1, now=NOW)
    session.commit()
    with pytest.raises(Conflict, match="Check-in is open"):
        shifts.check_in(session, signup_id=signup.id, actor_id=1, now=START - dt.timedelta(hours=1))
    session.rollback()
    shifts.check_in(
        session,
        signup_id=signup.id,
        actor_id=1,
        now=START + dt.timedelta(minutes=10),
        latitude=49.9,
        longitude=73.1,
    )
    shifts.check_out(session, signup_id=signup.id, actor_id=1, now=START + dt.timedelta(hours=3))
    session.commit()
    contribution = session.scalars(
        select(Contribution).where(Contribution.signup_id == signup.id)
    ).one()
    assert contribution.kind == "patrol_hours"
    assert contribution.minutes == 170
    assert contribution.status == "logged"
    assert contribution.occurred_on == dt.date(2026, 3, 21)  # the local date


def test_closing_marks_no_shows_and_completes_open_check_ins(app, session):
    (shift,) = _plan(session)
    stay, absent = make_member(session, 8107), make_member(session, 8108)
    session.commit()
    s1 = shifts.sign_up(session, shift_id=shift.id, member_id=stay.id, actor_id=1, now=NOW)
    s2 = shifts.sign_up(session, shift_id=shift.id, member_id=absent.id, actor_id=1, now=NOW)
    shifts.check_in(session, signup_id=s1.id, actor_id=1, now=START)
    session.commit()
    assert shifts.close_ended(session, now=START + dt.timedelta(hours=1)) == 0
    assert shifts.close_ended(session, now=START + dt.timedelta(hours=5)) == 1
    assert shifts.close_ended(session, now=START + dt.timedelta(hours=6)) == 0  # once
    session.commit()
    session.refresh(s1)
    session.refresh(s2)
    assert (s1.status, s2.status) == ("completed", "no_show")
    minutes = session.scalars(
        select(Contribution.minutes).where(Contribution.signup_id == s1.id)
    ).all()
    assert minutes == [240]


def test_supervisor_records_attendance_for_the_whole_shift(app, session):
    (shift,) = _plan(session)
    came, missed = make_member(session, 8109), make_member(session, 8110)
    session.commit()
    s1 = shifts.sign_up(session, shift_id=shift.id, member_id=came.id, actor_id=1, now=NOW)
    s2 = shifts.sign_up(session, shift_id=shift.id, member_id=missed.id, actor_id=1, now=NOW)
    session.commit()
    supervisor = user(session, "coordinator@demo.kz")
    with pytest.raises(Conflict):
        shifts.record_attendance(
            session, shift_id=shift.id, present={s1.id}, actor_id=supervisor.id, now=NOW
        )
    session.rollback()
    assert shifts.record_attendance(
        session,
        shift_id=shift.id,
        present={s1.id},
        actor_id=supervisor.id,
        now=START + dt.timedelta(hours=5),
    ) == (1, 1)
    session.commit()
    contribution = session.scalars(
        select(Contribution).where(Contribution.signup_id == s1.id)
    ).one()
    assert contribution.minutes == 240
    assert contribution.logged_by_id == supervisor.id  # so the supervisor cannot confirm it
    session.refresh(s2)
    assert s2.status == "no_show"


def test_editing_and_cancelling_notify_those_signed_up(app, session):
    (shift,) = _plan(session, capacity=2)
    volunteer = user(session, "volunteer@demo.kz")
    member = make_member(session, 8111, applicant=volunteer)
    other = make_member(session, 8112)
    session.commit()
    shifts.sign_up(session, shift_id=shift.id, member_id=member.id, actor_id=volunteer.id, now=NOW)
    shifts.sign_up(session, shift_id=shift.id, member_id=other.id, actor_id=1, now=NOW)
    session.commit()
    coordinator = user(session, "coordinator@demo.kz")
    with pytest.raises(Conflict, match="capacity"):
        shifts.edit_shift(
            session,
            shift_id=shift.id,
            place=shift.place,
            starts_at=shift.starts_at,
            ends_at=shift.ends_at,
            capacity=1,
            supervisor_id=None,
            actor_id=coordinator.id,
            now=NOW,
        )
    session.rollback()
    shifts.edit_shift(
        session,
        shift_id=shift.id,
        place="Ботақара, мектеп маңы",
        starts_at=START + dt.timedelta(hours=1),
        ends_at=START + dt.timedelta(hours=4),
        capacity=2,
        supervisor_id=None,
        actor_id=coordinator.id,
        now=NOW,
    )
    session.commit()
    assert {s.starts_at for s in session.scalars(select(Signup))} == {START + dt.timedelta(hours=1)}
    shifts.cancel_shift(
        session, shift_id=shift.id, reason="Дауыл", actor_id=coordinator.id, now=NOW
    )
    session.commit()
    kinds = session.scalars(
        select(Notification.kind)
        .where(Notification.user_id == volunteer.id, Notification.kind.like("shift.%"))
        .order_by(Notification.id)
    ).all()
    assert kinds == ["shift.changed", "shift.cancelled"]
    assert session.scalar(select(Shift.taken).where(Shift.id == shift.id)) == 0
    assert {s.status for s in session.scalars(select(Signup))} == {"cancelled"}


def test_reminders_go_once_the_day_before(app, session):
    from core import clock

    (shift,) = _plan(session)
    volunteer = user(session, "volunteer@demo.kz")
    member = make_member(session, 8113, applicant=volunteer)
    session.commit()
    shifts.sign_up(session, shift_id=shift.id, member_id=member.id, actor_id=volunteer.id, now=NOW)
    session.commit()
    start, end = clock.local_day_bounds(dt.date(2026, 3, 21))
    assert shifts.remind(session, day_start=start, day_end=end) == 1
    assert shifts.remind(session, day_start=start, day_end=end) == 0
    session.commit()


@pytest.mark.both_databases  # a race: PostgreSQL runs it (SQLite skips)
def test_concurrent_sign_ups_for_the_last_place_get_exactly_one(app, db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite serializes writers; the race is a PostgreSQL matter")
    from portal.extensions import db

    with app.app_context():
        (shift,) = _plan(db.session, capacity=1)
        members = [make_member(db.session, 8200 + i).id for i in range(20)]
        db.session.commit()
        shift_id = shift.id
    barrier = threading.Barrier(20)
    outcomes: list[str] = []

    def attempt(member_id: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                shifts.sign_up(
                    db.session, shift_id=shift_id, member_id=member_id, actor_id=1, now=NOW
                )
                db.session.commit()
                outcomes.append("ok")
            except Conflict as exc:
                db.session.rollback()
                outcomes.append(exc.message)

    threads = [threading.Thread(target=attempt, args=(m,)) for m in members]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1
    assert outcomes.count("This shift is full.") == 19
    with app.app_context():
        assert db.session.scalar(select(Shift.taken).where(Shift.id == shift_id)) == 1
        assert (
            db.session.scalar(
                select(func.count()).select_from(Signup).where(Signup.status == "signed_up")
            )
            == 1
        )


def test_concurrent_overlapping_sign_ups_of_one_member_get_one(app, db_url):
    from portal.extensions import db

    with app.app_context():
        planned = [
            _plan(db.session, capacity=5, starts=START + dt.timedelta(minutes=30 * i))[0]
            for i in range(6)
        ]
        member = make_member(db.session, 8300)
        db.session.commit()
        ids, member_id = [s.id for s in planned], member.id
    barrier = threading.Barrier(len(ids))
    outcomes: list[str] = []

    def attempt(shift_id: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                shifts.sign_up(
                    db.session, shift_id=shift_id, member_id=member_id, actor_id=1, now=NOW
                )
                db.session.commit()
                outcomes.append("ok")
            except Conflict:
                db.session.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=attempt, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1
    with app.app_context():
        assert db.session.scalar(select(func.sum(Shift.taken))) == 1


@pytest.mark.parametrize(
    ("place", "message"),
    [
        ("   ", "Describe the place"),
        ("ә" * (shifts.PLACE_MAX + 1), "longer than"),
        ("Ботақара, 061211600012", "12-digit number"),
    ],
)
def test_planning_and_editing_refuse_the_same_bad_places(app, session, place, message):
    (shift,) = _plan(session)
    session.commit()
    coordinator = user(session, "coordinator@demo.kz")
    with pytest.raises(DomainError, match=message):
        _plan(session, place=place)
    session.rollback()
    with pytest.raises(DomainError, match=message):
        shifts.edit_shift(
            session,
            shift_id=shift.id,
            place=place,
            starts_at=shift.starts_at,
            ends_at=shift.ends_at,
            capacity=shift.capacity,
            supervisor_id=None,
            actor_id=coordinator.id,
            now=NOW,
        )
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Shift)) == 1
    assert session.get(Shift, shift.id).place == PLACE
    assert (
        session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "shift.edit")
        )
        == 0
    )
