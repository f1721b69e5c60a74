"""Summaries of patrol work for a unit or district: hours per week, contributions by kind."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.queries import with_units
from core.scope import Scope
from volunteers.activity_models import Contribution, ContributionKind
from volunteers.models import Member

WEEKS = 12
COUNTED = ("logged", "confirmed")


def _scoped(query, scope: Scope, patrol_unit_id: int | None):
    query = with_units(query, Contribution.unit_id, scope)
    if patrol_unit_id:
        query = query.join(Member, Member.id == Contribution.member_id).where(
            Member.patrol_unit_id == patrol_unit_id
        )
    return query


def hours_per_week(
    session: Session, scope: Scope, patrol_unit_id: int | None, today: dt.date
) -> list[tuple[dt.date, float]]:
    """Return (Monday, patrol hours logged or confirmed) for the last ``WEEKS`` weeks."""
    monday = today - dt.timedelta(days=today.weekday())
    first = monday - dt.timedelta(weeks=WEEKS - 1)
    rows = session.execute(
        _scoped(
            select(Contribution.occurred_on, func.sum(Contribution.minutes)),
            scope,
            patrol_unit_id,
        )
        .where(
            Contribution.kind == "patrol_hours",
            Contribution.status.in_(COUNTED),
            Contribution.occurred_on >= first,
            Contribution.occurred_on <= today,
        )
        .group_by(Contribution.occurred_on)
    ).all()
    weeks = {first + dt.timedelta(weeks=i): 0 for i in range(WEEKS)}
    for day, minutes in rows:
        weeks[day - dt.timedelta(days=day.weekday())] += int(minutes or 0)
    return [(week, round(minutes / 60, 1)) for week, minutes in weeks.items()]


def by_kind(
    session: Session, scope: Scope, patrol_unit_id: int | None, since: dt.date
) -> list[tuple[ContributionKind, int, int]]:
    """Return (kind, confirmed contributions, their points) since ``since``, every kind listed."""
    rows = dict(
        (kind, (count, points))
        for kind, count, points in session.execute(
            _scoped(
                select(
                    Contribution.kind,
                    func.count(),
                    func.coalesce(func.sum(Contribution.points), 0),
                ),
                scope,
                patrol_unit_id,
            )
            .where(Contribution.status == "confirmed", Contribution.occurred_on >= since)
            .group_by(Contribution.kind)
        ).all()
    )
    kinds = session.scalars(
        select(ContributionKind).order_by(ContributionKind.position, ContributionKind.code)
    )
    return [(k, *rows.get(k.code, (0, 0))) for k in kinds]
