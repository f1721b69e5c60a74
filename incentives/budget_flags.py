"""Red flags on the budget and the audit trail: closed years, counters adrift, a broken chain."""

from __future__ import annotations

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from budget import ledger
from budget import reconcile as budget_reconcile
from budget.models import BudgetLine, BudgetProgram, FiscalYearClosure, LedgerEntry
from core import audit, clock
from core.errors import N_
from core.money import format_tiyn
from core.scope import Scope
from incentives.flag_kinds import Flag


def commits_on_closed_years(session: Session, scope: Scope) -> list[Flag]:
    """Commitments entered on a line of a fiscal year after that year was closed."""
    rows = session.execute(
        select(
            LedgerEntry.id,
            LedgerEntry.line_id,
            LedgerEntry.amount_tiyn,
            LedgerEntry.at,
            BudgetProgram.fiscal_year,
            BudgetProgram.unit_id,
        )
        .join(BudgetLine, BudgetLine.id == LedgerEntry.line_id)
        .join(BudgetProgram, BudgetProgram.id == BudgetLine.program_id)
        .join(
            FiscalYearClosure,
            and_(
                FiscalYearClosure.unit_id == BudgetProgram.unit_id,
                FiscalYearClosure.fiscal_year == BudgetProgram.fiscal_year,
            ),
        )
        .where(
            LedgerEntry.kind == "commit",
            LedgerEntry.at > FiscalYearClosure.closed_at,
            scope.clause(BudgetProgram.unit_id),
        )
        .order_by(LedgerEntry.id)
    ).all()
    return [
        Flag(
            "commit_on_closed_year",
            N_("%(amount)s was committed on %(date)s on a line of %(year)s, a closed year."),
            {
                "amount": format_tiyn(row.amount_tiyn),
                "date": clock.local_date(row.at).isoformat(),
                "year": row.fiscal_year,
            },
            "budget_line",
            row.line_id,
            row.unit_id,
        )
        for row in rows
    ]


def _line_units(session: Session, line_ids: list[int], scope: Scope) -> dict:
    """Return {line id: its program's unit} for the lines of ``line_ids`` inside the scope."""
    if not line_ids:
        return {}
    return dict(
        session.execute(
            select(BudgetLine.id, BudgetProgram.unit_id)
            .join(BudgetProgram, BudgetProgram.id == BudgetLine.program_id)
            .where(BudgetLine.id.in_(line_ids), scope.clause(BudgetProgram.unit_id))
        ).all()
    )


def lines_differing_from_ledger(session: Session, scope: Scope) -> list[Flag]:
    """Budget lines whose counters differ from the sums of their ledger entries."""
    drifts = ledger.reconcile(session)
    units = _line_units(session, [d.line_id for d in drifts], scope)
    return [
        Flag(
            "line_ledger_drift",
            N_(
                "The line's counters (committed %(committed)s, disbursed %(disbursed)s) differ"
                " from its ledger (committed %(committed_ledger)s, disbursed"
                " %(disbursed_ledger)s)."
            ),
            {
                "committed": format_tiyn(d.committed),
                "disbursed": format_tiyn(d.disbursed),
                "committed_ledger": format_tiyn(d.committed_by_ledger),
                "disbursed_ledger": format_tiyn(d.disbursed_by_ledger),
            },
            "budget_line",
            d.line_id,
            units[d.line_id],
        )
        for d in drifts
        if d.line_id in units
    ]


def lines_differing_from_decisions(session: Session, scope: Scope) -> list[Flag]:
    """Budget lines whose approved amount differs from the sum of their verified decisions."""
    drifts = budget_reconcile.lines_against_decisions(session)
    units = _line_units(session, [d.object_id for d in drifts], scope)
    return [
        Flag(
            "line_decision_drift",
            N_(
                "The line's approved amount, %(approved)s, differs from the sum of its verified"
                " maslikhat decisions, %(decided)s."
            ),
            {
                "approved": format_tiyn(d.numbers["approved"]),
                "decided": format_tiyn(d.numbers["approved_by_decisions"]),
            },
            "budget_line",
            d.object_id,
            units[d.object_id],
        )
        for d in drifts
        if d.object_id in units
    ]


def broken_audit_chain(session: Session, scope: Scope) -> list[Flag]:
    """The audit chain, if a link is broken (the chain is one for all jurisdictions)."""
    report = audit.verify_chain(session)
    if report.ok:
        return []
    msg = (
        N_("Audit event #%(seq)s was altered after it was recorded.")
        if report.problem == "hash"
        else N_("An audit event before #%(seq)s is missing or out of order.")
    )
    return [Flag("audit_chain_broken", msg, {"seq": report.first_bad_seq}, "audit", None, None)]
