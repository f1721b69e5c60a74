"""Deputies' inquiries: ask about a record, answer from the akimat, close or follow up.

A deputy asks about a budget line, a maslikhat decision, a commission session or a payout of
their jurisdiction; the akimat side (the commission's secretary or a finance officer over that
unit) answers by the deadline; the deputy closes the inquiry or reopens it with a follow-up.
Every change is audited and the deputy is told of each answer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from budget.models import BudgetLine, BudgetProgram, MaslikhatDecision
from core import accounts, audit, calendar
from core.db import utcnow
from core.errors import N_, Conflict, DomainError, NotFound, PermissionDenied
from core.notifications import queue_message
from core.queries import with_units
from core.scope import Scope
from core.transitions import advance
from incentives.inquiry_models import OBJECT_TYPES, Inquiry, InquiryMessage
from incentives.models import AgendaItem, Commission, CommissionSession
from incentives.workflow import INQUIRY

# [I] The akimat answers a deputy's inquiry within this many working days (configurable).
ANSWER_WORKING_DAYS = 10
TEXT_LIMIT = 5000
ANSWERED_KIND = "inquiry.answered"


@dataclasses.dataclass(frozen=True)
class Target:
    """The record an inquiry is about: its kind, id and jurisdiction."""

    object_type: str
    object_id: int
    unit_id: int


def resolve_target(session: Session, object_type: str, object_id: int) -> Target:
    """Find the record and its jurisdiction, or raise NotFound."""
    unit_id = None
    if object_type == "budget_line":
        unit_id = session.scalar(
            select(BudgetProgram.unit_id)
            .join(BudgetLine, BudgetLine.program_id == BudgetProgram.id)
            .where(BudgetLine.id == object_id)
        )
    elif object_type == "maslikhat_decision":
        unit_id = session.scalar(
            select(MaslikhatDecision.unit_id).where(MaslikhatDecision.id == object_id)
        )
    elif object_type == "commission_session":
        unit_id = session.scalar(
            select(Commission.unit_id)
            .join(CommissionSession, CommissionSession.commission_id == Commission.id)
            .where(CommissionSession.id == object_id)
        )
    elif object_type == "payout":
        # A payout's page is the approved agenda item's: the inquiry points at the item.
        unit_id = session.scalar(
            select(Commission.unit_id)
            .join(CommissionSession, CommissionSession.commission_id == Commission.id)
            .join(AgendaItem, AgendaItem.session_id == CommissionSession.id)
            .where(AgendaItem.id == object_id, AgendaItem.outcome == "approved")
        )
    if object_type not in OBJECT_TYPES or unit_id is None:
        raise NotFound(N_("No such record."))
    return Target(object_type, object_id, unit_id)


def _text(value: str | None, missing: str) -> str:
    cleaned = (value or "").strip()
    if not cleaned:
        raise DomainError(missing)
    if len(cleaned) > TEXT_LIMIT:
        raise DomainError(
            N_("The text is too long: at most %(limit)s characters."), limit=TEXT_LIMIT
        )
    return cleaned


def get_inquiry(session: Session, inquiry_id: int) -> Inquiry:
    """Return the inquiry or raise NotFound."""
    found = session.get(Inquiry, inquiry_id)
    if found is None:
        raise NotFound(N_("No such inquiry."))
    return found


def _message(session, inquiry: Inquiry, kind: str, body: str, author_id: int, now) -> None:
    session.add(
        InquiryMessage(inquiry_id=inquiry.id, kind=kind, body=body, author_id=author_id, at=now)
    )
    session.flush()


def _audit(session, inquiry: Inquiry, action: str, actor_id: int, now, **extra) -> None:
    audit.record(
        session,
        action=action,
        object_type="inquiry",
        object_id=inquiry.id,
        actor_id=actor_id,
        payload={
            "object_type": inquiry.object_type,
            "object_id": str(inquiry.object_id),
            "status": inquiry.status,
            "deadline": inquiry.deadline.isoformat(),
            **extra,
        },
        now=now,
    )


def ask(
    session: Session,
    *,
    object_type: str,
    object_id: int,
    text: str | None,
    deputy_id: int,
    scope: Scope,
    today: dt.date,
    now: dt.datetime | None = None,
) -> Inquiry:
    """Record a deputy's question on a record of their jurisdiction; the deadline runs from today.

    ``scope`` is where the deputy holds the deputy role.
    """
    now = now or utcnow()
    body = _text(text, N_("Write the question."))
    target = resolve_target(session, object_type, object_id)
    if not scope.contains(session, target.unit_id):
        raise NotFound(N_("No such record."))
    inquiry = Inquiry(
        unit_id=target.unit_id,
        object_type=target.object_type,
        object_id=target.object_id,
        deputy_id=deputy_id,
        status="open",
        deadline=calendar.add_working_days(session, today, ANSWER_WORKING_DAYS),
        created_at=now,
    )
    session.add(inquiry)
    session.flush()
    _message(session, inquiry, "question", body, deputy_id, now)
    _audit(session, inquiry, "inquiry.ask", deputy_id, now)
    return inquiry


def answer(
    session: Session,
    *,
    inquiry_id: int,
    text: str | None,
    actor_id: int,
    scope: Scope,
    now: dt.datetime | None = None,
) -> Inquiry:
    """Record the akimat's answer and tell the deputy.

    ``scope`` is where the actor holds the secretary or finance role; a deputy
    holds neither, so a deputy's answer is refused.
    """
    now = now or utcnow()
    inquiry = get_inquiry(session, inquiry_id)
    if actor_id == inquiry.deputy_id or not scope.contains(session, inquiry.unit_id):
        raise PermissionDenied(
            N_("Only the commission's secretary or a finance officer of the akimat answers.")
        )
    if inquiry.status == "closed":
        raise Conflict(N_("The inquiry is closed: the deputy may reopen it with a follow-up."))
    body = _text(text, N_("Write the answer."))
    advance(session, INQUIRY, inquiry, "answer", values={"answered_at": now})
    _message(session, inquiry, "answer", body, actor_id, now)
    _audit(session, inquiry, "inquiry.answer", actor_id, now)
    deputy = accounts.get_user(session, inquiry.deputy_id)
    queue_message(
        session,
        user_id=deputy.id,
        email=deputy.email,
        kind=ANSWERED_KIND,
        params={"inquiry_id": inquiry.id},
        language=deputy.preferred_language,
    )
    return inquiry


def _own(session: Session, inquiry_id: int, actor_id: int) -> Inquiry:
    inquiry = get_inquiry(session, inquiry_id)
    if inquiry.deputy_id != actor_id:
        raise PermissionDenied(N_("Only the deputy who asked may close or reopen the inquiry."))
    return inquiry


def close(
    session: Session, *, inquiry_id: int, actor_id: int, now: dt.datetime | None = None
) -> Inquiry:
    """Close the inquiry: the deputy who asked is satisfied (or gives up)."""
    now = now or utcnow()
    inquiry = _own(session, inquiry_id, actor_id)
    if inquiry.status == "closed":
        raise Conflict(N_("The inquiry is already closed."))
    advance(session, INQUIRY, inquiry, "close", values={"closed_at": now})
    _audit(session, inquiry, "inquiry.close", actor_id, now)
    return inquiry


def follow_up(
    session: Session,
    *,
    inquiry_id: int,
    text: str | None,
    actor_id: int,
    today: dt.date,
    now: dt.datetime | None = None,
) -> Inquiry:
    """Ask again on the same inquiry: it is open once more with a new deadline."""
    now = now or utcnow()
    inquiry = _own(session, inquiry_id, actor_id)
    body = _text(text, N_("Write the question."))
    advance(
        session,
        INQUIRY,
        inquiry,
        "follow_up",
        values={
            "closed_at": None,
            "deadline": calendar.add_working_days(session, today, ANSWER_WORKING_DAYS),
        },
    )
    _message(session, inquiry, "follow_up", body, actor_id, now)
    _audit(session, inquiry, "inquiry.follow_up", actor_id, now)
    return inquiry


def asked_by(
    session: Session, deputy_id: int, *, limit: int | None = None, offset: int = 0
) -> list[Inquiry]:
    """Return a deputy's inquiries, newest first (a page of them with ``limit``)."""
    return list(
        session.scalars(
            select(Inquiry)
            .where(Inquiry.deputy_id == deputy_id)
            .order_by(Inquiry.id.desc())
            .offset(offset)
            .limit(limit)
        )
    )


def count_asked_by(session: Session, deputy_id: int) -> int:
    """Return how many inquiries a deputy has asked."""
    return session.scalar(select(func.count()).where(Inquiry.deputy_id == deputy_id))


def _queue_query(scope: Scope, include_closed: bool):
    query = with_units(select(Inquiry), Inquiry.unit_id, scope)
    if not include_closed:
        query = query.where(Inquiry.status != "closed")
    return query


def queue(
    session: Session,
    scope: Scope,
    *,
    include_closed: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[Inquiry]:
    """Return the inquiries of the units in ``scope``: waiting ones first, by deadline."""
    if scope.is_nothing:
        return []
    waiting_first = case((Inquiry.status == "open", 0), else_=1)
    return list(
        session.scalars(
            _queue_query(scope, include_closed)
            .order_by(waiting_first, Inquiry.deadline, Inquiry.id)
            .offset(offset)
            .limit(limit)
        )
    )


def count_queue(session: Session, scope: Scope, *, include_closed: bool = False) -> int:
    """Return how many inquiries ``queue`` lists in all."""
    if scope.is_nothing:
        return 0
    query = _queue_query(scope, include_closed)
    return session.scalar(select(func.count()).select_from(query.subquery()))


def for_record(session: Session, object_type: str, object_id: int) -> list[Inquiry]:
    """Return the inquiries attached to one record, newest first."""
    return list(
        session.scalars(
            select(Inquiry)
            .where(Inquiry.object_type == object_type, Inquiry.object_id == object_id)
            .order_by(Inquiry.id.desc())
        )
    )
