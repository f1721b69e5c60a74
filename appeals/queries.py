"""Scoped reads of hearings and complaints, shared by pages, reports, to-do lists and the demo."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from sqlalchemy import and_, func, not_, or_, select
from sqlalchemy.orm import Session

from appeals.hearings import ACT_ROLES
from appeals.models import OVERTURNING, Complaint, Hearing
from core import accounts
from core.audit import AuditEvent
from core.scope import Scope
from incentives.models import Nomination
from incentives.workflow import NOMINATION
from volunteers import persons


@dataclass
class PersonCases:
    """The hearings and complaints of one person, newest first."""

    hearings: list[Hearing] = field(default_factory=list)
    complaints: list[Complaint] = field(default_factory=list)


# The most rows a list returns when the caller names no limit (pages use portal.paging).
LIST_LIMIT = 500


def hearings_for(
    session: Session,
    scope: Scope,
    status: str | None = None,
    *,
    limit: int = LIST_LIMIT,
    offset: int = 0,
) -> list[Hearing]:
    """Return the hearings of ``scope`` (of one status if given), newest first, at most
    ``limit`` of them from ``offset``."""
    stmt = select(Hearing).where(scope.clause(Hearing.unit_id))
    if status is not None:
        stmt = stmt.where(Hearing.status == status)
    stmt = stmt.order_by(Hearing.drafted_at.desc(), Hearing.id.desc())
    return list(session.scalars(stmt.limit(limit).offset(offset)))


def complaints_for(
    session: Session,
    scope: Scope,
    status: str | None = None,
    *,
    limit: int = LIST_LIMIT,
    offset: int = 0,
) -> list[Complaint]:
    """Return the complaints against acts or inaction of ``scope``, newest first, at most
    ``limit`` of them from ``offset``."""
    stmt = select(Complaint).where(scope.clause(Complaint.unit_id))
    if status is not None:
        stmt = stmt.where(Complaint.status == status)
    stmt = stmt.order_by(Complaint.filed_at.desc(), Complaint.id.desc())
    return list(session.scalars(stmt.limit(limit).offset(offset)))


def complaints_of_hearing(session: Session, hearing_id: int) -> list[Complaint]:
    """Return the complaints against the act of one hearing, oldest first (the hearing page:
    the caller has checked the hearing is in its scope; its complaints share its unit)."""
    return list(
        session.scalars(
            select(Complaint)
            .where(Complaint.hearing_id == hearing_id)
            .order_by(Complaint.filed_at, Complaint.id)
        )
    )


def overturn_blocked(session: Session, complaint_id: int) -> str | None:
    """Return the reason code of a decided overturn the record could not follow (audited as
    "complaint.overturn_blocked" by appeals.effects), or None."""
    payload = session.scalar(
        select(AuditEvent.payload)
        .where(
            AuditEvent.object_type == "complaint",
            AuditEvent.object_id == str(complaint_id),
            AuditEvent.action == "complaint.overturn_blocked",
        )
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    )
    if payload is None:
        return None
    if isinstance(payload, str):
        payload = json.loads(payload)
    return payload.get("reason")


def inaction_author_clause(user: accounts.User):
    """A SQL condition: ``user`` is not among the officials an inaction complaint concerns
    (holders of the registration roles over its unit, Art. 97(2))."""
    return or_(
        Complaint.kind != "inaction",
        not_(Scope.of(user, *ACT_ROLES["refuse_registration"]).clause(Complaint.unit_id)),
    )


def reviewable_by(user: accounts.User):
    """A SQL condition: ``user`` reviews the complaint (named as the official, or holding the
    role ``reviewer`` over the review unit) and neither authored the act or the inaction it is
    about (Art. 97(2)) nor is its complainant: by account or by an IIN linked to the account
    (``volunteers.persons``). The one rule of the review queue, the to-do count and (for one
    complaint) ``appeals.complaints.can_review``."""
    authored = select(Hearing.id).where(
        or_(Hearing.drafted_by_id == user.id, Hearing.adopted_by_id == user.id)
    )
    return and_(
        or_(
            Complaint.reviewer_id == user.id,
            Scope.of(user, "reviewer").clause(Complaint.review_unit_id),
        ),
        or_(Complaint.hearing_id.is_(None), Complaint.hearing_id.not_in(authored)),
        inaction_author_clause(user),
        or_(Complaint.person_user_id.is_(None), Complaint.person_user_id != user.id),
        or_(
            Complaint.person_key.is_(None),
            Complaint.person_key.not_in(persons.keys_select(user.id)),
        ),
    )


def complaints_to_review(session: Session, user: accounts.User) -> list[Complaint]:
    """Return the forwarded complaints ``user`` reviews (``reviewable_by``)."""
    if not user.is_active:
        return []
    stmt = select(Complaint).where(Complaint.status == "forwarded", reviewable_by(user))
    return list(session.scalars(stmt.order_by(Complaint.review_due_on, Complaint.id)))


def cases_of_person(session: Session, user_id: int) -> PersonCases:
    """Return the hearings and complaints of the signed-in person: by their account, or by
    any IIN linked to it (volunteers.persons), so a walk-in entry's case is theirs too."""
    keys = persons.keys_of(session, [user_id]).get(user_id, set())
    hearing_is_mine = [Hearing.person_user_id == user_id]
    complaint_is_mine = [Complaint.person_user_id == user_id]
    if keys:
        hearing_is_mine.append(Hearing.person_key.in_(keys))
        complaint_is_mine.append(Complaint.person_key.in_(keys))
    hearings = session.scalars(
        select(Hearing)
        # A draft is the official's until the person is notified of it (Art. 73(1)).
        .where(or_(*hearing_is_mine), Hearing.status != "drafted")
        .order_by(Hearing.drafted_at.desc(), Hearing.id.desc())
    )
    complaints = session.scalars(
        select(Complaint)
        .where(or_(*complaint_is_mine))
        .order_by(Complaint.filed_at.desc(), Complaint.id.desc())
    )
    return PersonCases(list(hearings), list(complaints))


def complaints_about_sitting_decisions(
    session: Session,
    commission_id: int,
    since: dt.datetime,
    until: dt.datetime | None = None,
) -> list[Complaint]:
    """Return the complaints filed in [``since``, ``until``) about the commission's reward
    decisions, to list in the minutes of its next session. Pass ``until`` (that session's
    closing) so that a complaint appears in one set of minutes only."""
    stmt = (
        select(Complaint)
        .join(Nomination, Nomination.id == Complaint.subject_id)
        .where(
            Complaint.subject_type == "nomination",
            Nomination.commission_id == commission_id,
            Complaint.filed_at >= since,
        )
    )
    if until is not None:
        stmt = stmt.where(Complaint.filed_at < until)
    return list(session.scalars(stmt.order_by(Complaint.filed_at, Complaint.id)))


def returned_nominations(session: Session, commission_id: int) -> list[int]:
    """Return the commission's nominations that a granted or overturning complaint sent back
    and that wait for an agenda, the earliest decision first."""
    decided = func.coalesce(Complaint.decided_at, Complaint.filed_at)
    rows = session.execute(
        select(Nomination.id, func.min(decided))
        .join(Complaint, Complaint.subject_id == Nomination.id)
        .where(
            Complaint.subject_type == "nomination",
            or_(Complaint.status == "granted", Complaint.outcome.in_(OVERTURNING)),
            Nomination.commission_id == commission_id,
            Nomination.status.in_(NOMINATION.step("put_on_agenda").sources),
        )
        .group_by(Nomination.id)
        .order_by(func.min(decided), Nomination.id)
    ).all()
    return [row[0] for row in rows]
