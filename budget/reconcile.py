"""Reconciliation of the budget: every line against its ledger and its verified decisions.

A finding is one difference that must not exist. The budget's checks live here; the reward
checks (commitments of approved items, disbursements of payouts) are in
``incentives.reconcile``, which runs both and is what the CLI and the nightly job call.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from budget import ledger
from budget.models import Amendment, BudgetLine, MaslikhatDecision

# What each check compares, to describe a finding in one line of the report.
_TEMPLATES = {
    "line_ledger": (
        "committed {committed} vs ledger {committed_by_ledger}, "
        "disbursed {disbursed} vs ledger {disbursed_by_ledger}"
    ),
    "line_decisions": "approved {approved} vs verified decisions {approved_by_decisions}",
    "item_commitment": (
        "{commitments} commitment(s) of {committed} (expected {expected_commitments} of "
        "{expected_committed}); still committed {open} (expected {expected_open})"
    ),
    "payout_disbursement": (
        "{status}: {disbursements} disbursement(s) (expected {expected_disbursements})"
    ),
}


@dataclass(frozen=True)
class Finding:
    """One difference between records that must agree; ``numbers`` gives both sides."""

    check: str
    object_type: str
    object_id: int
    numbers: dict[str, int | str] = field(default_factory=dict)

    def describe(self) -> str:
        """Return the finding as one line of the report (English, for operators and logs)."""
        return f"{self.object_type} {self.object_id}: " + _TEMPLATES[self.check].format(
            **self.numbers
        )

    def as_dict(self) -> dict:
        return asdict(self)


def report(findings: list[Finding]) -> dict:
    """Return the report the CLI prints and the job records: ``ok`` and every finding."""
    return {"ok": not findings, "drifts": [f.as_dict() for f in findings]}


def lines_against_ledger(session: Session) -> list[Finding]:
    """Lines whose committed or disbursed counter differs from the sums of their ledger."""
    return [
        Finding(
            "line_ledger",
            "budget_line",
            d.line_id,
            {
                "committed": d.committed,
                "committed_by_ledger": d.committed_by_ledger,
                "disbursed": d.disbursed,
                "disbursed_by_ledger": d.disbursed_by_ledger,
            },
        )
        for d in ledger.reconcile(session)
    ]


def lines_against_decisions(session: Session) -> list[Finding]:
    """Lines whose approved amount differs from the sum of their verified decisions' changes.

    Only a verified decision changes a line, once; an amount applied twice (or by a decision
    that was never verified, or written around the decisions) shows here.
    """
    verified = (
        select(Amendment.line_id, func.sum(Amendment.delta_tiyn).label("total"))
        .join(MaslikhatDecision, MaslikhatDecision.id == Amendment.decision_id)
        .where(MaslikhatDecision.status == "verified")
        .group_by(Amendment.line_id)
        .subquery()
    )
    rows = session.execute(
        select(BudgetLine.id, BudgetLine.approved_tiyn, func.coalesce(verified.c.total, 0))
        .outerjoin(verified, verified.c.line_id == BudgetLine.id)
        .where(BudgetLine.approved_tiyn != func.coalesce(verified.c.total, 0))
        .order_by(BudgetLine.id)
    ).all()
    return [
        Finding(
            "line_decisions",
            "budget_line",
            line_id,
            {"approved": int(approved), "approved_by_decisions": int(total)},
        )
        for line_id, approved, total in rows
    ]


def check_budget(session: Session) -> list[Finding]:
    """Run the budget's checks: lines against their ledger and against their decisions."""
    return lines_against_ledger(session) + lines_against_decisions(session)
