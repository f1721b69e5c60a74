"""Patrol shifts planned, changed and cancelled, looked up, and which of them a member sees."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Select, and_, bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from core import audit, iin, notifications, places
from core.accounts import User
from core.errors import N_, Conflict, DomainError, NotFound
from core.transitions import advance, advance_all
from volunteers import enrolment, register
from volunteers.activity_models import Shift, Signup
from volunteers.models import Member, PatrolUnit
from volunteers.workflow import SHIFT, SIGNUP

MAX_CAPACITY = 500
MAX_REPEAT_WEEKS = 26
MAX_SHIFT = dt.timedelta(hours=16)
PLACE_MAX = Shift.place.type.length  # the column's own limit, for planning and editing


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


def _place(place: str | None) -> str:
    """Return a shift's place with its spaces collapsed, or refuse it (planning and editing)."""
    place = " ".join((place or "").split())
    if not place:
        raise DomainError(N_("Describe the place: a route or an address."))
    if len(place) > PLACE_MAX:
        raise DomainError(N_("The place is longer than %(n)s characters."), n=PLACE_MAX)
    iin.refuse_in_names(place)
    return place


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
    place = _place(place)
    if not 0 <= repeat_weeks <= MAX_REPEAT_WEEKS:
        raise DomainError(N_("A series repeats for at most %(n)s weeks."), n=MAX_REPEAT_WEEKS)
    unit = session.get(places.AdminUnit, unit_id)
    if unit is None or unit.level not in enrolment.APPLY_LEVELS:
        raise DomainError(N_("Choose the settlement or district of the shift."))
    if patrol_unit_id is not None:
        patrol = session.get(PatrolUnit, patrol_unit_id)
        district = register.issuing_unit(session, unit)
        if patrol is None or not places.path_within(
            session.get(places.AdminUnit, patrol.unit_id).path, district.path
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
    place = _place(place)
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
    return places.path_within(shift.unit.path, district_of(session, member.unit_id).path)


_UNIT = aliased(places.AdminUnit)  # the member's unit
_ABOVE = aliased(places.AdminUnit)  # a unit it lies within


def _nearest_path(levels: tuple[str, ...]):
    """The path of the nearest unit at or above ``:unit_id`` of one of ``levels``."""
    return (
        select(_ABOVE.path)
        .where(
            _UNIT.id == bindparam("unit_id"),
            places.path_within_clause(_UNIT.path, _ABOVE.path),
            _ABOVE.level.in_(levels),
        )
        .order_by(places.nearest_first(_ABOVE.path))
        .limit(1)
        .correlate(None)
        .scalar_subquery()
    )


# ``district_of``'s path, in SQL: the district or city above the unit, else its region, else the
# unit itself. Read within the open shifts' statement: reading the units above the member's
# first cost the member's shifts page a statement of its own (issue 16).
_DISTRICT_PATH = func.coalesce(
    _nearest_path(register.ISSUING_LEVELS),
    _nearest_path(("region",)),
    select(_UNIT.path).where(_UNIT.id == bindparam("unit_id")).correlate(None).scalar_subquery(),
)


def _open_shifts() -> Select:
    shared = and_(
        Shift.patrol_unit_id.is_(None),
        Shift.unit_id.in_(
            select(places.AdminUnit.id).where(
                places.path_within_clause(places.AdminUnit.path, _DISTRICT_PATH)
            )
        ),
    )
    # The member's own patrol unit's shifts; with no patrol unit the value is NULL, which
    # equals nothing, so only the district's shared shifts remain.
    own_unit = Shift.patrol_unit_id == bindparam("patrol_unit_id")
    return (
        select(Shift)
        .where(Shift.status == "planned", Shift.starts_at > bindparam("now"), or_(shared, own_unit))
        .order_by(Shift.starts_at, Shift.id)
    )


# The upcoming planned shifts a member may join, soonest first (as ``visible_to`` decides one):
# built once, the member's values bound per call (``open_shifts_values``). Building it took
# 0.2-0.3 ms of the member's shifts page (issue 16).
OPEN_SHIFTS = _open_shifts()


def open_shifts_values(member: Member, now: dt.datetime) -> dict:
    """Return the values ``OPEN_SHIFTS`` (and statements built on it) need for ``member``."""
    return {"unit_id": member.unit_id, "patrol_unit_id": member.patrol_unit_id, "now": now}
