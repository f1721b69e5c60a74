"""What waits on one person: the counts behind each role's to-do home page, read through scopes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, bindparam, exists, func, literal, or_, select, true
from sqlalchemy.orm import Session

from budget import queries as budget_queries
from budget.models import MaslikhatDecision
from core.queries import with_units
from core.scope import Scope
from core.waiting import Waiting, counted
from incentives.inquiry_models import Inquiry
from incentives.models import (
    AgendaItem,
    Attendance,
    Commission,
    CommissionMember,
    CommissionSession,
    Nomination,
    Payout,
    Vote,
)
from incentives.nominations import quarter_bounds
from incentives.payout_guards import LIVE
from volunteers import queries as volunteer_queries
from volunteers.activity_models import OPEN_SIGNUP_STATUSES, Contribution, Shift, Signup
from volunteers.models import Application, Member


def police_checks(session: Session, scope: Scope, today: dt.date) -> Waiting:
    """Applications waiting for the police check; late once the legal term has passed."""
    stmt = volunteer_queries.applications(scope).where(
        Application.status.in_(("submitted", "police_check"))
    )
    return counted(session, "police_checks", stmt, Application.police_due_on < today)


def registrations(session: Session, scope: Scope, today: dt.date) -> Waiting:
    """Vetted applications (the police's petition received) waiting to enter the register."""
    stmt = volunteer_queries.applications(scope).where(Application.status == "petitioned")
    return counted(session, "registrations", stmt, Application.registration_due_on < today)


def contributions(session: Session, scope: Scope, user_id: int) -> Waiting:
    """Logged contributions this person may decide: four eyes, so never their own entries."""
    stmt = volunteer_queries.contributions_to_confirm(scope).where(
        or_(Contribution.logged_by_id.is_(None), Contribution.logged_by_id != user_id)
    )
    return counted(session, "contributions", stmt)


def votes(session: Session, user_id: int) -> Waiting:
    """Agenda items of open sittings where this member is present and has not voted yet."""
    seat_ids = select(CommissionMember.id).where(CommissionMember.user_id == user_id)
    stmt = (
        select(AgendaItem.id)
        .join(CommissionSession, AgendaItem.session_id == CommissionSession.id)
        .join(Attendance, Attendance.session_id == CommissionSession.id)
        .where(
            CommissionSession.status == "open",
            Attendance.present,
            Attendance.commission_member_id.in_(seat_ids),
            ~exists().where(
                Vote.item_id == AgendaItem.id,
                Vote.commission_member_id == Attendance.commission_member_id,
            ),
        )
    )
    return counted(session, "votes", stmt)


def _sittings(scope: Scope, status: str) -> Select:
    return with_units(
        select(CommissionSession.id).join(
            Commission, CommissionSession.commission_id == Commission.id
        ),
        Commission.unit_id,
        scope,
    ).where(CommissionSession.status == status)


def sittings_to_close(session: Session, scope: Scope, today: dt.date) -> Waiting:
    """Open sittings the secretary is to close; late when held before today."""
    return counted(
        session, "sittings_to_close", _sittings(scope, "open"), CommissionSession.held_on < today
    )


def minutes_to_finalize(session: Session, scope: Scope) -> Waiting:
    """Closed sittings whose minutes are not final yet."""
    return counted(session, "minutes_to_finalize", _sittings(scope, "closed"))


def decisions_to_verify(session: Session, scope: Scope, user_id: int) -> Waiting:
    """Maslikhat decisions entered by another officer, waiting for the second pair of eyes."""
    stmt = budget_queries.decisions(scope).where(
        MaslikhatDecision.status == "entered", MaslikhatDecision.entered_by_id != user_id
    )
    return counted(session, "decisions_to_verify", stmt)


def payouts_to_make(session: Session, scope: Scope) -> Waiting:
    """Approved rewards with final minutes and the akimat's act and no settled payout yet."""
    stmt = with_units(
        select(AgendaItem.id)
        .join(CommissionSession, AgendaItem.session_id == CommissionSession.id)
        .join(Commission, CommissionSession.commission_id == Commission.id),
        Commission.unit_id,
        scope,
    ).where(
        AgendaItem.outcome == "approved",
        CommissionSession.status == "minutes_final",
        CommissionSession.act_number.is_not(None),
        ~exists().where(Payout.item_id == AgendaItem.id, Payout.status.in_((*LIVE, "voided"))),
    )
    return counted(session, "payouts_to_make", stmt)


def inquiries_to_answer(session: Session, scope: Scope, today: dt.date) -> Waiting:
    """Deputies' inquiries of ``scope`` still owed an answer; late after their deadline."""
    stmt = with_units(select(Inquiry.id), Inquiry.unit_id, scope).where(Inquiry.status == "open")
    return counted(session, "inquiries_to_answer", stmt, Inquiry.deadline < today)


def answers_to_read(session: Session, deputy_id: int) -> Waiting:
    """A deputy's inquiries answered and not yet closed: the deputy reads and closes them."""
    stmt = select(Inquiry.id).where(Inquiry.deputy_id == deputy_id, Inquiry.status == "answered")
    return counted(session, "answers_to_read", stmt)


@dataclass(frozen=True)
class NextShift:
    """What the head of a volunteer's page shows of their next shift."""

    starts_at: dt.datetime
    place: str


@dataclass(frozen=True)
class VolunteerSummary:
    """A volunteer's own page head: the next shift, hours this quarter, rewards approved."""

    next_shift: NextShift | None
    minutes_this_quarter: int
    rewards: int


def _volunteer_summary_statement() -> Select:
    """One statement for the three figures, built once: every volunteer's home page reads it.

    Three statements built per request cost the home page a third of its CPU (issue 16). The
    next shift is a subquery of at most one row, joined to a one-row select so that the two
    sums come back when there is no shift.
    """
    members = select(Member.id).where(Member.user_id == bindparam("user_id"))
    next_shift = (
        select(Shift.starts_at, Shift.place)
        .join(Signup, Signup.shift_id == Shift.id)
        .where(
            Signup.member_id.in_(members),
            Signup.status.in_(OPEN_SIGNUP_STATUSES),
            Shift.status == "planned",
            Shift.ends_at > bindparam("now"),
        )
        .order_by(Shift.starts_at)
        .limit(1)
        .subquery("next_shift")
    )
    minutes = (
        select(func.coalesce(func.sum(Contribution.minutes), 0))
        .where(
            Contribution.member_id.in_(members),
            Contribution.status == "confirmed",
            Contribution.occurred_on >= bindparam("since"),
        )
        .scalar_subquery()
    )
    rewards = (
        select(func.count())
        .select_from(AgendaItem)
        .join(Nomination, AgendaItem.nomination_id == Nomination.id)
        .where(
            AgendaItem.outcome == "approved",
            or_(
                Nomination.member_id.in_(members),
                Nomination.recipient_user_id == bindparam("user_id"),
            ),
        )
        .scalar_subquery()
    )
    one = select(literal(1).label("one")).subquery("one")
    return select(next_shift.c.starts_at, next_shift.c.place, minutes, rewards).select_from(
        one.outerjoin(next_shift, true())
    )


_VOLUNTEER_SUMMARY = _volunteer_summary_statement()


def volunteer_summary(
    session: Session, user_id: int, now: dt.datetime, today: dt.date
) -> VolunteerSummary:
    """Read what a volunteer sees first, across every membership of their account."""
    since, _last = quarter_bounds(today.year, (today.month - 1) // 3 + 1)
    starts_at, place, minutes, rewards = session.execute(
        _VOLUNTEER_SUMMARY, {"user_id": user_id, "now": now, "since": since}
    ).one()
    next_shift = None if starts_at is None else NextShift(starts_at, place)
    return VolunteerSummary(next_shift, int(minutes or 0), int(rewards or 0))
