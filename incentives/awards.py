"""What a session's decision does: tally, commit the reward on its line (caps first), notify."""

from __future__ import annotations

import json

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from budget import ledger
from budget.models import BudgetLine, BudgetProgram
from core import notifications
from core.accounts import User
from core.errors import N_, Conflict, DomainError
from core.money import format_tiyn
from core.transitions import advance
from incentives import caps
from incentives.models import (
    MONEY_FORMS,
    AgendaItem,
    CommissionMember,
    Nomination,
    NominationContribution,
    Vote,
)
from incentives.workflow import NOMINATION
from volunteers import persons


def line_for(session: Session, unit_id: int, year: int, purpose: str) -> BudgetLine | None:
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


def tally(
    session: Session,
    item: AgendaItem,
    voters: list[CommissionMember],
    chair: CommissionMember | None,
) -> dict:
    # Read from the database: a loaded ``item.votes`` may predate votes cast since.
    choices = dict(
        session.execute(
            select(Vote.commission_member_id, Vote.choice).where(Vote.item_id == item.id)
        ).all()
    )
    missing = [m for m in voters if m.id not in choices]
    if missing:
        raise Conflict(
            N_("%(name)s has not voted on item %(n)s."),
            name=missing[0].user.full_name,
            n=item.position,
        )
    counted = [c for c in choices.values() if c != "recused"]
    return {
        "for": counted.count("for"),
        "against": counted.count("against"),
        "abstain": counted.count("abstain"),
        "recused": len(choices) - len(counted),
        "voters": len(counted),
        "chair": choices.get(chair.id) if chair else None,
    }


STEP_OF = {"approved": "approve", "rejected": "reject", "deferred": "defer"}


def decide(session: Session, item: AgendaItem, outcome: str, reason: str | None) -> None:
    item.outcome = outcome
    item.outcome_reason = reason
    advance(
        session, NOMINATION, item.nomination, STEP_OF[outcome], values={"outcome_reason": reason}
    )


def nominee_key(session: Session, nomination: Nomination) -> str | None:
    """Return the person key of whom a nomination rewards (None for a collective)."""
    if nomination.member is not None:
        return nomination.member.iin_index
    if nomination.recipient_user_id:
        found = persons.keys_of(session, [nomination.recipient_user_id])
        return min(found[nomination.recipient_user_id], default=None)
    return None


def award(session, item, rule, mci, year, actor_id) -> str | None:
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
        return reason(N_("A supporting contribution already backs another approved reward."))
    if nomination.form not in MONEY_FORMS:
        return None
    amount = nomination.amount_tiyn
    if nomination.form == "cash" and amount > rule.cash_cap_mci * mci:
        unmark(session, nomination.id)
        return reason(N_("Over the cap of %(mci)s MCI per reward."), mci=rule.cash_cap_mci)
    # The personal annual cap binds a person (by IIN, any entry or account); a collective has
    # none. One definition for closing, nominating, the flags and the screens: incentives.caps.
    person = nominee_key(session, nomination)
    if person is not None:
        held_on = item.session.held_on
        standing = caps.standing(
            session, person=person, unit_id=item.session.commission.unit_id, day=held_on
        )
        if not standing.allows(amount):
            unmark(session, nomination.id)
            return reason(
                N_("Over the person's annual cap of %(mci)s MCI: %(already)s awarded in %(year)s."),
                mci=standing.cap_mci,
                already=format_tiyn(standing.awarded_tiyn),
                year=year,
            )
    line = line_for(session, item.session.commission.unit_id, year, nomination.purpose)
    if line is None:
        unmark(session, nomination.id)
        return reason(N_("No approved budget line for %(year)s."), year=year)
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
        unmark(session, nomination.id)
        return reason(exc.message, **exc.params)
    item.ledger_entry_id = entry.id
    item.line_id = line.id
    return None


def reason(msgid: str, **params) -> str:
    """Keep a deferral reason as its msgid and parameters, to be shown translated."""
    return json.dumps({"msg": msgid, "params": params}, ensure_ascii=False, sort_keys=True)


def unmark(session: Session, nomination_id: int) -> None:
    session.execute(
        update(NominationContribution)
        .where(NominationContribution.nomination_id == nomination_id)
        .values(approved=False)
        .execution_options(synchronize_session=False)
    )


def notify(session: Session, item: AgendaItem) -> None:
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
