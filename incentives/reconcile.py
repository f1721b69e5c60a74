"""Reconciliation of rewards against the ledger, and the whole reconciliation of the books.

Money for a reward moves on the ledger in a fixed pattern (``incentives.sessions`` and
``incentives.payouts``): closing a session commits an approved item's amount once, referencing
the item (``agenda_item:<id>``, key ``award-<id>``); paying or handing it over disburses it,
referencing the payout (``payout:<id>``), and releases any unpaid rest; voiding releases it.
So an approved money item has exactly one commitment, and what remains committed of it is its
amount until it is settled (paid, handed over or voided) and nothing after. Every other item
holds nothing. A paid or handed-over payout of a money reward has exactly one disbursement;
any other payout has none.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from budget import reconcile as budget_reconcile
from budget.models import LedgerEntry
from budget.reconcile import Finding, report
from incentives.models import MONEY_FORMS, AgendaItem, Nomination, Payout

__all__ = ["Finding", "check_rewards", "everything", "report"]

SETTLED = ("paid", "handed_over", "voided")
DISBURSED = ("paid", "handed_over")


def _entries_by_reference(session: Session, reference_type: str) -> dict[int, dict[str, list]]:
    """Return {referenced id: {kind: [count, sum]}} for the ledger entries of one reference type."""
    found: dict[int, dict[str, list]] = defaultdict(dict)
    for reference_id, kind, count, total in session.execute(
        select(
            LedgerEntry.reference_id,
            LedgerEntry.kind,
            func.count(),
            func.sum(LedgerEntry.amount_tiyn),
        )
        .where(LedgerEntry.reference_type == reference_type)
        .group_by(LedgerEntry.reference_id, LedgerEntry.kind)
    ):
        try:
            key = int(reference_id)
        except ValueError:
            key = -1  # not an id: no record can own it, reported as held by "item -1"
        # Add, not assign: "7" and "07" (or two references that are not ids) share a key.
        held = found[key].setdefault(kind, [0, 0])
        held[0] += int(count)
        held[1] += int(total or 0)
    return found


def _count(entries: dict[str, list], kind: str) -> int:
    return entries.get(kind, [0, 0])[0]


def _sum(entries: dict[str, list], *kinds: str) -> int:
    return sum(entries.get(kind, [0, 0])[1] for kind in kinds)


def items_against_commitments(session: Session) -> list[Finding]:
    """Approved money items without exactly one live commitment; other items holding money."""
    by_item = _entries_by_reference(session, "agenda_item")
    by_payout = _entries_by_reference(session, "payout")
    payouts: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for payout_id, item_id, status in session.execute(
        select(Payout.id, Payout.item_id, Payout.status)
    ):
        payouts[item_id].append((payout_id, status))
    money = {
        item_id: amount
        for item_id, amount in session.execute(
            select(AgendaItem.id, Nomination.amount_tiyn)
            .join(Nomination, Nomination.id == AgendaItem.nomination_id)
            .where(
                AgendaItem.outcome == "approved",
                Nomination.form.in_(MONEY_FORMS),
                Nomination.amount_tiyn > 0,
            )
        )
    }
    findings = []
    for item_id in sorted(set(money) | set(by_item)):
        own = by_item.get(item_id, {})
        commitments, committed = _count(own, "commit"), _sum(own, "commit")
        out = _sum(own, "release", "disburse") + sum(
            _sum(by_payout.get(payout_id, {}), "release", "disburse")
            for payout_id, _status in payouts.get(item_id, ())
        )
        amount = money.get(item_id)
        if amount is None:
            # Not an approved money reward: whatever was committed for it must be given back.
            expected = {"commitments": commitments, "committed": committed, "open": 0}
        else:
            settled = any(status in SETTLED for _id, status in payouts.get(item_id, ()))
            expected = {
                "commitments": 1,
                "committed": amount,
                "open": 0 if settled else amount,
            }
        found = {"commitments": commitments, "committed": committed, "open": committed - out}
        if found != expected:
            findings.append(
                Finding(
                    "item_commitment",
                    "agenda_item",
                    item_id,
                    {**found, **{f"expected_{k}": v for k, v in expected.items()}},
                )
            )
    return findings


def payouts_against_disbursements(session: Session) -> list[Finding]:
    """Paid or handed-over money rewards without exactly one disbursement; others with any."""
    by_payout = _entries_by_reference(session, "payout")
    rows = session.execute(
        select(Payout.id, Payout.status, Nomination.form, Nomination.amount_tiyn)
        .join(AgendaItem, AgendaItem.id == Payout.item_id)
        .join(Nomination, Nomination.id == AgendaItem.nomination_id)
        .order_by(Payout.id)
    ).all()
    findings = []
    known = set()
    for payout_id, status, form, amount in rows:
        known.add(payout_id)
        expected = int(status in DISBURSED and form in MONEY_FORMS and amount > 0)
        found = _count(by_payout.get(payout_id, {}), "disburse")
        if found != expected:
            findings.append(
                Finding(
                    "payout_disbursement",
                    "payout",
                    payout_id,
                    {
                        "status": status,
                        "disbursements": found,
                        "expected_disbursements": expected,
                    },
                )
            )
    for payout_id in sorted(set(by_payout) - known):
        found = _count(by_payout[payout_id], "disburse")
        if found:  # money paid for a payout that does not exist
            findings.append(
                Finding(
                    "payout_disbursement",
                    "payout",
                    payout_id,
                    {"status": "missing", "disbursements": found, "expected_disbursements": 0},
                )
            )
    return findings


def check_rewards(session: Session) -> list[Finding]:
    """Run the reward checks: item commitments and payout disbursements."""
    return items_against_commitments(session) + payouts_against_disbursements(session)


def everything(session: Session) -> list[Finding]:
    """Run every reconciliation check of the books; an empty list means they agree.

    This is what ``flask budget reconcile`` and the nightly ``budget.reconcile`` job run.
    Read it in one snapshot (REPEATABLE READ on PostgreSQL) so that a movement committed
    between two reads does not look like a difference.
    """
    return budget_reconcile.check_budget(session) + check_rewards(session)
