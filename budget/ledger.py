"""The only way money moves: guarded, idempotent, audited commit / release / disburse."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from budget.models import BudgetLine, BudgetProgram, FiscalYearClosure, LedgerEntry
from core import audit
from core.errors import N_, Conflict, DomainError, NotFound
from core.money import format_tiyn, require_positive


class InsufficientFunds(Conflict):
    """The line's available balance does not cover the amount."""


class IdempotencyConflict(Conflict):
    """The key was used before for a different request: refused (422), nothing moves.

    Not a 409: the request itself is wrong (a reused key with other details), not late; a
    retry with the same details gets the first movement back, never a silent second one.
    """

    status = 422


def request_hash(
    kind: str, line_id: int, amount: int, reference_type: str, reference_id: str
) -> str:
    """Return the fingerprint of a movement that its idempotency key is bound to."""
    text = f"{kind}|{line_id}|{amount}|{reference_type}|{reference_id}"
    return hashlib.sha256(text.encode()).hexdigest()


def get_line(session: Session, line_id: int) -> BudgetLine:
    """Return the line or raise NotFound."""
    line = session.get(BudgetLine, line_id)
    if line is None:
        raise NotFound(N_("No such budget line."))
    return line


def _year_open():
    """SQL: the line's fiscal year is not closed for its jurisdiction."""
    return ~exists().where(
        BudgetProgram.id == BudgetLine.program_id,
        FiscalYearClosure.unit_id == BudgetProgram.unit_id,
        FiscalYearClosure.fiscal_year == BudgetProgram.fiscal_year,
    )


def _move(
    session: Session,
    *,
    kind: str,
    line_id: int,
    amount_tiyn: int,
    reference_type: str,
    reference_id: object,
    actor_id: int | None,
    idempotency_key: str,
) -> LedgerEntry:
    require_positive(amount_tiyn)
    if not idempotency_key or len(idempotency_key) > 255:
        raise DomainError(N_("An idempotency key of 1 to 255 characters is required."))
    # Lock order: the audit chain first, then the line. The caller audits after this move;
    # taking a line's row lock first could deadlock against a writer holding the chain.
    audit.take_append_lock(session)
    reference_id = str(reference_id)
    fingerprint = request_hash(kind, line_id, amount_tiyn, reference_type, reference_id)
    line_row = get_line(session, line_id)
    entry = LedgerEntry(
        line_id=line_id,
        kind=kind,
        amount_tiyn=amount_tiyn,
        reference_type=reference_type,
        reference_id=reference_id,
        actor_id=actor_id,
        idempotency_key=idempotency_key,
        request_hash=fingerprint,
    )
    # Claim the key first: a concurrent request with the same key waits here for us and then
    # finds our entry; only the claimant moves money, so a retry can never pay twice.
    try:
        with session.begin_nested():
            session.add(entry)
            session.flush()
    except IntegrityError:
        prior = session.scalar(
            select(LedgerEntry).where(LedgerEntry.idempotency_key == idempotency_key)
        )
        if prior is None:
            raise
        if prior.request_hash != fingerprint:
            raise IdempotencyConflict(
                N_("The key %(key)s was already used for a different request."), key=idempotency_key
            ) from None
        return prior
    line = BudgetLine
    if kind == "commit":
        guarded = (
            update(line)
            .where(
                line.id == line_id,
                line.committed_tiyn + line.disbursed_tiyn + amount_tiyn <= line.approved_tiyn,
                _year_open(),
            )
            .values(committed_tiyn=line.committed_tiyn + amount_tiyn)
        )
    elif kind == "release":
        guarded = (
            update(line)
            .where(line.id == line_id, line.committed_tiyn >= amount_tiyn)
            .values(committed_tiyn=line.committed_tiyn - amount_tiyn)
        )
    else:
        guarded = (
            update(line)
            .where(line.id == line_id, line.committed_tiyn >= amount_tiyn)
            .values(
                committed_tiyn=line.committed_tiyn - amount_tiyn,
                disbursed_tiyn=line.disbursed_tiyn + amount_tiyn,
            )
        )
    result = session.execute(guarded.execution_options(synchronize_session=False))
    if result.rowcount != 1:
        current = session.execute(
            select(
                BudgetLine.approved_tiyn, BudgetLine.committed_tiyn, BudgetLine.disbursed_tiyn
            ).where(BudgetLine.id == line_id)
        ).one()
        available = current.approved_tiyn - current.committed_tiyn - current.disbursed_tiyn
        if kind == "commit" and available >= amount_tiyn:
            raise DomainError(N_("The fiscal year of this line is closed: no new commitments."))
        if kind == "commit":
            raise InsufficientFunds(
                N_("%(amount)s exceeds the available balance of the line, %(available)s."),
                amount=format_tiyn(amount_tiyn),
                available=format_tiyn(available),
            )
        raise InsufficientFunds(
            N_("%(amount)s exceeds what is committed on the line, %(committed)s."),
            amount=format_tiyn(amount_tiyn),
            committed=format_tiyn(current.committed_tiyn),
        )
    session.expire(line_row)
    audit.record(
        session,
        action=f"ledger.{kind}",
        object_type="budget_line",
        object_id=line_id,
        actor_id=actor_id,
        payload={
            "entry": entry.id,
            "amount_tiyn": amount_tiyn,
            "key": idempotency_key,
            "reference": f"{reference_type}:{reference_id}",
        },
    )
    return entry


def commit_funds(session: Session, **kwargs) -> LedgerEntry:
    """Reserve an amount on a line: only while committed + disbursed + amount <= approved."""
    return _move(session, kind="commit", **kwargs)


def release_funds(session: Session, **kwargs) -> LedgerEntry:
    """Give back a committed amount (a voided payout, a cancelled decision)."""
    return _move(session, kind="release", **kwargs)


def disburse_funds(session: Session, **kwargs) -> LedgerEntry:
    """Record the payment of a committed amount."""
    return _move(session, kind="disburse", **kwargs)


@dataclass(frozen=True)
class Drift:
    """A line whose counters differ from its ledger sums (there must be none)."""

    line_id: int
    committed: int
    committed_by_ledger: int
    disbursed: int
    disbursed_by_ledger: int


def reconcile(session: Session) -> list[Drift]:
    """Compare every line's counters with the sums of its ledger entries."""
    sums = {}
    for line_id, kind, total in session.execute(
        select(LedgerEntry.line_id, LedgerEntry.kind, func.sum(LedgerEntry.amount_tiyn)).group_by(
            LedgerEntry.line_id, LedgerEntry.kind
        )
    ):
        sums.setdefault(line_id, {})[kind] = int(total)
    drifts = []
    for line in session.scalars(select(BudgetLine).order_by(BudgetLine.id)):
        s = sums.get(line.id, {})
        committed = s.get("commit", 0) - s.get("release", 0) - s.get("disburse", 0)
        disbursed = s.get("disburse", 0)
        if (committed, disbursed) != (line.committed_tiyn, line.disbursed_tiyn):
            drifts.append(
                Drift(line.id, line.committed_tiyn, committed, line.disbursed_tiyn, disbursed)
            )
    return drifts
