"""How old a check-in or check-out tapped offline may be when it reaches the portal, per akimat.

The limit is set per jurisdiction (``AttendanceSetting``) and inherited down the tree, like the
register's certificate validity: the nearest setting at or above a unit applies.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import accounts, audit, places
from core.errors import N_, Conflict, DomainError
from core.scope import Scope
from volunteers.models import AttendanceSetting

# [I] data: the limit where no jurisdiction sets one (a patrol shift and the walk home).
DEFAULT_OFFLINE_LIMIT = dt.timedelta(hours=12)
# The bounds the table's check constraint keeps: live taps only, up to three days.
MIN_MINUTES, MAX_MINUTES = 0, 4320


def offline_limit(session: Session, unit_id: int) -> dt.timedelta:
    """Return how old an offline tap in ``unit_id`` may be: the nearest setting up the tree."""
    chain = places.chain_ids(session, unit_id)
    if not chain:
        return DEFAULT_OFFLINE_LIMIT
    settings = dict(
        session.execute(
            select(AttendanceSetting.unit_id, AttendanceSetting.offline_limit_minutes).where(
                AttendanceSetting.unit_id.in_(chain)
            )
        ).all()
    )
    for candidate in chain:
        if candidate in settings:
            return dt.timedelta(minutes=settings[candidate])
    return DEFAULT_OFFLINE_LIMIT


def set_offline_limit(
    session: Session, *, unit_id: int, minutes: int | None, actor_id: int, now: dt.datetime
) -> None:
    """Set the offline limit of a jurisdiction (inherited below it); ``None`` clears it.

    The actor must administer the unit. Audited as ``attendance_setting.update``.
    """
    if minutes is not None and not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise DomainError(
            N_("The limit must be between %(low)s and %(high)s minutes."),
            low=MIN_MINUTES,
            high=MAX_MINUTES,
        ).at("minutes")
    if session.get(places.AdminUnit, unit_id) is None:
        raise DomainError(N_("Choose a jurisdiction from the list.")).at("unit_id")
    accounts.require_admin_over(session, actor_id, unit_id)
    setting = session.get(AttendanceSetting, unit_id, with_for_update=True)
    before = setting.offline_limit_minutes if setting else None
    if minutes is None:
        if setting is None:
            return
        session.delete(setting)
    elif setting is None:
        session.add(
            AttendanceSetting(
                unit_id=unit_id,
                offline_limit_minutes=minutes,
                updated_by_id=actor_id,
                updated_at=now,
            )
        )
    else:
        if before == minutes:
            return
        setting.offline_limit_minutes = minutes
        setting.updated_by_id = actor_id
        setting.updated_at = now
    try:
        session.flush()
    except IntegrityError as exc:
        # Two first settings of one unit at once: the row did not exist to be locked.
        raise Conflict(N_("Someone else has just set this limit. Reload and look again.")) from exc
    audit.record(
        session,
        action="attendance_setting.update",
        object_type="admin_unit",
        object_id=unit_id,
        actor_id=actor_id,
        payload={"before": before, "after": minutes},
        now=now,
    )


def offline_limit_settings(session: Session, scope: Scope) -> list[tuple[places.AdminUnit, int]]:
    """Return the offline limits set by units within ``scope``, in tree order."""
    return [
        (unit, minutes)
        for unit, minutes in session.execute(
            select(places.AdminUnit, AttendanceSetting.offline_limit_minutes)
            .join(AttendanceSetting, AttendanceSetting.unit_id == places.AdminUnit.id)
            .where(scope.units())
            .order_by(places.AdminUnit.path)
        ).all()
    ]
