"""Payouts of approved rewards: payment, failure and retry, voiding, handing over non-cash ones.

The order of a reward is minutes → act → payment: paying, handing over and recording a failed
payment need the item's session to have final minutes and the akimat's act (checked here to say
what comes first, and by the database's ``payout_legal_order`` trigger whatever writes the row).

A payout is a record of what happened, inserted once in its state (``incentives.workflow``
PAYOUT): one live outcome per item, kept by the unique index ``uq_payout_live_item``. Each
action carries the key of the form that asked for it and the fingerprint of what it asked: the
same form sent again is the same payout and moves no money twice; the same form with other
details is refused (422) and changes nothing; another form for a settled item is a 409 naming
who settled it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from budget import ledger
from core import audit, places
from core.doc_numbers import without_sign
from core.errors import N_, Conflict, DomainError
from core.money import format_tiyn
from core.payout_accounts import normalize_iban
from core.transitions import already_moved
from incentives.models import Payout, PayoutTaxRate
from incentives.payout_guards import (
    ACT_FIRST,
    LIVE,
    MINUTES_FIRST,
    NO_KEY,
    FormResent,
    approved_item,
    form_fingerprint,
    form_key,
    insert_once,
    refuse_if_settled,
    sent_before,
    what_comes_first,
)
from incentives.workflow import PAYOUT

__all__ = [
    "ACT_FIRST",
    "LIVE",
    "MINUTES_FIRST",
    "NO_KEY",
    "FormResent",
    "hand_over",
    "mask_iban",
    "normalize_iban",
    "rate_for",
    "record_failure",
    "record_payment",
    "void",
    "what_comes_first",
    "withholding",
]


def mask_iban(value: str | None) -> str:
    """Show an IBAN as KZ** **** **** 1234."""
    if not value:
        return "—"
    return f"{value[:2]}** **** **** {value[-4:]}"


# ---- tax withheld -----------------------------------------------------------------------------


def rate_for(session: Session, *, unit_id: int, form: str, on: dt.date) -> PayoutTaxRate | None:
    """Return the tax rate of ``form`` in force on ``on`` for a commission of ``unit_id``.

    The nearest jurisdiction up the tree that entered a rate for the form wins (a district's
    own rate before its region's); within it, the latest ``effective_from`` not after ``on``.
    """
    path = places.path_of(session, unit_id)
    if path is None:
        return None
    return session.scalar(
        select(PayoutTaxRate)
        .join(places.AdminUnit, places.AdminUnit.id == PayoutTaxRate.unit_id)
        .where(
            PayoutTaxRate.form == form,
            PayoutTaxRate.effective_from <= on,
            places.path_within_clause(path, places.AdminUnit.path),
        )
        .order_by(
            places.nearest_first(places.AdminUnit.path),
            PayoutTaxRate.effective_from.desc(),
            PayoutTaxRate.id.desc(),
        )
        .limit(1)
    )


def withholding(rate: PayoutTaxRate | None, gross_tiyn: int) -> int:
    """Return the tax withheld from ``gross_tiyn`` at ``rate``, rounded half up to the tiyn.

    No rate entered: nothing is withheld. The rate's exempt amount of each payout is free.
    """
    if rate is None:
        return 0
    taxable = max(0, gross_tiyn - rate.exempt_tiyn)
    return (taxable * rate.rate_bp + 5_000) // 10_000


# ---- the steps ----------------------------------------------------------------------------------


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
    """Record a cash reward paid by payment order: its gross leaves the line once.

    ``amount_tiyn`` is the gross paid (at most what the commission approved); the tax rate in
    force on the order date decides the part withheld, the rest is the net the recipient gets.
    The whole gross is disbursed (the withheld part is paid to the budget, not given back);
    only an unpaid remainder of the approved amount is released. The same form sent again
    returns the same payout; with other details it is refused.
    """
    audit.take_append_lock(session)  # before any row lock: the ledger and audit take it
    item = approved_item(session, item_id, needs_act=True)
    nomination = item.nomination
    if nomination.form != "cash":
        raise Conflict(N_("This reward is not paid in cash: record it as handed over."))
    key = form_key(idempotency_key)
    if key is None:
        raise DomainError(NO_KEY)
    if amount_tiyn <= 0:
        raise DomainError(N_("The amount must be greater than zero."))
    if amount_tiyn > nomination.amount_tiyn:
        raise DomainError(
            N_("%(amount)s is more than the commission approved, %(approved)s."),
            amount=format_tiyn(amount_tiyn),
            approved=format_tiyn(nomination.amount_tiyn),
        )
    order_number = without_sign(order_number)  # documents print the "№" themselves
    if not order_number:
        raise DomainError(N_("Enter the number of the payment order."))
    if len(order_number) > 40:
        raise DomainError(N_("The number of the payment order is at most 40 characters."))
    if order_date > today:
        raise DomainError(N_("The payment order cannot be dated in the future."))
    account = normalize_iban(iban)
    fingerprint = form_fingerprint(
        "pay", item_id, iban=account, order=order_number, date=order_date, gross=amount_tiyn
    )
    prior = sent_before(session, key, fingerprint)
    if prior is not None:
        return prior
    refuse_if_settled(session, item_id)
    rate = rate_for(
        session, unit_id=item.session.commission.unit_id, form=nomination.form, on=order_date
    )
    withheld = withholding(rate, amount_tiyn)
    payout = Payout(
        item_id=item_id,
        gross_tiyn=amount_tiyn,
        withheld_tiyn=withheld,
        net_tiyn=amount_tiyn - withheld,
        tax_rate_id=rate.id if rate else None,
        status="paid",
        idempotency_key=key,
        request_hash=fingerprint,
        iban=account,
        order_number=order_number,
        order_date=order_date,
        recorded_by_id=actor_id,
    )
    winner = insert_once(session, payout, fingerprint)
    if winner is not None:
        return winner
    ledger_key = f"payout:{key}"
    entry = ledger.disburse_funds(
        session,
        line_id=item.line_id,
        amount_tiyn=amount_tiyn,
        reference_type="payout",
        reference_id=payout.id,
        actor_id=actor_id,
        idempotency_key=ledger_key,
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
            idempotency_key=f"{ledger_key}:rest",
        )
    audit.record(
        session,
        action="payout.paid",
        object_type="payout",
        object_id=payout.id,
        actor_id=actor_id,
        payload={
            "item_id": item_id,
            "gross_tiyn": amount_tiyn,
            "withheld_tiyn": withheld,
            "net_tiyn": amount_tiyn - withheld,
            "tax_rate_id": payout.tax_rate_id,
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
    idempotency_key: str | None = None,
) -> Payout:
    """Record a payment the bank returned; no money moved, and the payment can be retried."""
    audit.take_append_lock(session)
    item = approved_item(session, item_id, needs_act=True)
    key = form_key(idempotency_key)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(N_("Write the reason for this decision."))
    account = (iban or "").replace(" ", "").upper()[:34] or None
    order_number = without_sign(order_number)[:40] or None
    fingerprint = form_fingerprint("fail", item_id, iban=account, order=order_number, reason=reason)
    prior = sent_before(session, key, fingerprint)
    if prior is not None:
        return prior
    refuse_if_settled(session, item_id)
    attempted = item.nomination.amount_tiyn
    payout = Payout(
        item_id=item_id,
        gross_tiyn=attempted,  # what was to be paid; nothing left the line
        withheld_tiyn=0,
        net_tiyn=attempted,
        status="failed",
        idempotency_key=key,
        request_hash=fingerprint,
        iban=account,
        order_number=order_number,
        failure_reason=reason,
        recorded_by_id=actor_id,
    )
    winner = insert_once(session, payout, fingerprint)
    if winner is not None:
        return winner
    audit.record(
        session,
        action="payout.failed",
        object_type="payout",
        object_id=payout.id,
        actor_id=actor_id,
        payload={"item_id": item_id, "reason": reason},
    )
    return payout


def void(
    session: Session,
    *,
    item_id: int,
    reason: str,
    actor_id: int,
    idempotency_key: str | None = None,
) -> Payout:
    """Give up paying an approved reward: its commitment is released.

    It needs no act: the akimat may never sign one, and the money must come back to the line.
    """
    audit.take_append_lock(session)
    item = approved_item(session, item_id, needs_act=False)
    key = form_key(idempotency_key)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(N_("Write the reason for this decision."))
    fingerprint = form_fingerprint("void", item_id, reason=reason)
    prior = sent_before(session, key, fingerprint)
    if prior is not None:
        return prior
    settled = session.scalar(
        select(Payout)
        .where(Payout.item_id == item_id, Payout.status.in_((*LIVE, "voided")))
        .limit(1)
    )
    if settled is not None:
        raise already_moved(session, PAYOUT, settled.id, settled.status)
    payout = Payout(
        item_id=item_id,
        gross_tiyn=0,
        withheld_tiyn=0,
        net_tiyn=0,
        status="voided",
        idempotency_key=key,
        request_hash=fingerprint,
        failure_reason=reason,
        recorded_by_id=actor_id,
    )
    winner = insert_once(session, payout, fingerprint)
    if winner is not None:
        return winner
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
    session: Session,
    *,
    item_id: int,
    handed_on: dt.date,
    actor_id: int,
    today: dt.date,
    idempotency_key: str | None = None,
) -> Payout:
    """Record a non-cash reward as handed over; a gift's cost is disbursed once.

    A gift's cost is its gross; a tax rate entered for valuable gifts decides the part of it
    withheld (the recipient's net is the rest). The same form sent again is the same record.
    """
    audit.take_append_lock(session)
    item = approved_item(session, item_id, needs_act=True)
    nomination = item.nomination
    if nomination.form == "cash":
        raise Conflict(N_("A cash reward is recorded with its payment order."))
    key = form_key(idempotency_key)
    if handed_on > today:
        raise DomainError(N_("The date cannot be in the future."))
    fingerprint = form_fingerprint("hand_over", item_id, date=handed_on)
    prior = sent_before(session, key, fingerprint)
    if prior is not None:
        return prior
    refuse_if_settled(session, item_id)
    gross = nomination.amount_tiyn
    rate = (
        rate_for(
            session, unit_id=item.session.commission.unit_id, form=nomination.form, on=handed_on
        )
        if gross
        else None
    )
    withheld = withholding(rate, gross)
    payout = Payout(
        item_id=item_id,
        gross_tiyn=gross,
        withheld_tiyn=withheld,
        net_tiyn=gross - withheld,
        tax_rate_id=rate.id if rate else None,
        status="handed_over",
        idempotency_key=key,
        request_hash=fingerprint,
        order_date=handed_on,
        recorded_by_id=actor_id,
    )
    winner = insert_once(session, payout, fingerprint)
    if winner is not None:
        return winner
    if gross:
        entry = ledger.disburse_funds(
            session,
            line_id=item.line_id,
            amount_tiyn=gross,
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
        payload={
            "item_id": item_id,
            "gross_tiyn": gross,
            "withheld_tiyn": withheld,
            "net_tiyn": gross - withheld,
            "tax_rate_id": payout.tax_rate_id,
        },
    )
    return payout
