"""Commission sessions: agenda, attendance and quorum, votes and recusals, closing, minutes, act."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from budget import ledger
from budget.models import BudgetLine, BudgetProgram
from core import audit, notifications
from core.accounts import User
from core.errors import N_, Conflict, DomainError, NotFound, PermissionDenied
from core.money import format_tiyn
from incentives import policy as policies
from incentives.models import (
    CHOICES,
    MONEY_FORMS,
    AgendaItem,
    Attendance,
    CommissionMember,
    CommissionSession,
    Nomination,
    NominationContribution,
    Vote,
)
from volunteers.models import Member


def get_session(session: Session, session_id: int) -> CommissionSession:
    """Return the commission session or raise NotFound."""
    found = session.get(CommissionSession, session_id)
    if found is None:
        raise NotFound(N_("No such session."))
    return found


def _require(sitting: CommissionSession, *statuses: str) -> None:
    if sitting.status not in statuses:
        raise Conflict(
            N_("The session is “%(status)s”: this cannot be done now."), status=sitting.status
        )


def plan(
    session: Session,
    *,
    commission_id: int,
    held_on: dt.date,
    place: str,
    on_paper: bool,
    actor_id: int,
) -> CommissionSession:
    """Plan a session of the commission."""
    policies.get_commission(session, commission_id)
    place = " ".join((place or "").split())
    if not place:
        raise DomainError(N_("Where does the commission meet?"))
    sitting = CommissionSession(
        commission_id=commission_id,
        held_on=held_on,
        place=place,
        on_paper=on_paper,
        status="planned",
        planned_by_id=actor_id,
    )
    session.add(sitting)
    session.flush()
    audit.record(
        session,
        action="session.plan",
        object_type="commission_session",
        object_id=sitting.id,
        actor_id=actor_id,
        payload={"held_on": held_on.isoformat(), "place": place, "on_paper": on_paper},
    )
    return sitting


def add_to_agenda(
    session: Session, *, session_id: int, nomination_ids: list[int], actor_id: int
) -> int:
    """Put submitted nominations of the commission on a planned session's agenda."""
    sitting = get_session(session, session_id)
    _require(sitting, "planned")
    position = session.scalar(
        select(func.coalesce(func.max(AgendaItem.position), 0)).where(
            AgendaItem.session_id == session_id
        )
    )
    added = 0
    for nomination_id in nomination_ids:
        moved = session.execute(
            update(Nomination)
            .where(
                Nomination.id == nomination_id,
                Nomination.commission_id == sitting.commission_id,
                Nomination.status.in_(("submitted", "deferred")),
            )
            .values(status="on_agenda")
            .execution_options(synchronize_session=False)
        ).rowcount
        if not moved:
            raise Conflict(
                N_("Nomination No. %(id)s is not waiting for this commission."), id=nomination_id
            )
        position += 1
        session.add(
            AgendaItem(session_id=session_id, nomination_id=nomination_id, position=position)
        )
        added += 1
    session.flush()
    audit.record(
        session,
        action="session.agenda",
        object_type="commission_session",
        object_id=session_id,
        actor_id=actor_id,
        payload={"added": sorted(nomination_ids)},
    )
    return added


def quorum_needed(total: int, numerator: int, denominator: int) -> int:
    """Return how many members must be present: the policy's fraction, rounded up."""
    return -(-total * numerator // denominator)


def open_session(
    session: Session, *, session_id: int, present_ids: set[int], actor_id: int, now: dt.datetime
) -> CommissionSession:
    """Record attendance and open the session; recuse nominators and nominees automatically."""
    sitting = get_session(session, session_id)
    _require(sitting, "planned")
    if not sitting.items:
        raise Conflict(N_("Put at least one nomination on the agenda first."))
    members = policies.members_on(session, sitting.commission_id, sitting.held_on)
    if not members:
        raise Conflict(N_("The commission has no members on the day of the session."))
    unknown = present_ids - {m.id for m in members}
    if unknown:
        raise DomainError(N_("Only members of the commission can be marked present."))
    for member in members:
        session.add(
            Attendance(
                session_id=session_id,
                commission_member_id=member.id,
                present=member.id in present_ids,
            )
        )
    rule = policies.policy_in_force(session, sitting.commission.unit_id, sitting.held_on)
    needed = quorum_needed(len(members), rule.quorum_numerator, rule.quorum_denominator)
    sitting.quorum_met = len(present_ids) >= needed
    sitting.status = "open"
    sitting.opened_at = now
    session.flush()
    for item in sitting.items:
        nominee_user = item.nomination.recipient_user
        for member in members:
            if member.id not in present_ids:
                continue
            reason = None
            if member.user_id == item.nomination.nominator_id:
                reason = "nominator"
            elif nominee_user is not None and member.user_id == nominee_user:
                reason = "nominee"
            if reason:
                _record_vote(
                    session, item, member, "recused", reason, member.user_id, automatic=True
                )
    audit.record(
        session,
        action="session.open",
        object_type="commission_session",
        object_id=session_id,
        actor_id=actor_id,
        payload={
            "present": sorted(present_ids),
            "members": len(members),
            "needed": needed,
            "quorum_met": sitting.quorum_met,
        },
    )
    return sitting


def _record_vote(session, item, member, choice, reason, entered_by_id, automatic=False):
    try:
        with session.begin_nested():
            vote = Vote(
                item_id=item.id,
                commission_member_id=member.id,
                choice=choice,
                reason=reason,
                automatic=automatic,
                entered_by_id=entered_by_id,
            )
            session.add(vote)
            session.flush()
    except IntegrityError:
        raise Conflict(N_("This member has already voted on this item or is recused.")) from None
    return vote


def present_members(session: Session, session_id: int) -> list[CommissionMember]:
    """Return the members recorded present at a session."""
    return list(
        session.scalars(
            select(CommissionMember)
            .join(Attendance, Attendance.commission_member_id == CommissionMember.id)
            .where(Attendance.session_id == session_id, Attendance.present)
            .order_by(CommissionMember.id)
        )
    )


def vote(
    session: Session,
    *,
    item_id: int,
    commission_member_id: int,
    choice: str,
    reason: str | None,
    entered_by_id: int,
) -> None:
    """Record a vote: the member's own, or the secretary's entry for a session on paper."""
    item = session.get(AgendaItem, item_id)
    if item is None:
        raise NotFound(N_("No such agenda item."))
    sitting = item.session
    _require(sitting, "open")
    if choice not in CHOICES:
        raise DomainError(N_("Vote for, against or abstain, or recuse yourself with a reason."))
    reason = (reason or "").strip() or None
    if choice == "recused" and not reason:
        raise DomainError(N_("Write the reason for the recusal."))
    member = session.get(CommissionMember, commission_member_id)
    present = {m.id for m in present_members(session, sitting.id)}
    if member is None or member.commission_id != sitting.commission_id:
        raise NotFound(N_("No such commission member."))
    if member.id not in present:
        raise Conflict(N_("Only members present at the session vote."))
    if sitting.on_paper:
        secretary = next(
            (
                m
                for m in policies.members_on(session, sitting.commission_id, sitting.held_on)
                if m.role == "secretary"
            ),
            None,
        )
        if secretary is None or secretary.user_id != entered_by_id:
            raise PermissionDenied(N_("On a paper session only the secretary enters the votes."))
    elif member.user_id != entered_by_id:
        raise PermissionDenied(N_("Members vote for themselves."))
    _record_vote(session, item, member, choice, reason, entered_by_id)
    audit.record(
        session,
        action="session.vote",
        object_type="agenda_item",
        object_id=item_id,
        actor_id=entered_by_id,
        payload={"member": member.id, "choice": choice, "on_paper": sitting.on_paper},
    )


def _line_for(session: Session, unit_id: int, year: int, purpose: str) -> BudgetLine | None:
    return session.scalar(
        select(BudgetLine)
        .join(BudgetProgram, BudgetProgram.id == BudgetLine.program_id)
        .where(
            BudgetProgram.unit_id == unit_id,
            BudgetProgram.fiscal_year == year,
            BudgetLine.purpose == purpose,
        )
        .order_by(BudgetLine.id)
    )


def _paid_this_year(session: Session, iin: str, year: int) -> int:
    """Money already awarded to the person (by IIN, any membership) in the calendar year."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(Nomination.amount_tiyn), 0))
            .join(Member, Member.id == Nomination.member_id)
            .where(
                Member.iin == iin,
                Nomination.year == year,
                Nomination.status == "approved",
                Nomination.form.in_(MONEY_FORMS),
            )
        )
    )


def _tally(session: Session, item: AgendaItem, present: list[CommissionMember]) -> dict:
    # Read from the database: a loaded ``item.votes`` may predate votes cast since.
    choices = dict(
        session.execute(
            select(Vote.commission_member_id, Vote.choice).where(Vote.item_id == item.id)
        ).all()
    )
    missing = [m for m in present if m.id not in choices]
    if missing:
        raise Conflict(
            N_("%(name)s has not voted on item %(n)s."),
            name=missing[0].user.full_name,
            n=item.position,
        )
    counted = [c for c in choices.values() if c != "recused"]
    chair = next((m for m in present if m.role == "chair"), None)
    return {
        "for": counted.count("for"),
        "against": counted.count("against"),
        "abstain": counted.count("abstain"),
        "recused": len(choices) - len(counted),
        "voters": len(counted),
        "chair": choices.get(chair.id) if chair else None,
    }


def close(
    session: Session,
    *,
    session_id: int,
    actor_id: int,
    now: dt.datetime,
) -> CommissionSession:
    """Close an open session with quorum: each item's outcome under the policy.

    Approved money items commit their amount on the jurisdiction's line in this transaction;
    an item over the cap, the person's annual cap or the line's balance is deferred with the
    reason, and the others proceed.
    """
    # Lock order: the audit chain before any line or item row (see audit.take_append_lock).
    audit.take_append_lock(session)
    sitting = get_session(session, session_id)
    _require(sitting, "open")
    if not sitting.quorum_met:
        raise Conflict(N_("There is no quorum: the session cannot decide."))
    commission = sitting.commission
    rule = policies.policy_in_force(session, commission.unit_id, sitting.held_on)
    present = present_members(session, session_id)
    tallies = [(item, _tally(session, item, present)) for item in sitting.items]
    year = sitting.held_on.year
    mci = policies.mci_tiyn(session, year)
    for item, tally in tallies:
        item.votes_for, item.votes_against = tally["for"], tally["against"]
        item.abstained, item.recused = tally["abstain"], tally["recused"]
        majority = tally["for"] * 2 > tally["voters"]
        tie = tally["voters"] > 0 and tally["for"] * 2 == tally["voters"]
        if tie and rule.chair_breaks_tie:
            majority = tally["chair"] == "for"
        if not majority:
            _decide(item, "rejected", None)
            continue
        reason = _award(session, item, rule, mci, year, actor_id)
        _decide(item, "deferred" if reason else "approved", reason)
    sitting.status = "closed"
    sitting.closed_at = now
    session.flush()
    for item in sitting.items:
        _notify(session, item)
    audit.record(
        session,
        action="session.close",
        object_type="commission_session",
        object_id=session_id,
        actor_id=actor_id,
        payload={
            "outcomes": {str(i.nomination_id): i.outcome for i in sitting.items},
            "committed_tiyn": sum(
                i.nomination.amount_tiyn for i in sitting.items if i.ledger_entry_id
            ),
        },
    )
    return sitting


def _decide(item: AgendaItem, outcome: str, reason: str | None) -> None:
    item.outcome = outcome
    item.outcome_reason = reason
    item.nomination.status = outcome
    item.nomination.outcome_reason = reason


def _award(session, item, rule, mci, year, actor_id) -> str | None:
    """Reserve what an approved item needs; return why it must wait instead, if it must."""
    nomination = item.nomination
    try:
        with session.begin_nested():
            session.execute(
                update(NominationContribution)
                .where(NominationContribution.nomination_id == nomination.id)
                .values(approved=True)
                .execution_options(synchronize_session=False)
            )
    except IntegrityError:
        return _reason(N_("A supporting contribution already backs another approved reward."))
    if nomination.form not in MONEY_FORMS:
        return None
    amount = nomination.amount_tiyn
    if nomination.form == "cash" and amount > rule.cash_cap_mci * mci:
        _unmark(session, nomination.id)
        return _reason(N_("Over the cap of %(mci)s MCI per reward."), mci=rule.cash_cap_mci)
    # The personal annual cap binds a person of the register; a collective has none.
    already = _paid_this_year(session, nomination.member.iin, year) if nomination.member else 0
    if nomination.member and already + amount > rule.annual_cap_mci * mci:
        _unmark(session, nomination.id)
        return _reason(
            N_("Over the person's annual cap of %(mci)s MCI: %(already)s awarded in %(year)s."),
            mci=rule.annual_cap_mci,
            already=format_tiyn(already),
            year=year,
        )
    line = _line_for(session, item.session.commission.unit_id, year, nomination.purpose)
    if line is None:
        _unmark(session, nomination.id)
        return _reason(N_("No approved budget line for %(year)s."), year=year)
    try:
        with session.begin_nested():
            entry = ledger.commit_funds(
                session,
                line_id=line.id,
                amount_tiyn=amount,
                reference_type="agenda_item",
                reference_id=item.id,
                actor_id=actor_id,
                idempotency_key=f"award-{item.id}",
            )
    except DomainError as exc:
        _unmark(session, nomination.id)
        return _reason(exc.message, **exc.params)
    item.ledger_entry_id = entry.id
    item.line_id = line.id
    return None


def _reason(msgid: str, **params) -> str:
    """Keep a deferral reason as its msgid and parameters, to be shown translated."""
    return json.dumps({"msg": msgid, "params": params}, ensure_ascii=False, sort_keys=True)


def _unmark(session: Session, nomination_id: int) -> None:
    session.execute(
        update(NominationContribution)
        .where(NominationContribution.nomination_id == nomination_id)
        .values(approved=False)
        .execution_options(synchronize_session=False)
    )


def _notify(session: Session, item: AgendaItem) -> None:
    user_id = item.nomination.recipient_user
    user = session.get(User, user_id) if user_id else None
    if user is None:
        return
    notifications.queue_message(
        session,
        user_id=user.id,
        email=user.email,
        kind="nomination.outcome",
        params={"nomination_id": item.nomination_id, "outcome": item.outcome},
        language=user.preferred_language,
    )


def minutes_hash(text_kk: str, text_ru: str) -> str:
    """Return the SHA-256 of the two texts of the minutes."""
    return hashlib.sha256(f"{text_kk}\n\x1e\n{text_ru}".encode()).hexdigest()


def finalize_minutes(
    session: Session,
    *,
    session_id: int,
    text_kk: str,
    text_ru: str,
    actor_id: int,
    now: dt.datetime,
) -> CommissionSession:
    """Freeze the minutes in Kazakh and Russian; their hash enters the audit chain."""
    sitting = get_session(session, session_id)
    if sitting.status == "minutes_final":
        raise Conflict(N_("The minutes are already final and cannot change."))
    _require(sitting, "closed")
    digest = minutes_hash(text_kk, text_ru)
    sitting.minutes_kk, sitting.minutes_ru = text_kk, text_ru
    sitting.minutes_hash = digest
    sitting.minutes_final_at = now
    sitting.status = "minutes_final"
    audit.record(
        session,
        action="minutes.final",
        object_type="commission_session",
        object_id=session_id,
        actor_id=actor_id,
        payload={"sha256": digest},
    )
    return sitting


def record_act(
    session: Session, *, session_id: int, number: str, date: dt.date, actor_id: int
) -> CommissionSession:
    """Record the akimat's resolution or order that gives effect to the session's decisions."""
    sitting = get_session(session, session_id)
    _require(sitting, "closed", "minutes_final")
    number = (number or "").strip()
    if not number:
        raise DomainError(N_("Enter the number of the akimat's act."))
    if date < sitting.held_on:
        raise DomainError(N_("The act cannot predate the session."))
    sitting.act_number, sitting.act_date = number, date
    audit.record(
        session,
        action="session.act",
        object_type="commission_session",
        object_id=session_id,
        actor_id=actor_id,
        payload={"number": number, "date": date.isoformat()},
    )
    return sitting


def attach_scan(
    session: Session, *, session_id: int, file_id: int, content: bytes, actor_id: int
) -> None:
    """Attach the signed scan of the final minutes (PDF only)."""
    if not content.startswith(b"%PDF-"):
        raise DomainError(N_("The signed scan must be a PDF file."))
    sitting = get_session(session, session_id)
    _require(sitting, "minutes_final")
    sitting.scan_file_id = file_id
    audit.record(
        session,
        action="minutes.scan",
        object_type="commission_session",
        object_id=session_id,
        actor_id=actor_id,
        payload={"file_id": file_id, "sha256": hashlib.sha256(content).hexdigest()},
    )
