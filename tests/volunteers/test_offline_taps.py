"""Check-in and check-out tapped offline (issue 21): the tap's time, within the akimat's limit."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from core.audit import AuditEvent
from core.errors import Conflict, DomainError
from tests.factories.volunteers import make_member, unit, user
from volunteers import attendance, shifts
from volunteers.activity_models import Contribution, Signup
from volunteers.models import AttendanceSetting

START = dt.datetime(2026, 3, 21, 14, 0, tzinfo=dt.UTC)  # 19:00 in Almaty
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
SETTLEMENT = "354030100"  # a village of Bukhar-Zhyrau district
DISTRICT = "354000000"


def _signed_up(session, serial: int, *, hours: int = 4) -> Signup:
    coordinator = user(session, "coordinator@demo.kz")
    member = make_member(session, serial, today=START.date())
    (shift,) = shifts.plan_shift(
        session,
        unit_id=unit(session, SETTLEMENT).id,
        patrol_unit_id=None,
        place="Ботақара, вокзал алаңы",
        starts_at=START,
        ends_at=START + hours * HOUR,
        capacity=3,
        supervisor_id=coordinator.id,
        actor_id=coordinator.id,
        now=START - dt.timedelta(days=1),
    )
    signup = shifts.sign_up(
        session,
        shift_id=shift.id,
        member_id=member.id,
        actor_id=coordinator.id,
        now=START - dt.timedelta(days=1),
    )
    session.commit()
    return signup


def _payload(session, action: str, signup_id: int) -> dict:
    event = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == action, AuditEvent.object_id == str(signup_id))
        .order_by(AuditEvent.seq.desc())
    ).first()
    return event.data


def _limit(session, kato: str, minutes: int) -> None:
    session.add(AttendanceSetting(unit_id=unit(session, kato).id, offline_limit_minutes=minutes))
    session.commit()


def test_offline_taps_record_the_tap_times_and_the_mark(app, session):
    signup = _signed_up(session, 9101)
    actor = user(session, "coordinator@demo.kz").id
    tapped_in = START + 5 * MINUTE
    # The phone was offline: the tap reaches the portal three hours later.
    attendance.check_in(
        session, signup_id=signup.id, actor_id=actor, now=START + 3 * HOUR, tapped_at=tapped_in
    )
    session.commit()
    row = session.get(Signup, signup.id)
    assert (row.status, row.checked_in_at, row.checked_in_offline) == (
        "checked_in",
        tapped_in,
        True,
    )
    assert _payload(session, "signup.check_in", signup.id)["offline"] is True

    tapped_out = START + 2 * HOUR + 35 * MINUTE
    attendance.check_out(
        session, signup_id=signup.id, actor_id=actor, now=START + 5 * HOUR, tapped_at=tapped_out
    )
    session.commit()
    row = session.get(Signup, signup.id)
    session.refresh(row)
    assert (row.status, row.checked_out_at, row.checked_out_offline) == (
        "completed",
        tapped_out,
        True,
    )
    assert _payload(session, "signup.check_out", signup.id)["offline"] is True
    hours = session.scalar(select(Contribution).where(Contribution.signup_id == signup.id))
    assert hours.minutes == 150  # from tap to tap, not from the sync times


def test_live_taps_are_unchanged(app, session):
    signup = _signed_up(session, 9102)
    actor = user(session, "coordinator@demo.kz").id
    attendance.check_in(session, signup_id=signup.id, actor_id=actor, now=START + MINUTE)
    attendance.check_out(session, signup_id=signup.id, actor_id=actor, now=START + HOUR)
    session.commit()
    row = session.get(Signup, signup.id)
    assert (row.checked_in_at, row.checked_out_at) == (START + MINUTE, START + HOUR)
    assert (row.checked_in_offline, row.checked_out_offline) == (False, False)
    assert "offline" not in _payload(session, "signup.check_in", signup.id)
    assert "offline" not in _payload(session, "signup.check_out", signup.id)


def test_the_default_limit_is_twelve_hours(app, session):
    signup = _signed_up(session, 9103, hours=4)
    actor = user(session, "coordinator@demo.kz").id
    tapped = START + 10 * MINUTE
    with pytest.raises(DomainError, match="12 h") as refused:
        attendance.check_in(
            session,
            signup_id=signup.id,
            actor_id=actor,
            now=tapped + 12 * HOUR + dt.timedelta(seconds=1),
            tapped_at=tapped,
        )
    assert (refused.value.status, refused.value.field) == (422, "tapped_at")
    session.rollback()
    assert session.get(Signup, signup.id).status == "signed_up"
    # Exactly at the limit it is still accepted (the shift's own closing has not run).
    attendance.check_in(
        session, signup_id=signup.id, actor_id=actor, now=tapped + 12 * HOUR, tapped_at=tapped
    )
    session.commit()
    assert session.get(Signup, signup.id).checked_in_at == tapped


def test_the_akimat_limit_is_inherited_and_zero_refuses_every_offline_tap(app, session):
    actor = user(session, "coordinator@demo.kz").id
    _limit(session, DISTRICT, 60)  # the district's akimat: one hour, for its villages too
    signup = _signed_up(session, 9104)
    with pytest.raises(DomainError, match="1 h") as refused:
        attendance.check_in(
            session,
            signup_id=signup.id,
            actor_id=actor,
            now=START + 2 * HOUR,
            tapped_at=START + 59 * MINUTE,
        )
    assert refused.value.field == "tapped_at"
    session.rollback()
    attendance.check_in(
        session,
        signup_id=signup.id,
        actor_id=actor,
        now=START + 2 * HOUR,
        tapped_at=START + HOUR,
    )
    session.commit()

    _limit(session, SETTLEMENT, 0)  # the village accepts live taps only
    with pytest.raises(DomainError, match="not accepted here") as refused:
        attendance.check_out(
            session,
            signup_id=signup.id,
            actor_id=actor,
            now=START + 2 * HOUR,
            tapped_at=START + 2 * HOUR,
        )
    assert (refused.value.status, refused.value.field) == (422, "tapped_at")
    session.rollback()
    attendance.check_out(session, signup_id=signup.id, actor_id=actor, now=START + 2 * HOUR)
    session.commit()
    assert session.get(Signup, signup.id).checked_out_offline is False


def test_a_tap_from_the_future_is_refused_beyond_two_minutes(app, session):
    signup = _signed_up(session, 9105)
    actor = user(session, "coordinator@demo.kz").id
    now = START + 10 * MINUTE
    with pytest.raises(DomainError, match="in the future") as refused:
        attendance.check_in(
            session,
            signup_id=signup.id,
            actor_id=actor,
            now=now,
            tapped_at=now + 2 * MINUTE + dt.timedelta(seconds=1),
        )
    assert (refused.value.status, refused.value.field) == (422, "tapped_at")
    session.rollback()
    # A phone clock two minutes fast is tolerated: the tap's time is recorded as given.
    attendance.check_in(
        session, signup_id=signup.id, actor_id=actor, now=now, tapped_at=now + 2 * MINUTE
    )
    session.commit()
    assert session.get(Signup, signup.id).checked_in_at == now + 2 * MINUTE


def test_a_tap_time_without_a_zone_is_refused(app, session):
    signup = _signed_up(session, 9106)
    with pytest.raises(DomainError, match="time zone") as refused:
        attendance.check_in(
            session,
            signup_id=signup.id,
            actor_id=user(session, "coordinator@demo.kz").id,
            now=START + HOUR,
            tapped_at=(START + 10 * MINUTE).replace(tzinfo=None),
        )
    assert refused.value.field == "tapped_at"


def test_the_check_in_window_applies_to_the_tap_time(app, session):
    signup = _signed_up(session, 9107)
    actor = user(session, "coordinator@demo.kz").id
    # Synced inside the window, but tapped 31 minutes before the start: too early.
    with pytest.raises(Conflict, match="30 minutes before the start"):
        attendance.check_in(
            session,
            signup_id=signup.id,
            actor_id=actor,
            now=START + MINUTE,
            tapped_at=START - 31 * MINUTE,
        )
    session.rollback()
    # Synced after the shift, tapped during it: accepted.
    attendance.check_in(
        session,
        signup_id=signup.id,
        actor_id=actor,
        now=START + 5 * HOUR,
        tapped_at=START + 3 * HOUR,
    )
    session.commit()
    assert session.get(Signup, signup.id).checked_in_at == START + 3 * HOUR


def test_an_offline_check_out_must_come_after_the_check_in(app, session):
    signup = _signed_up(session, 9108)
    actor = user(session, "coordinator@demo.kz").id
    attendance.check_in(session, signup_id=signup.id, actor_id=actor, now=START + HOUR)
    session.commit()
    for tapped in (START + 30 * MINUTE, START + HOUR):
        with pytest.raises(DomainError, match="after the check-in") as refused:
            attendance.check_out(
                session,
                signup_id=signup.id,
                actor_id=actor,
                now=START + 2 * HOUR,
                tapped_at=tapped,
            )
        assert (refused.value.status, refused.value.field) == (422, "tapped_at")
        session.rollback()
    # Past the late check-out window by the tap time: the supervisor records it.
    with pytest.raises(Conflict, match="supervisor records"):
        attendance.check_out(
            session,
            signup_id=signup.id,
            actor_id=actor,
            now=START + 6 * HOUR + 5 * MINUTE,
            tapped_at=START + 6 * HOUR + MINUTE,
        )
    session.rollback()
    assert session.get(Signup, signup.id).status == "checked_in"


def test_an_undone_offline_check_out_loses_its_mark(app, session):
    signup = _signed_up(session, 9109)
    actor = user(session, "coordinator@demo.kz").id
    attendance.check_in(session, signup_id=signup.id, actor_id=actor, now=START)
    attendance.check_out(
        session,
        signup_id=signup.id,
        actor_id=actor,
        now=START + 20 * MINUTE,
        tapped_at=START + 19 * MINUTE,
    )
    session.commit()
    attendance.undo_check_out(session, signup_id=signup.id, actor_id=actor, now=START + 20 * MINUTE)
    session.commit()
    row = session.get(Signup, signup.id)
    session.refresh(row)
    assert (row.status, row.checked_out_at, row.checked_out_offline) == ("checked_in", None, False)


@pytest.mark.parametrize(
    ("tapped_at", "refusal"),
    [
        (dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=5))), "12 h"),
        (dt.datetime(9999, 12, 31, 23, tzinfo=dt.timezone(dt.timedelta(hours=-5))), "future"),
    ],
)
def test_taps_at_the_ends_of_the_calendar_are_refused_not_crashed(app, session, tapped_at, refusal):
    signup = _signed_up(session, 9110)
    with pytest.raises(DomainError, match=refusal) as refused:
        attendance.check_in(
            session,
            signup_id=signup.id,
            actor_id=user(session, "coordinator@demo.kz").id,
            now=START + MINUTE,
            tapped_at=tapped_at,
        )
    assert refused.value.field == "tapped_at"


def test_a_check_in_on_a_cancelled_shift_says_the_shift_was_cancelled(app, session):
    """The offline app's tap meets a shift cancelled meanwhile: the person reads why."""
    from volunteers import shift_planning

    signup = _signed_up(session, 9731)
    shift_planning.cancel_shift(
        session,
        shift_id=signup.shift_id,
        reason="Storm warning",
        actor_id=user(session, "coordinator@demo.kz").id,
        now=START - HOUR,
    )
    session.flush()
    with pytest.raises(Conflict) as refused:
        attendance.check_in(
            session,
            signup_id=signup.id,
            actor_id=signup.member.user_id,
            now=START + HOUR,
            tapped_at=START,
        )
    assert refused.value.message == "The shift was cancelled: there is nothing to check in to."
    session.rollback()
