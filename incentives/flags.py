"""Red flags for the maslikhat's oversight: each a SQL query that names records to look at.

Every flag function takes the session and the ``Scope`` to look in (``Scope.everywhere()`` for
all jurisdictions) and
returns ``Flag`` rows: the kind, an explanation as an English msgid with its parameters (the
portal shows it translated) and the record it points to. A flag is a reason to look, not a
verdict; the explanation says what was found in plain words.

The checks live in ``incentives.reward_flags`` and ``incentives.budget_flags``; this module
holds the catalogue, runs them all, and re-exports every check under its old name.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from core.scope import Scope
from incentives.budget_flags import (
    broken_audit_chain,
    commits_on_closed_years,
    lines_differing_from_decisions,
    lines_differing_from_ledger,
)
from incentives.flag_kinds import KINDS, Flag
from incentives.reward_flags import (
    WINDOW_DAYS,
    confirmed_by_nominator,
    over_annual_cap,
    payouts_within_30_days,
    payouts_without_minutes,
    recipients_who_are_insiders,
)

__all__ = [
    "CHECKS",
    "KINDS",
    "WINDOW_DAYS",
    "Flag",
    "broken_audit_chain",
    "commits_on_closed_years",
    "compute_all",
    "confirmed_by_nominator",
    "lines_differing_from_decisions",
    "lines_differing_from_ledger",
    "over_annual_cap",
    "payouts_within_30_days",
    "payouts_without_minutes",
    "recipients_who_are_insiders",
]


CHECKS: dict[str, Callable[[Session, Scope], list[Flag]]] = {
    "payout_without_minutes": payouts_without_minutes,
    "over_annual_cap": over_annual_cap,
    "payouts_within_30_days": payouts_within_30_days,
    "recipient_is_insider": recipients_who_are_insiders,
    "confirmed_by_nominator": confirmed_by_nominator,
    "commit_on_closed_year": commits_on_closed_years,
    "line_ledger_drift": lines_differing_from_ledger,
    "line_decision_drift": lines_differing_from_decisions,
    "audit_chain_broken": broken_audit_chain,
}


def compute_all(
    session: Session,
    scope: Scope,
    *,
    progress: Callable[[int], None] | None = None,
    keep: int = 500,
) -> dict:
    """Run every check; return counts per kind and up to ``keep`` flags of each kind."""
    counts, rows = {}, []
    for n, (kind, check) in enumerate(CHECKS.items(), start=1):
        found = check(session, scope)
        counts[kind] = len(found)
        rows.extend(f.as_dict() for f in found[:keep])
        if progress:
            progress(int(n * 95 / len(CHECKS)))
    return {"counts": counts, "rows": rows, "total": sum(counts.values())}
