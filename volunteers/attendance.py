"""Attendance on patrol shifts: check-in and check-out, its undo, the supervisor's record, closing.

A completed sign-up logs its patrol hours once, as a contribution waiting for confirmation;
a check-out taken back re-logs them on the next one, and nobody confirms them meanwhile.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core import audit, clock
from core.errors import N_, Conflict, DomainError, PermissionDenied
from core.transitions import advance, advance_all
from volunteers.activity_models import OPEN_SIGNUP_STATUSES, Contribution, Shift, Signup
from volunteers.attendance_settings import offline_limit
from volunteers.models import Member
from volunteers.shift_planning import get_shift, get_signup
from volunteers.workflow import SIGNUP

# [I] How early a member may check in and how late check-out is still accepted.
CHECK_IN_EARLY = dt.timedelta(minutes=30)
CHECK_OUT_LATE = dt.timedelta(hours=2)
# [I] How long a check-out may be taken back (a double tap ended a shift 2 s after it began).
UNDO_WINDOW = dt.timedelta(minutes=2)
# [I] How far ahead of the server's clock an offline tap's time may be (a phone's clock drifts).
TAP_CLOCK_SKEW = dt.timedelta(minutes=2)


def _tap_time(session: Session, signup: Signup, tapped_at: dt.datetime | None, now: dt.datetime):
    """Return the time to record: the offline tap's, when given and acceptable, else ``now``.

    A tap reaches the portal when the phone is online again; it is accepted only within the
    akimat's limit (``attendance_settings.offline_limit``) and not from the future.
    """
    if tapped_at is None:
        return now
    if tapped_at.tzinfo is None or tapped_at.utcoffset() is None:
        raise DomainError(N_("Give the time of the tap with its time zone.")).at("tapped_at")
    # Compared as differences (timedeltas): converting a time at the ends of the calendar to
    # UTC first would overflow.
    if tapped_at - now > TAP_CLOCK_SKEW:
        raise DomainError(
            N_("The time of the tap is in the future: check the clock of your phone.")
        ).at("tapped_at")
    limit = offline_limit(session, signup.shift.unit_id)
    if limit <= dt.timedelta(0):
        raise DomainError(
            N_("Check-ins and check-outs made offline are not accepted here; ask the supervisor.")
        ).at("tapped_at")
    if now - tapped_at > limit:
        raise DomainError(
            N_(
                "A tap made offline is accepted within %(hours)s h only; "
                "ask the supervisor to record your attendance."
            ),
            hours=_hours_text(limit),
        ).at("tapped_at")
    return tapped_at.astimezone(dt.UTC)


def _hours_text(limit: dt.timedelta) -> str:
    minutes = int(limit.total_seconds() // 60)
    return str(minutes // 60) if minutes % 60 == 0 else f"{minutes // 60}:{minutes % 60:02d}"


def check_in(
    session: Session,
    *,
    signup_id: int,
    actor_id: int,
    now: dt.datetime,
    latitude: float | None = None,
    longitude: float | None = None,
    tapped_at: dt.datetime | None = None,
) -> Signup:
    """Record the member's arrival within the shift's window: the server's time, or the time
    of a tap made offline (``tapped_at``, within the akimat's limit; marked offline)."""
    signup = get_signup(session, signup_id)
    if signup.status == "cancelled" and signup.shift.status == "cancelled":
        # Said plainly: a check-in tapped offline meets a shift cancelled meanwhile.
        raise Conflict(N_("The shift was cancelled: there is nothing to check in to."))
    if signup.status != "signed_up":
        raise Conflict(N_("You have already checked in or this sign-up is closed."))
    at = _tap_time(session, signup, tapped_at, now)
    if not signup.starts_at - CHECK_IN_EARLY <= at <= signup.ends_at:
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
            "checked_in_at": at,
            "checked_in_offline": tapped_at is not None,
            "attendance_by_id": actor_id,
            "latitude_e6": round(latitude * 1_000_000) if located else None,
            "longitude_e6": round(longitude * 1_000_000) if located else None,
        },
    )
    payload = {"located": located}
    if tapped_at is not None:
        payload |= {"offline": True, "tapped_at": at.isoformat()}
    audit.record(
        session,
        action="signup.check_in",
        object_type="signup",
        object_id=signup_id,
        actor_id=actor_id,
        payload=payload,
    )
    return signup


def check_out(
    session: Session,
    *,
    signup_id: int,
    actor_id: int,
    now: dt.datetime,
    tapped_at: dt.datetime | None = None,
) -> Signup:
    """Record the member's departure (the server's time, or the time of a tap made offline,
    after the check-in); the patrol hours are logged for confirmation."""
    signup = get_signup(session, signup_id)
    if signup.status != "checked_in":
        raise Conflict(N_("Check in first."))
    at = _tap_time(session, signup, tapped_at, now)
    if tapped_at is not None and at <= signup.checked_in_at:
        raise DomainError(N_("The check-out must come after the check-in.")).at("tapped_at")
    if at > signup.ends_at + CHECK_OUT_LATE:
        raise Conflict(N_("The shift is over; the supervisor records the attendance."))
    _complete(
        session,
        signup,
        min(at, signup.ends_at),
        actor_id,
        checked_out_offline=tapped_at is not None,
    )
    payload = {"minutes": _minutes(signup)}
    if tapped_at is not None:
        payload |= {"offline": True, "tapped_at": at.isoformat()}
    audit.record(
        session,
        action="signup.check_out",
        object_type="signup",
        object_id=signup_id,
        actor_id=actor_id,
        payload=payload,
    )
    return signup


def undo_check_out(session: Session, *, signup_id: int, actor_id: int, now: dt.datetime) -> Signup:
    """Take back a check-out within ``UNDO_WINDOW``: the member is on the shift again.

    Only the member or their coordinator may, while the shift is open and the hours it logged
    are undecided; the logged hours stay "logged" and are re-counted at the next check-out
    (``contributions`` refuses to decide them while the member is back on the shift).
    """
    signup = get_signup(session, signup_id)
    # Lock order: the shift's row, then the audit chain, as ``close_ended`` takes them (its
    # UPDATE, then its audit event): an undo and the closing job run one after the other, so
    # a closed shift never gets a member back on it. The audit lock also serialises an undo
    # with a coordinator's decision on the same hours, which takes it first.
    shift = session.scalars(
        select(Shift)
        .where(Shift.id == signup.shift_id)
        .with_for_update(of=Shift)  # the shift's row only, not its eagerly joined units
        .execution_options(populate_existing=True)
    ).one()
    audit.take_append_lock(session)
    member = session.get(Member, signup.member_id)
    allowed = {member.user_id, member.coordinator_id}
    if member.patrol_unit is not None:
        allowed.add(member.patrol_unit.coordinator_id)
    if actor_id not in allowed - {None}:
        raise PermissionDenied(N_("Only the member or their coordinator may undo a check-out."))
    if signup.checked_out_at is None or signup.checked_in_at is None:
        raise Conflict(N_("There is no check-out to undo."))
    if shift.status != "planned" or shift.closed_at is not None:
        raise Conflict(N_("The shift is closed: its attendance can no longer be changed."))
    decided = session.scalar(
        select(Contribution.status).where(
            Contribution.signup_id == signup.id, Contribution.status != "logged"
        )
    )
    if decided is not None:
        raise Conflict(
            N_("The hours of this shift have already been decided: the check-out stays.")
        )
    too_late = Conflict(
        N_("A check-out can be undone for %(minutes)s minutes only; this one stays."),
        minutes=int(UNDO_WINDOW.total_seconds() // 60),
    )
    if signup.status == "completed" and now - signup.checked_out_at > UNDO_WINDOW:
        raise too_late
    checked_out_at = signup.checked_out_at
    advance(
        session,
        SIGNUP,
        signup,
        "undo_check_out",
        values={"checked_out_at": None, "checked_out_offline": False},
        where=[Signup.checked_out_at >= now - UNDO_WINDOW],
        refused=too_late,
    )
    audit.record(
        session,
        action="signup.undo_check_out",
        object_type="signup",
        object_id=signup_id,
        actor_id=actor_id,
        payload={"checked_out_at": checked_out_at.isoformat()},
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
    checked_out_offline: bool = False,
) -> None:
    """Mark a sign-up completed and log its patrol hours once (the sign-up id is unique)."""
    values = {
        "checked_out_at": max(out_at, checked_in_at or signup.checked_in_at),
        "checked_out_offline": checked_out_offline,
    }
    if checked_in_at is not None:
        values["checked_in_at"] = checked_in_at
    if attendance_by_id is not None:
        values["attendance_by_id"] = attendance_by_id
    advance(session, SIGNUP, signup, "complete", values=values)
    minutes = min(_minutes(signup), 960)
    logged = session.scalar(select(Contribution).where(Contribution.signup_id == signup.id))
    if logged is not None:
        _relog(session, logged, signup, minutes, logged_by_id)
        return
    if minutes <= 0:
        return
    shift = session.get(Shift, signup.shift_id)
    member = session.get(Member, signup.member_id)
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


def _relog(
    session: Session, logged: Contribution, signup: Signup, minutes: int, actor_id: int | None
) -> None:
    """Re-count the hours of a check-out that was undone and taken again (still undecided)."""
    if logged.status != "logged" or logged.minutes == minutes or minutes <= 0:
        return
    changed = session.execute(
        update(Contribution)
        .where(Contribution.id == logged.id, Contribution.status == "logged")
        .values(minutes=minutes, occurred_on=clock.local_date(signup.checked_in_at))
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        return
    session.expire(logged, ["minutes", "occurred_on"])
    audit.record(
        session,
        action="contribution.log",
        object_type="contribution",
        object_id=logged.id,
        actor_id=actor_id,
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
        select(Signup).where(Signup.shift_id == shift_id, Signup.status.in_(OPEN_SIGNUP_STATUSES))
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
