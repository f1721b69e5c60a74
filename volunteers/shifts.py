"""Patrol shifts: planning, sign-ups under capacity and overlap rules, attendance, closing."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit, clock, notifications, places
from core.accounts import User
from core.errors import N_, Conflict, DomainError, NotFound, PermissionDenied
from core.transitions import advance, advance_all
from volunteers import enrolment, register
from volunteers.activity_models import Contribution, Shift, Signup
from volunteers.models import Member, PatrolUnit
from volunteers.workflow import SHIFT, SIGNUP

MAX_CAPACITY = 500
MAX_REPEAT_WEEKS = 26
MAX_SHIFT = dt.timedelta(hours=16)
# [I] How early a member may check in and how late check-out is still accepted.
CHECK_IN_EARLY = dt.timedelta(minutes=30)
CHECK_OUT_LATE = dt.timedelta(hours=2)
LIVE = ("signed_up", "checked_in", "completed")


def get_shift(session: Session, shift_id: int) -> Shift:
    """Return the shift or raise NotFound."""
    shift = session.get(Shift, shift_id)
    if shift is None:
        raise NotFound(N_("No such shift."))
    return shift


def get_signup(session: Session, signup_id: int) -> Signup:
    """Return the sign-up or raise NotFound."""
    signup = session.get(Signup, signup_id)
    if signup is None:
        raise NotFound(N_("No such sign-up."))
    return signup


def _check_times(starts_at: dt.datetime, ends_at: dt.datetime, now: dt.datetime) -> None:
    if ends_at <= starts_at:
        raise DomainError(N_("A shift must end after it starts."))
    if ends_at - starts_at > MAX_SHIFT:
        raise DomainError(N_("A shift lasts at most %(hours)s hours."), hours=16)
    if starts_at <= now:
        raise DomainError(N_("A shift cannot start in the past."))


def _check_capacity(capacity: int) -> None:
    if not 1 <= capacity <= MAX_CAPACITY:
        raise DomainError(
            N_("The capacity must be between %(low)s and %(high)s."), low=1, high=MAX_CAPACITY
        )


def plan_shift(
    session: Session,
    *,
    unit_id: int,
    patrol_unit_id: int | None,
    place: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    capacity: int,
    supervisor_id: int | None,
    actor_id: int,
    now: dt.datetime,
    repeat_weeks: int = 0,
) -> list[Shift]:
    """Plan a shift, or a weekly series of ``repeat_weeks`` more at the same time."""
    _check_times(starts_at, ends_at, now)
    _check_capacity(capacity)
    place = " ".join((place or "").split())
    if not place:
        raise DomainError(N_("Describe the place: a route or an address."))
    if len(place) > 300:
        raise DomainError(N_("The place is longer than %(n)s characters."), n=300)
    if not 0 <= repeat_weeks <= MAX_REPEAT_WEEKS:
        raise DomainError(N_("A series repeats for at most %(n)s weeks."), n=MAX_REPEAT_WEEKS)
    unit = session.get(places.AdminUnit, unit_id)
    if unit is None or unit.level not in enrolment.APPLY_LEVELS:
        raise DomainError(N_("Choose the settlement or district of the shift."))
    if patrol_unit_id is not None:
        patrol = session.get(PatrolUnit, patrol_unit_id)
        district = register.issuing_unit(session, unit)
        if patrol is None or not session.get(places.AdminUnit, patrol.unit_id).path.startswith(
            district.path
        ):
            raise DomainError(N_("The patrol unit does not work in this district."))
    if supervisor_id is not None and session.get(User, supervisor_id) is None:
        raise DomainError(N_("No such supervisor."))
    series = uuid.uuid4().hex if repeat_weeks else None
    shifts = []
    for week in range(repeat_weeks + 1):
        shift = Shift(
            unit_id=unit_id,
            patrol_unit_id=patrol_unit_id,
            place=place,
            starts_at=starts_at + dt.timedelta(weeks=week),
            ends_at=ends_at + dt.timedelta(weeks=week),
            capacity=capacity,
            taken=0,
            supervisor_id=supervisor_id,
            status="planned",
            series=series,
            created_by_id=actor_id,
        )
        session.add(shift)
        shifts.append(shift)
    session.flush()
    for shift in shifts:
        audit.record(
            session,
            action="shift.plan",
            object_type="shift",
            object_id=shift.id,
            actor_id=actor_id,
            payload={
                "unit_id": unit_id,
                "starts_at": shift.starts_at.isoformat(),
                "ends_at": shift.ends_at.isoformat(),
                "capacity": capacity,
                "series": series,
            },
        )
    return shifts


def _notify_signed_up(session: Session, shift: Shift, kind: str, params: dict) -> None:
    rows = session.execute(
        select(User)
        .join(Member, Member.user_id == User.id)
        .join(Signup, Signup.member_id == Member.id)
        .where(Signup.shift_id == shift.id, Signup.status == "signed_up")
    ).scalars()
    for user in rows:
        notifications.queue_message(
            session,
            user_id=user.id,
            email=user.email,
            kind=kind,
            params={"shift_id": shift.id, **params},
            language=user.preferred_language,
        )


def _overlap_or_duplicate(exc: IntegrityError) -> DomainError:
    text = str(exc.orig)
    if "uq_signup_live_shift_member" in text or "UNIQUE" in text.upper():
        return Conflict(N_("You are already signed up for this shift."))
    if "overlap" in text:
        return Conflict(N_("This shift overlaps another shift you are signed up for."))
    raise exc


def edit_shift(
    session: Session,
    *,
    shift_id: int,
    place: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    capacity: int,
    supervisor_id: int | None,
    actor_id: int,
    now: dt.datetime,
) -> Shift:
    """Change a planned shift before it starts; those signed up are told."""
    shift = get_shift(session, shift_id)
    if shift.status != "planned" or shift.starts_at <= now:
        raise Conflict(N_("Only a planned shift that has not started can be changed."))
    _check_times(starts_at, ends_at, now)
    _check_capacity(capacity)
    place = " ".join((place or "").split())
    if not place:
        raise DomainError(N_("Describe the place: a route or an address."))
    before = {
        "place": shift.place,
        "starts_at": shift.starts_at.isoformat(),
        "ends_at": shift.ends_at.isoformat(),
        "capacity": shift.capacity,
    }
    # Guarded: the capacity may not drop below the places already taken at this moment.
    changed = session.execute(
        update(Shift)
        .where(Shift.id == shift_id, Shift.taken <= capacity, Shift.status == "planned")
        .values(
            place=place,
            starts_at=starts_at,
            ends_at=ends_at,
            capacity=capacity,
            supervisor_id=supervisor_id,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        raise Conflict(
            N_("%(taken)s people are signed up: the capacity cannot be lower."),
            taken=shift.taken,
        )
    try:
        with session.begin_nested():
            session.execute(
                update(Signup)
                .where(Signup.shift_id == shift_id, Signup.status != "cancelled")
                .values(starts_at=starts_at, ends_at=ends_at)
                .execution_options(synchronize_session=False)
            )
    except IntegrityError:
        raise Conflict(
            N_("Someone signed up for this shift has another shift at the new time.")
        ) from None
    session.expire(shift)
    after = {
        "place": place,
        "starts_at": starts_at.isoformat(),
        "ends_at": ends_at.isoformat(),
        "capacity": capacity,
    }
    audit.record(
        session,
        action="shift.edit",
        object_type="shift",
        object_id=shift_id,
        actor_id=actor_id,
        payload={"before": before, "after": after},
    )
    _notify_signed_up(session, shift, "shift.changed", {})
    return shift


def cancel_shift(
    session: Session, *, shift_id: int, reason: str, actor_id: int, now: dt.datetime
) -> Shift:
    """Cancel a shift that has not ended; every sign-up is cancelled and told."""
    shift = get_shift(session, shift_id)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(N_("Write the reason for this decision."))
    not_cancellable = Conflict(N_("Only a planned shift that has not ended can be cancelled."))
    if shift.status != "planned" or shift.ends_at <= now:
        raise not_cancellable
    advance(
        session,
        SHIFT,
        shift,
        "cancel",
        values={"cancel_reason": reason, "taken": 0},
        where=[Shift.ends_at > now],
        refused=not_cancellable,
    )
    _notify_signed_up(session, shift, "shift.cancelled", {"reason": reason})
    advance_all(
        session, SIGNUP, "cancel", where=[Signup.shift_id == shift_id], values={"cancelled_at": now}
    )
    audit.record(
        session,
        action="shift.cancel",
        object_type="shift",
        object_id=shift_id,
        actor_id=actor_id,
        payload={"reason": reason},
    )
    return shift


def district_of(session: Session, unit_id: int) -> places.AdminUnit:
    """Return the district (or city) an admin unit belongs to."""
    return register.issuing_unit(session, session.get(places.AdminUnit, unit_id))


def visible_to(session: Session, member: Member, shift: Shift) -> bool:
    """Tell whether ``member`` may see and join ``shift`` (their unit's, or their district's)."""
    if shift.patrol_unit_id is not None:
        return shift.patrol_unit_id == member.patrol_unit_id
    return shift.unit.path.startswith(district_of(session, member.unit_id).path)


def open_shifts_query(session: Session, member: Member, now: dt.datetime):
    """Return a query of the upcoming planned shifts ``member`` may join, soonest first."""
    from sqlalchemy import and_, or_

    district = district_of(session, member.unit_id)
    shared = and_(
        Shift.patrol_unit_id.is_(None),
        Shift.unit_id.in_(
            select(places.AdminUnit.id).where(places.AdminUnit.path.like(district.path + "%"))
        ),
    )
    own_unit = Shift.patrol_unit_id == member.patrol_unit_id if member.patrol_unit_id else shared
    return (
        select(Shift)
        .where(Shift.status == "planned", Shift.starts_at > now, or_(shared, own_unit))
        .order_by(Shift.starts_at, Shift.id)
    )


def sign_up(
    session: Session, *, shift_id: int, member_id: int, actor_id: int, now: dt.datetime
) -> Signup:
    """Take a place on a shift; capacity and overlap are decided by the database."""
    member = register.get_member(session, member_id)
    if member.status != "active" or member.expires_on < clock.local_date(now):
        raise PermissionDenied(
            N_("Only an active member with a valid certificate can sign up for shifts.")
        )
    shift = get_shift(session, shift_id)
    if not visible_to(session, member, shift):
        raise PermissionDenied(N_("This shift belongs to another district or unit."))
    if shift.status != "planned":
        raise Conflict(N_("This shift has been cancelled."))
    if shift.starts_at <= now:
        raise Conflict(N_("This shift has already started."))
    mine = session.scalar(
        select(Signup.id).where(
            Signup.shift_id == shift_id, Signup.member_id == member_id, Signup.status != "cancelled"
        )
    )
    if mine:  # said before "full"; the unique index still decides under a race
        raise Conflict(N_("You are already signed up for this shift."))
    try:
        with session.begin_nested():
            # One guarded statement: a place is taken only while one is free.
            taken = session.execute(
                update(Shift)
                .where(
                    Shift.id == shift_id,
                    Shift.status == "planned",
                    Shift.starts_at > now,
                    Shift.taken < Shift.capacity,
                )
                .values(taken=Shift.taken + 1)
                .execution_options(synchronize_session=False)
            ).rowcount
            if not taken:
                raise Conflict(N_("This shift is full."))
            signup = Signup(
                shift_id=shift_id,
                member_id=member_id,
                status="signed_up",
                starts_at=shift.starts_at,
                ends_at=shift.ends_at,
                signed_up_at=now,
            )
            session.add(signup)
            session.flush()
    except IntegrityError as exc:
        raise _overlap_or_duplicate(exc) from None
    session.expire(shift)
    audit.record(
        session,
        action="signup.create",
        object_type="signup",
        object_id=signup.id,
        actor_id=actor_id,
        payload={"shift_id": shift_id, "member_id": member_id},
    )
    return signup


def cancel_signup(session: Session, *, signup_id: int, actor_id: int, now: dt.datetime) -> Signup:
    """Give up a place before the shift starts."""
    signup = get_signup(session, signup_id)
    too_late = Conflict(N_("A sign-up can be cancelled only before the shift starts."))
    if signup.status != "signed_up" or signup.starts_at <= now:
        raise too_late
    advance(
        session,
        SIGNUP,
        signup,
        "cancel",
        values={"cancelled_at": now},
        where=[Signup.starts_at > now],
        refused=too_late,
    )
    session.execute(
        update(Shift)
        .where(Shift.id == signup.shift_id, Shift.taken > 0)
        .values(taken=Shift.taken - 1)
        .execution_options(synchronize_session=False)
    )
    audit.record(
        session,
        action="signup.cancel",
        object_type="signup",
        object_id=signup_id,
        actor_id=actor_id,
        payload={"shift_id": signup.shift_id},
    )
    return signup


def check_in(
    session: Session,
    *,
    signup_id: int,
    actor_id: int,
    now: dt.datetime,
    latitude: float | None = None,
    longitude: float | None = None,
) -> Signup:
    """Record the member's arrival (server time), within the shift's window."""
    signup = get_signup(session, signup_id)
    if signup.status != "signed_up":
        raise Conflict(N_("You have already checked in or this sign-up is closed."))
    if not signup.starts_at - CHECK_IN_EARLY <= now <= signup.ends_at:
        raise Conflict(
            N_("Check-in is open from %(minutes)s minutes before the start until the end."),
            minutes=int(CHECK_IN_EARLY.total_seconds() // 60),
        )
    located = (
        latitude is not None
        and longitude is not None
        and -90 <= latitude <= 90
        and -180 <= longitude <= 180
    )
    advance(
        session,
        SIGNUP,
        signup,
        "check_in",
        values={
            "checked_in_at": now,
            "attendance_by_id": actor_id,
            "latitude_e6": round(latitude * 1_000_000) if located else None,
            "longitude_e6": round(longitude * 1_000_000) if located else None,
        },
    )
    audit.record(
        session,
        action="signup.check_in",
        object_type="signup",
        object_id=signup_id,
        actor_id=actor_id,
        payload={"located": located},
    )
    return signup


def check_out(session: Session, *, signup_id: int, actor_id: int, now: dt.datetime) -> Signup:
    """Record the member's departure; the patrol hours are logged for confirmation."""
    signup = get_signup(session, signup_id)
    if signup.status != "checked_in":
        raise Conflict(N_("Check in first."))
    if now > signup.ends_at + CHECK_OUT_LATE:
        raise Conflict(N_("The shift is over; the supervisor records the attendance."))
    _complete(session, signup, min(now, signup.ends_at), actor_id)
    audit.record(
        session,
        action="signup.check_out",
        object_type="signup",
        object_id=signup_id,
        actor_id=actor_id,
        payload={"minutes": _minutes(signup)},
    )
    return signup


def _minutes(signup: Signup) -> int:
    return int((signup.checked_out_at - signup.checked_in_at).total_seconds() // 60)


def _complete(
    session: Session,
    signup: Signup,
    out_at: dt.datetime,
    logged_by_id: int | None,
    *,
    attendance_by_id: int | None = None,
    checked_in_at: dt.datetime | None = None,
) -> None:
    """Mark a sign-up completed and log its patrol hours once (the sign-up id is unique)."""
    values = {"checked_out_at": max(out_at, checked_in_at or signup.checked_in_at)}
    if checked_in_at is not None:
        values["checked_in_at"] = checked_in_at
    if attendance_by_id is not None:
        values["attendance_by_id"] = attendance_by_id
    advance(session, SIGNUP, signup, "complete", values=values)
    minutes = min(_minutes(signup), 960)
    if minutes <= 0:
        return
    shift = session.get(Shift, signup.shift_id)
    member = session.get(Member, signup.member_id)
    exists = session.scalar(select(Contribution.id).where(Contribution.signup_id == signup.id))
    if exists:
        return
    contribution = Contribution(
        member_id=member.id,
        unit_id=member.unit_id,
        kind="patrol_hours",
        occurred_on=clock.local_date(signup.checked_in_at),
        minutes=minutes,
        description=shift.place,
        reference=f"shift-{shift.id}",
        status="logged",
        signup_id=signup.id,
        # Recorded by the supervisor: then the supervisor may not also confirm it.
        logged_by_id=logged_by_id if logged_by_id != member.user_id else None,
    )
    session.add(contribution)
    session.flush()
    audit.record(
        session,
        action="contribution.log",
        object_type="contribution",
        object_id=contribution.id,
        actor_id=logged_by_id,
        payload={"kind": "patrol_hours", "minutes": minutes, "signup_id": signup.id},
    )


def record_attendance(
    session: Session, *, shift_id: int, present: set[int], actor_id: int, now: dt.datetime
) -> tuple[int, int]:
    """The supervisor's record for the whole shift: who came (completed) and who did not.

    Members who checked themselves in keep their own times. Returns (completed, no_show).
    """
    shift = get_shift(session, shift_id)
    if shift.status != "planned" or shift.starts_at > now:
        raise Conflict(N_("Attendance can be recorded once the shift has started."))
    completed = no_show = 0
    signups = session.scalars(
        select(Signup).where(
            Signup.shift_id == shift_id, Signup.status.in_(("signed_up", "checked_in"))
        )
    ).all()
    for signup in signups:
        if signup.id in present:
            _complete(
                session,
                signup,
                min(now, shift.ends_at),
                actor_id,
                attendance_by_id=actor_id,
                checked_in_at=signup.checked_in_at or shift.starts_at,
            )
            completed += 1
        elif signup.status == "signed_up":
            advance(session, SIGNUP, signup, "no_show")
            no_show += 1
    audit.record(
        session,
        action="shift.attendance",
        object_type="shift",
        object_id=shift_id,
        actor_id=actor_id,
        payload={"completed": completed, "no_show": no_show},
    )
    return completed, no_show


def close_ended(session: Session, *, now: dt.datetime) -> int:
    """Close shifts that have ended: absentees become no-shows, open check-ins complete.

    Safe to repeat: a closed shift is skipped. Returns the number of shifts closed.
    """
    ended = session.scalars(
        select(Shift).where(
            Shift.status == "planned", Shift.ends_at <= now, Shift.closed_at.is_(None)
        )
    ).all()
    closed = 0
    for shift in ended:
        # Claimed once: a second run of the job (or a parallel one) finds it closed.
        claimed = session.execute(
            update(Shift)
            .where(Shift.id == shift.id, Shift.closed_at.is_(None))
            .values(closed_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not claimed:
            continue
        session.expire(shift, ["closed_at"])
        closed += 1
        advance_all(session, SIGNUP, "no_show", where=[Signup.shift_id == shift.id])
        for signup in session.scalars(
            select(Signup).where(Signup.shift_id == shift.id, Signup.status == "checked_in")
        ):
            _complete(session, signup, shift.ends_at, None)
        audit.record(
            session,
            action="shift.close",
            object_type="shift",
            object_id=shift.id,
            actor_id=None,
            payload={},
        )
    return closed


def remind(session: Session, *, day_start: dt.datetime, day_end: dt.datetime) -> int:
    """Remind once each member signed up for a shift starting in [day_start, day_end)."""
    due = session.execute(
        select(Signup, User)
        .join(Shift, Shift.id == Signup.shift_id)
        .join(Member, Member.id == Signup.member_id)
        .join(User, User.id == Member.user_id)
        .where(
            Signup.status == "signed_up",
            Signup.reminded_at.is_(None),
            Shift.status == "planned",
            Shift.starts_at >= day_start,
            Shift.starts_at < day_end,
        )
    ).all()
    sent = 0
    for signup, user in due:
        claimed = session.execute(
            update(Signup)
            .where(Signup.id == signup.id, Signup.reminded_at.is_(None))
            .values(reminded_at=day_start)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not claimed:
            continue
        notifications.queue_message(
            session,
            user_id=user.id,
            email=user.email,
            kind="shift.reminder",
            params={"shift_id": signup.shift_id},
            language=user.preferred_language,
        )
        sent += 1
    return sent
