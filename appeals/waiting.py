"""What waits in hearings and complaints: to-do counts per official, the late ones apart."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, and_, false, or_, select
from sqlalchemy.orm import Session

from appeals import queries
from appeals.hearings import ACT_ROLES, SUBJECT_OF
from appeals.models import Complaint, Hearing
from core import calendar, calendar_rules, clock
from core.scope import Scope
from core.waiting import Waiting, counted, counts

# Late means past a legal term (Arts. 73, 91(4), 99, counted in working days by appeals.terms
# when the record was written) or past one of these limits of the portal's own, choices [I] of
# the akimat: a drafted preliminary decision is sent within NOTICE_WITHIN working days, and the
# act is adopted or the draft withdrawn within ACT_WITHIN working days after its earliest day.
NOTICE_WITHIN = 3
ACT_WITHIN = 5


def act_scopes(user) -> dict[str, Scope]:
    """Return, per act kind, where ``user`` holds a role that drafts and adopts such acts."""
    return {kind: Scope.of(user, *roles) for kind, roles in ACT_ROLES.items()}


def _of_kinds(scopes: dict[str, Scope], kind_col, unit_col, subject_col=None):
    """A SQL condition: the record's act kind is one of ``scopes`` and its unit in that scope.

    A complaint about inaction has no act kind: it belongs to whoever drafts the acts on its
    subject (``subject_col``), the body that failed to decide.
    """
    kinds_by_scope: dict[Scope, list[str]] = {}
    for kind, scope in scopes.items():
        if not scope.is_nothing:
            kinds_by_scope.setdefault(scope, []).append(kind)
    parts = []
    for scope, kinds in kinds_by_scope.items():
        kind_is = kind_col.in_(kinds)
        if subject_col is not None:
            subjects = sorted({SUBJECT_OF[k] for k in kinds})
            kind_is = or_(kind_is, and_(kind_col.is_(None), subject_col.in_(subjects)))
        parts.append(and_(kind_is, scope.clause(unit_col)))
    return or_(*parts) if parts else false()


def last_late_day(session: Session, today: dt.date, n: int) -> dt.date:
    """Return the last day from which ``n`` working days ran out before ``today``.

    A record dated on or before it is late; one calendar read for the whole window.
    """
    window = today - dt.timedelta(days=7 * n + 60)
    holidays, transfers = set(), {}
    for row in session.scalars(
        select(calendar.CalendarDay).where(calendar.CalendarDay.day >= window)
    ):
        if row.kind == "holiday":
            holidays.add(row.day)
        else:
            transfers[row.day] = row.kind
    day = today - dt.timedelta(days=1)
    while calendar_rules.add_working_days(day, n, holidays, transfers) >= today:
        day -= dt.timedelta(days=1)
    return day


def undelivered():
    """A notice sent on paper whose receipt is not recorded yet (its terms do not run)."""
    return and_(Hearing.status == "notified", Hearing.earliest_act_on.is_(None))


def late_notice(session: Session, today: dt.date):
    """A drafted preliminary decision not sent to the person within ``NOTICE_WITHIN``, or a
    paper notice whose receipt is not recorded within as many working days of its sending."""
    _start, end = clock.local_day_bounds(last_late_day(session, today, NOTICE_WITHIN))
    return or_(
        and_(Hearing.status == "drafted", Hearing.drafted_at < end),
        and_(undelivered(), Hearing.notified_at < end),
    )


def late_oral_hearing(today: dt.date):
    """An oral hearing asked for and not held by the earliest day of the act."""
    return and_(
        Hearing.status == "notified",
        Hearing.oral_requested_at.is_not(None),
        Hearing.earliest_act_on < today,
    )


def late_act(session: Session, today: dt.date):
    """A heard or notified case whose act is neither adopted nor withdrawn in ``ACT_WITHIN``."""
    return and_(
        Hearing.status.in_(("notified", "heard")),
        Hearing.earliest_act_on <= last_late_day(session, today, ACT_WITHIN),
    )


def late_forwarding(today: dt.date):
    """A complaint the issuing body neither granted nor forwarded within 3 working days."""
    return and_(
        Complaint.status == "registered",
        Complaint.kind != "police",
        Complaint.forward_due_on < today,
    )


def late_review(today: dt.date):
    """A forwarded complaint the review body has not decided within 20 working days."""
    return and_(Complaint.status == "forwarded", Complaint.review_due_on < today)


def hearings_to_notify(session: Session, scopes: dict[str, Scope], today: dt.date) -> Waiting:
    """Preliminary decisions still to send to the person (or to adopt by exception), and paper
    notices whose receipt is to be recorded."""
    stmt = select(Hearing.id).where(
        or_(Hearing.status == "drafted", undelivered()),
        _of_kinds(scopes, Hearing.act_kind, Hearing.unit_id),
    )
    return counted(session, "hearings_to_notify", stmt, late_notice(session, today))


def oral_hearings_to_hold(session: Session, scopes: dict[str, Scope], today: dt.date) -> Waiting:
    """Oral hearings the person asked for and whose protocol is not recorded yet."""
    stmt = select(Hearing.id).where(
        Hearing.status == "notified",
        Hearing.oral_requested_at.is_not(None),
        _of_kinds(scopes, Hearing.act_kind, Hearing.unit_id),
    )
    return counted(session, "oral_hearings_to_hold", stmt, late_oral_hearing(today))


def hearings_to_adopt(session: Session, scopes: dict[str, Scope], today: dt.date) -> Waiting:
    """Hearings whose act may be adopted from today (``earliest_act_on``, as ``hearings.adopt``
    checks): the act is to be adopted or the draft withdrawn."""
    stmt = select(Hearing.id).where(
        Hearing.status.in_(("notified", "heard")),
        Hearing.earliest_act_on <= today,
        or_(Hearing.status == "heard", Hearing.oral_requested_at.is_(None)),
        _of_kinds(scopes, Hearing.act_kind, Hearing.unit_id),
    )
    return counted(session, "hearings_to_adopt", stmt, late_act(session, today))


def complaints_to_forward(session: Session, scopes: dict[str, Scope], today: dt.date) -> Waiting:
    """Complaints against the body's acts or inaction to grant in full or forward (3 wd)."""
    stmt = select(Complaint.id).where(
        Complaint.status == "registered",
        Complaint.kind != "police",
        _of_kinds(scopes, Complaint.act_kind, Complaint.unit_id, Complaint.subject_type),
    )
    return counted(session, "complaints_to_forward", stmt, late_forwarding(today))


def police_complaints(session: Session, scope: Scope) -> Waiting:
    """Complaints against police refusals whose outcome from the police is not recorded yet."""
    stmt = select(Complaint.id).where(
        Complaint.status == "registered",
        Complaint.kind == "police",
        scope.clause(Complaint.unit_id),
    )
    return counted(session, "police_complaints", stmt)


# The review count's statement per (user, grants, day). Every home page of every official reads
# it, and building ``reviewable_by``'s subqueries took a sixth of a volunteer's home page (issue
# 16); the statement holds only values, no loaded record, and is the same until one changes.
_REVIEW_COUNTS: dict[tuple, Select] = {}
_REVIEW_COUNTS_LIMIT = 1024  # statements kept before the cache starts afresh


def _review_counts(user, today: dt.date) -> Select:
    grants = tuple(sorted((g.role, g.unit_id) for g in user.grants))
    key = (user.id, grants, today)
    found = _REVIEW_COUNTS.get(key)
    if found is None:
        if len(_REVIEW_COUNTS) >= _REVIEW_COUNTS_LIMIT:
            _REVIEW_COUNTS.clear()
        forwarded = select(Complaint.id).where(
            Complaint.status == "forwarded", queries.reviewable_by(user)
        )
        found = _REVIEW_COUNTS[key] = counts(forwarded, late_review(today))
    return found


def complaints_to_review(session: Session, user, today: dt.date) -> Waiting:
    """Forwarded complaints ``user`` is to decide (20 working days from the forwarding)."""
    total, overdue = session.execute(_review_counts(user, today)).one()
    return Waiting("complaints_to_review", total, overdue or 0)


def for_user(session: Session, user, today: dt.date) -> list[Waiting]:
    """Return the appeals lines of ``user``'s roles, in working order (none for a citizen)."""
    roles = user.roles()
    found: list[Waiting] = []
    scopes = act_scopes(user)
    if any(not s.is_nothing for s in scopes.values()):
        found.append(hearings_to_notify(session, scopes, today))
        found.append(oral_hearings_to_hold(session, scopes, today))
        found.append(hearings_to_adopt(session, scopes, today))
        found.append(complaints_to_forward(session, scopes, today))
    if "coordinator" in roles:
        found.append(police_complaints(session, Scope.of(user, "coordinator")))
    if roles:
        # A named official reviews whatever their role: shown when something waits on them.
        review = complaints_to_review(session, user, today)
        if "reviewer" in roles or review.count:
            found.append(review)
    return found
