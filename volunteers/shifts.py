"""Patrol shifts: sign-ups under capacity and overlap rules, and reminders of them.

Planning lives in ``volunteers.shift_planning`` and attendance in ``volunteers.attendance``;
their public names are re-exported here, so that ``shifts.X`` stays the one name callers use.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit, clock, notifications
from core.accounts import User
from core.errors import N_, Conflict, DomainError, PermissionDenied
from core.transitions import advance
from volunteers import register
from volunteers.activity_models import Shift, Signup
from volunteers.attendance import (
    CHECK_IN_EARLY,
    CHECK_OUT_LATE,
    check_in,
    check_out,
    close_ended,
    record_attendance,
)
from volunteers.models import Member
from volunteers.shift_planning import (
    MAX_CAPACITY,
    MAX_REPEAT_WEEKS,
    MAX_SHIFT,
    PLACE_MAX,
    cancel_shift,
    district_of,
    edit_shift,
    get_shift,
    get_signup,
    plan_shift,
    visible_to,
)
from volunteers.workflow import SIGNUP

__all__ = [
    "CHECK_IN_EARLY",
    "CHECK_OUT_LATE",
    "LIVE",
    "MAX_CAPACITY",
    "MAX_REPEAT_WEEKS",
    "MAX_SHIFT",
    "PLACE_MAX",
    "cancel_shift",
    "cancel_signup",
    "check_in",
    "check_out",
    "close_ended",
    "district_of",
    "edit_shift",
    "get_shift",
    "get_signup",
    "plan_shift",
    "record_attendance",
    "remind",
    "sign_up",
    "visible_to",
]

LIVE = ("signed_up", "checked_in", "completed")


def _overlap_or_duplicate(exc: IntegrityError) -> DomainError:
    text = str(exc.orig)
    if "uq_signup_live_shift_member" in text or "UNIQUE" in text.upper():
        return Conflict(N_("You are already signed up for this shift."))
    if "overlap" in text:
        return Conflict(N_("This shift overlaps another shift you are signed up for."))
    raise exc


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
