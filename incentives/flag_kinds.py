"""The red flag record, and the kinds of flag the oversight checks raise."""

from __future__ import annotations

import dataclasses

KINDS = (
    "payout_without_minutes",
    "over_annual_cap",
    "payouts_within_30_days",
    "recipient_is_insider",
    "confirmed_by_nominator",
    "commit_on_closed_year",
    "line_ledger_drift",
    "line_decision_drift",
    "audit_chain_broken",
)


@dataclasses.dataclass(frozen=True)
class Flag:
    """One red flag: what kind, why (msgid and params) and which record to open."""

    kind: str
    msg: str
    params: dict
    target_type: str
    target_id: int | None
    unit_id: int | None

    def as_dict(self) -> dict:
        """Return the flag as a JSON-ready dict."""
        return dataclasses.asdict(self)
