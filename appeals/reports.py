"""Deputies' figures on hearings and complaints per jurisdiction and period, summed in SQL."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Date, and_, case, cast, func, literal, select
from sqlalchemy.orm import Session

from appeals.models import (
    ACT_KINDS,
    COMPLAINT_KINDS,
    COMPLAINT_STATUSES,
    EXCEPTION_KINDS,
    OUTCOMES,
    OVERTURNING,
    Complaint,
    Hearing,
    HearingProtocol,
)
from core import clock
from core.errors import N_, DomainError
from core.scope import Scope

HEARING_FIGURES = ("drafted", "notified", "oral_held", "adopted", "withdrawn", "exceptions")
TIMELINESS = (
    "forwarded",
    "forwarded_on_time",
    "reviewed",
    "reviewed_on_time",
    "overdue_forwarding",
    "overdue_review",
)


@dataclass(frozen=True)
class Period:
    """A calendar year or one of its quarters, as local dates and as UTC moments."""

    year: int
    quarter: int | None
    first: dt.date
    last: dt.date

    @classmethod
    def of(cls, year: int, quarter: int | None = None) -> Period:
        """Return the year, or its quarter 1-4; anything else is refused."""
        if not 2000 <= year <= 2100 or quarter not in (None, 1, 2, 3, 4):
            raise DomainError(N_("Choose a year and a quarter."))
        if quarter is None:
            return cls(year, None, dt.date(year, 1, 1), dt.date(year, 12, 31))
        first = dt.date(year, 3 * quarter - 2, 1)
        after = dt.date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1)
        return cls(year, quarter, first, after - dt.timedelta(days=1))

    def moments(self) -> tuple[dt.datetime, dt.datetime]:
        """Return the period's start and end as UTC moments (local midnights)."""
        return clock.local_day_bounds(self.first)[0], clock.local_day_bounds(self.last)[1]


def _within(column, start: dt.datetime, end: dt.datetime):
    return and_(column >= start, column < end)


@functools.lru_cache(maxsize=4)
def offset_changes(zone_key: str) -> tuple[tuple[dt.datetime | None, int], ...]:
    """Return the zone's UTC offsets (seconds) 2000-2100, each with the naive UTC moment it
    starts at (None for the first): Asia/Almaty went from UTC+6 to UTC+5 on 1 March 2024."""
    zone = ZoneInfo(zone_key)

    def offset(moment: dt.datetime) -> int:
        return int(moment.astimezone(zone).utcoffset().total_seconds())

    moment = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    changes: list[tuple[dt.datetime | None, int]] = [(None, offset(moment))]
    while moment.year < 2100:
        later = moment + dt.timedelta(days=7)  # offsets change months apart, if at all
        if offset(later) != changes[-1][1]:
            low, high = moment, later  # the change lies in (low, high]: narrow it to the minute
            while high - low > dt.timedelta(minutes=1):
                middle = low + (high - low) / 2
                low, high = (middle, high) if offset(middle) == changes[-1][1] else (low, middle)
            changes.append((high.replace(second=0, microsecond=0, tzinfo=None), offset(later)))
        moment = later
    return tuple(changes)


def local_day(session: Session, column):
    """Return a SQL expression of the local (Asia/Almaty) date of a UTC moment column.

    SQLite keeps naive UTC text: each moment takes the offset in force at it (a CASE over the
    zone's offset changes), so a date before 1 March 2024 is still counted at UTC+6.
    """
    zone = clock.zone()
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone(str(zone), column), Date)
    changes = offset_changes(str(zone))
    if len(changes) == 1:
        return func.date(column, f"{changes[0][1]:+d} seconds")
    whens = [
        (
            column < literal(start.strftime("%Y-%m-%d %H:%M:%S")),
            func.date(column, f"{prev:+d} seconds"),
        )
        for (start, _), (_, prev) in zip(changes[1:], changes[:-1], strict=True)
    ]
    return case(*whens, else_=func.date(column, f"{changes[-1][1]:+d} seconds"))


def hearing_figures(session: Session, *, scope: Scope, period: Period) -> dict:
    """Count hearings drafted, notified, orally heard, adopted (with exceptions) and withdrawn.

    Each figure counts the step taken within the period; ``by_kind`` splits them per act kind
    and ``exceptions`` counts acts adopted without a hearing per exception kind (Art. 73(4)).
    """
    start, end = period.moments()
    adopted = _within(Hearing.adopted_at, start, end)
    rows = session.execute(
        select(
            Hearing.act_kind,
            func.count().filter(_within(Hearing.drafted_at, start, end)),
            func.count().filter(_within(Hearing.notified_at, start, end)),
            func.count().filter(adopted),
            func.count().filter(_within(Hearing.withdrawn_at, start, end)),
            *(func.count().filter(adopted, Hearing.exception_kind == k) for k in EXCEPTION_KINDS),
        )
        .where(scope.clause(Hearing.unit_id))
        .group_by(Hearing.act_kind)
    ).all()
    held = dict(
        session.execute(
            select(Hearing.act_kind, func.count())
            .join(HearingProtocol, HearingProtocol.hearing_id == Hearing.id)
            .where(scope.clause(Hearing.unit_id), _within(HearingProtocol.held_at, start, end))
            .group_by(Hearing.act_kind)
        ).all()
    )
    by_kind = {
        k: dict.fromkeys(("drafted", "notified", "oral_held", "adopted", "withdrawn"), 0)
        for k in ACT_KINDS
    }
    exceptions = dict.fromkeys(EXCEPTION_KINDS, 0)
    for kind, drafted, notified, adopted_n, withdrawn, *excepted in rows:
        by_kind[kind].update(
            drafted=drafted, notified=notified, adopted=adopted_n, withdrawn=withdrawn
        )
        for code, n in zip(EXCEPTION_KINDS, excepted, strict=True):
            exceptions[code] += n
    for kind, n in held.items():
        by_kind[kind]["oral_held"] = n
    totals = {f: sum(row[f] for row in by_kind.values()) for f in HEARING_FIGURES[:-1]}
    totals["exceptions"] = sum(exceptions.values())
    return {"totals": totals, "by_kind": by_kind, "exceptions": exceptions}


def complaint_figures(session: Session, *, scope: Scope, period: Period, today: dt.date) -> dict:
    """Count complaints by kind and stage, outcomes with the share overturned, and timeliness.

    ``filed``: complaints registered within the period, per kind and their stage today.
    ``outcomes``: decisions taken within the period (review bodies' and the police's), per
    outcome; ``overturned_pct`` is the share of them that overturned the act (Art. 100(1):
    cancelled, replaced, the action ordered, or returned to decide again), and ``granted`` the
    complaints of the period the issuing body granted in full itself. ``timeliness``: forwarded
    within the 3 working days, decided within the 20, and what is overdue today.
    """
    start, end = period.moments()
    scoped = scope.clause(Complaint.unit_id)
    filed = {k: dict.fromkeys(COMPLAINT_STATUSES, 0) for k in COMPLAINT_KINDS}
    for kind, status, n in session.execute(
        select(Complaint.kind, Complaint.status, func.count())
        .where(scoped, Complaint.registered_on.between(period.first, period.last))
        .group_by(Complaint.kind, Complaint.status)
    ):
        filed[kind][status] = n
    outcomes = {k: dict.fromkeys(OUTCOMES, 0) for k in COMPLAINT_KINDS}
    for kind, outcome, n in session.execute(
        select(Complaint.kind, Complaint.outcome, func.count())
        .where(
            scoped,
            Complaint.status == "decided",
            _within(Complaint.decided_at, start, end),
        )
        .group_by(Complaint.kind, Complaint.outcome)
    ):
        outcomes[kind][outcome] = n
    decided_on = local_day(session, Complaint.decided_at)
    reviewed = and_(
        Complaint.status == "decided",
        Complaint.review_due_on.is_not(None),
        _within(Complaint.decided_at, start, end),
    )
    forwarded = Complaint.forwarded_on.between(period.first, period.last)
    row = session.execute(
        select(
            func.count().filter(forwarded),
            func.count().filter(forwarded, Complaint.forwarded_on <= Complaint.forward_due_on),
            func.count().filter(reviewed),
            func.count().filter(reviewed, decided_on <= Complaint.review_due_on),
            func.count().filter(
                Complaint.status == "registered",
                Complaint.kind != "police",
                Complaint.forward_due_on < today,
            ),
            func.count().filter(Complaint.status == "forwarded", Complaint.review_due_on < today),
        ).where(scoped)
    ).one()
    timeliness = dict(zip(TIMELINESS, (int(n or 0) for n in row), strict=True))
    totals = {o: sum(outcomes[k][o] for k in COMPLAINT_KINDS) for o in OUTCOMES}
    decided = sum(totals.values())
    overturned = sum(totals[o] for o in OVERTURNING)
    return {
        "filed": filed,
        "filed_total": sum(sum(v.values()) for v in filed.values()),
        "stages": {s: sum(filed[k][s] for k in COMPLAINT_KINDS) for s in COMPLAINT_STATUSES},
        "outcomes": outcomes,
        "outcome_totals": totals,
        "decided": decided,
        "overturned": overturned,
        "overturned_pct": round(overturned * 100 / decided, 1) if decided else 0.0,
        "granted": sum(filed[k]["granted"] for k in COMPLAINT_KINDS),
        "timeliness": timeliness,
    }


def appeal_figures(
    session: Session, *, scope: Scope, year: int, quarter: int | None, today: dt.date
) -> dict:
    """Return the hearing and complaint figures of ``scope`` for the year or its quarter."""
    period = Period.of(year, quarter)
    return {
        "year": year,
        "quarter": quarter,
        "first": period.first.isoformat(),
        "last": period.last.isoformat(),
        "today": today.isoformat(),
        "hearings": hearing_figures(session, scope=scope, period=period),
        "complaints": complaint_figures(session, scope=scope, period=period, today=today),
    }


def flat_rows(figures: dict) -> list[tuple[str, str, str, int | float]]:
    """Return the figures as (section, group, item, value) rows: the CSV's body, codes only."""
    h, c = figures["hearings"], figures["complaints"]
    rows: list[tuple[str, str, str, int | float]] = [
        ("hearings", "total", f, h["totals"][f]) for f in HEARING_FIGURES
    ]
    rows += [("hearings", "exception", k, n) for k, n in h["exceptions"].items()]
    rows += [
        ("hearings", kind, f, n)
        for kind, figures_ in h["by_kind"].items()
        for f, n in figures_.items()
    ]
    rows += [
        ("complaints_filed", kind, s, n)
        for kind, stages in c["filed"].items()
        for s, n in stages.items()
    ]
    rows += [
        ("complaint_outcomes", kind, o, n)
        for kind, outcomes in c["outcomes"].items()
        for o, n in outcomes.items()
    ]
    rows += [
        ("complaint_outcomes", "total", "decided", c["decided"]),
        ("complaint_outcomes", "total", "overturned", c["overturned"]),
        ("complaint_outcomes", "total", "overturned_pct", c["overturned_pct"]),
        ("complaint_outcomes", "total", "granted", c["granted"]),
    ]
    rows += [("timeliness", "total", k, n) for k, n in c["timeliness"].items()]
    return rows
