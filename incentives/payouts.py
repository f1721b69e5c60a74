"""Payouts of approved rewards: payment, failure and retry, voiding, handing over non-cash ones."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from stdnum import iban as stdiban
from stdnum.exceptions import ValidationError

from budget import ledger
from budget.models import LedgerEntry
from core import audit
from core.errors import N_, Conflict, DomainError, NotFound
from core.money import format_tiyn
from incentives.models import AgendaItem, Payout

LIVE = ("pending", "paid", "handed_over")


def normalize_iban(text: str) -> str:
    """Validate a Kazakh IBAN (KZ, 20 characters, check digits) and return it compact."""
    try:
        value = stdiban.validate(text or "")
    except ValidationError:
        raise DomainError(N_("The IBAN is not valid: check the letters and digits.")) from None
    if not value.startswith("KZ"):
        raise DomainError(
            N_("Rewards are paid to accounts in Kazakhstan: the IBAN starts with KZ.")
        )
    return value


def mask_iban(value: str | None) -> str:
    """Show an IBAN as KZ** **** **** 1234."""
    if not value:
        return "—"
    return f"{value[:2]}** **** **** {value[-4:]}"


def _approved_item(session: Session, item_id: int) -> AgendaItem:
    item = session.get(AgendaItem, item_id)
    if item is None or item.outcome != "approved":
        raise NotFound(N_("No approved reward of this number."))
    if item.session.status not in ("closed", "minutes_final"):
        raise Conflict(N_("The session is not closed yet."))
    # Voiding released the item's commitment: paying it now would draw on other items'.
    voided = session.scalar(
        select(Payout.id).where(Payout.item_id == item_id, Payout.status == "voided")
    )
    if voided:
        raise Conflict(N_("This reward has been voided and can no longer be paid."))
    return item


def _live(session: Session, item_id: int) -> Payout | None:
    return session.scalar(select(Payout).where(Payout.item_id == item_id, Payout.status.in_(LIVE)))


def _already_paid():
    raise Conflict(N_("This reward has already been paid."))


def _same_request(session: Session, item_id: int, key: str) -> Payout | None:
    """Return the live payout when it was made with ``key``; refuse when another was."""
    existing = _live(session, item_id)
    if existing is None:
        return None
    entry = session.get(LedgerEntry, existing.ledger_entry_id) if existing.ledger_entry_id else None
    if entry is not None and entry.idempotency_key == key:
        return existing
    return _already_paid()


def record_payment(
    session: Session,
    *,
    item_id: int,
    iban: str,
    order_number: str,
    order_date: dt.date,
    amount_tiyn: int,
    idempotency_key: str,
    actor_id: int,
    today: dt.date,
) -> Payout:
    """Record a cash reward paid by payment order; it disburses the commitment once.

    The same ``idempotency_key`` (a double click, a retried request) returns the same payout.
    A smaller payment than approved releases the rest of the commitment.
    """
    item = _approved_item(session, item_id)
    nomination = item.nomination
    if nomination.form != "cash":
        raise Conflict(N_("This reward is not paid in cash: record it as handed over."))
    key = f"payout:{idempotency_key}"
    existing = _same_request(session, item_id, key)
    if existing is not None:
        return existing
    if amount_tiyn <= 0:
        raise DomainError(N_("The amount must be greater than zero."))
    if amount_tiyn > nomination.amount_tiyn:
        raise DomainError(
            N_("%(amount)s is more than the commission approved, %(approved)s."),
            amount=format_tiyn(amount_tiyn),
            approved=format_tiyn(nomination.amount_tiyn),
        )
    order_number = (order_number or "").strip()
    if not order_number:
        raise DomainError(N_("Enter the number of the payment order."))
    if order_date > today:
        raise DomainError(N_("The payment order cannot be dated in the future."))
    account = normalize_iban(iban)
    payout = Payout(
        item_id=item_id,
        amount_tiyn=amount_tiyn,
        status="paid",
        iban=account,
        order_number=order_number,
        order_date=order_date,
        recorded_by_id=actor_id,
    )
    try:
        with session.begin_nested():
            session.add(payout)
            session.flush()
    except IntegrityError:
        # A concurrent request got there first: the same one if the key matches.
        return _same_request(session, item_id, key) or _already_paid()
    entry = ledger.disburse_funds(
        session,
        line_id=item.line_id,
        amount_tiyn=amount_tiyn,
        reference_type="payout",
        reference_id=payout.id,
        actor_id=actor_id,
        idempotency_key=key,
    )
    payout.ledger_entry_id = entry.id
    rest = nomination.amount_tiyn - amount_tiyn
    if rest:
        ledger.release_funds(
            session,
            line_id=item.line_id,
            amount_tiyn=rest,
            reference_type="payout",
            reference_id=payout.id,
            actor_id=actor_id,
            idempotency_key=f"{key}:rest",
        )
    audit.record(
        session,
        action="payout.paid",
        object_type="payout",
        object_id=payout.id,
        actor_id=actor_id,
        payload={
            "item_id": item_id,
            "amount_tiyn": amount_tiyn,
            "order": order_number,
            "iban": mask_iban(account),
        },
    )
    return payout


def record_failure(
    session: Session,
    *,
    item_id: int,
    iban: str,
    order_number: str,
    reason: str,
    actor_id: int,
) -> Payout:
    """Record a payment the bank returned; no money moved, and the payment can be retried."""
    item = _approved_item(session, item_id)
    if _live(session, item_id) is not None:
        raise Conflict(N_("This reward has already been paid."))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(N_("Write the reason for this decision."))
    payout = Payout(
        item_id=item_id,
        amount_tiyn=item.nomination.amount_tiyn,
        status="failed",
        iban=(iban or "").replace(" ", "").upper()[:34] or None,
        order_number=(order_number or "").strip() or None,
        failure_reason=reason,
        recorded_by_id=actor_id,
    )
    session.add(payout)
    session.flush()
    audit.record(
        session,
        action="payout.failed",
        object_type="payout",
        object_id=payout.id,
        actor_id=actor_id,
        payload={"item_id": item_id, "reason": reason},
    )
    return payout


def void(session: Session, *, item_id: int, reason: str, actor_id: int) -> Payout:
    """Give up paying an approved reward: its commitment is released."""
    item = _approved_item(session, item_id)
    if _live(session, item_id) is not None:
        raise Conflict(N_("This reward has already been paid."))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(N_("Write the reason for this decision."))
    payout = Payout(
        item_id=item_id,
        amount_tiyn=0,
        status="voided",
        failure_reason=reason,
        recorded_by_id=actor_id,
    )
    try:
        with session.begin_nested():  # a concurrent payment or void of the item wins
            session.add(payout)
            session.flush()
    except IntegrityError:
        raise Conflict(N_("This reward has already been paid or voided.")) from None
    if item.line_id and item.nomination.amount_tiyn:
        ledger.release_funds(
            session,
            line_id=item.line_id,
            amount_tiyn=item.nomination.amount_tiyn,
            reference_type="payout",
            reference_id=payout.id,
            actor_id=actor_id,
            idempotency_key=f"void-item-{item_id}",
        )
    audit.record(
        session,
        action="payout.voided",
        object_type="payout",
        object_id=payout.id,
        actor_id=actor_id,
        payload={"item_id": item_id, "reason": reason},
    )
    return payout


def hand_over(
    session: Session, *, item_id: int, handed_on: dt.date, actor_id: int, today: dt.date
) -> Payout:
    """Record a non-cash reward as handed over; a gift's cost is disbursed. Safe to repeat."""
    item = _approved_item(session, item_id)
    nomination = item.nomination
    if nomination.form == "cash":
        raise Conflict(N_("A cash reward is recorded with its payment order."))
    existing = _live(session, item_id)
    if existing is not None:
        return existing
    if handed_on > today:
        raise DomainError(N_("The date cannot be in the future."))
    payout = Payout(
        item_id=item_id,
        amount_tiyn=nomination.amount_tiyn,
        status="handed_over",
        order_date=handed_on,
        recorded_by_id=actor_id,
    )
    try:
        with session.begin_nested():
            session.add(payout)
            session.flush()
    except IntegrityError:
        return _live(session, item_id)
    if nomination.amount_tiyn:
        entry = ledger.disburse_funds(
            session,
            line_id=item.line_id,
            amount_tiyn=nomination.amount_tiyn,
            reference_type="payout",
            reference_id=payout.id,
            actor_id=actor_id,
            idempotency_key=f"handover-item-{item_id}",
        )
        payout.ledger_entry_id = entry.id
    audit.record(
        session,
        action="payout.handed_over",
        object_type="payout",
        object_id=payout.id,
        actor_id=actor_id,
        payload={"item_id": item_id, "amount_tiyn": nomination.amount_tiyn},
    )
    return payout
