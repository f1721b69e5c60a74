"""Red flags for the maslikhat's oversight: each a SQL query that names records to look at.

Every flag function takes the session and the jurisdictions to look in (``None``: all) and
returns ``Flag`` rows: the kind, an explanation as an English msgid with its parameters (the
portal shows it translated) and the record it points to. A flag is a reason to look, not a
verdict; the explanation says what was found in plain words.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from sqlalchemy import and_, exists, func, or_, select, true
from sqlalchemy.orm import Session, aliased

from budget import ledger
from budget import reconcile as budget_reconcile
from budget.models import BudgetLine, BudgetProgram, FiscalYearClosure, LedgerEntry
from core import audit, clock, places
from core.accounts import RoleGrant
from core.errors import N_, DomainError
from core.iin import mask_iin
from core.money import format_tiyn
from incentives import caps, policy
from incentives.models import (
    AgendaItem,
    Commission,
    CommissionMember,
    CommissionSession,
    Nomination,
    NominationContribution,
    Payout,
)
from volunteers import persons
from volunteers.activity_models import Contribution
from volunteers.models import Member

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
WINDOW_DAYS = 30


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


def _in_scope(unit_column, scope_ids: list[int] | None):
    if scope_ids is None:
        return true()
    return unit_column.in_(select(places.AdminUnit.id).where(places.units_within_clause(scope_ids)))


def payouts_without_minutes(session: Session, scope_ids: list[int] | None) -> list[Flag]:
    """Payouts paid or handed over although the session's minutes are not final or no act."""
    rows = session.execute(
        select(
            Payout.id,
            Payout.item_id,
            Payout.amount_tiyn,
            CommissionSession.held_on,
            CommissionSession.status,
            CommissionSession.act_number,
            Commission.unit_id,
        )
        .join(AgendaItem, AgendaItem.id == Payout.item_id)
        .join(CommissionSession, CommissionSession.id == AgendaItem.session_id)
        .join(Commission, Commission.id == CommissionSession.commission_id)
        .where(
            Payout.status.in_(("paid", "handed_over")),
            or_(
                CommissionSession.status != "minutes_final",
                CommissionSession.act_number.is_(None),
            ),
            _in_scope(Commission.unit_id, scope_ids),
        )
        .order_by(Payout.id)
    ).all()
    flags = []
    for row in rows:
        no_minutes = row.status != "minutes_final"
        if no_minutes and row.act_number is None:
            msg = N_(
                "A reward of %(amount)s was paid although the session of %(date)s has neither"
                " final minutes nor an akimat act."
            )
        elif no_minutes:
            msg = N_(
                "A reward of %(amount)s was paid although the minutes of the session of"
                " %(date)s are not final."
            )
        else:
            msg = N_(
                "A reward of %(amount)s was paid although no akimat act is recorded for the"
                " session of %(date)s."
            )
        params = {"amount": format_tiyn(row.amount_tiyn), "date": row.held_on.isoformat()}
        flags.append(Flag("payout_without_minutes", msg, params, "payout", row.id, row.unit_id))
    return flags


def _cap_tiyn(session: Session, unit_id: int, day, which: str) -> int | None:
    """Return the policy's cap (``cash_cap_mci`` or ``annual_cap_mci``) in tiyn, if set."""
    try:
        rule = policy.policy_in_force(session, unit_id, day)
        mci = policy.mci_tiyn(session, day.year)
    except DomainError:
        return None
    return getattr(rule, which) * mci


def over_annual_cap(session: Session, scope_ids: list[int] | None) -> list[Flag]:
    """People (by IIN) whose approved money rewards of a year exceed the annual cap.

    The same definition as closing a session (``incentives.caps``): by the person's IIN
    whatever entry or account the rewards named, by the year of the decision, across the
    commissions of one top-level jurisdiction; the cap of the policy in force for the last
    decision.
    """
    in_scope = None
    if scope_ids is not None:
        in_scope = set(
            session.scalars(
                select(places.AdminUnit.id).where(places.units_within_clause(scope_ids))
            )
        )
    flags = []
    for person in caps.per_person_year(session):
        if in_scope is not None and not person.unit_ids & in_scope:
            continue
        cap = _cap_tiyn(session, person.last_unit_id, person.last_day, "annual_cap_mci")
        if cap is None or person.total_tiyn <= cap:
            continue
        flags.append(
            Flag(
                "over_annual_cap",
                N_(
                    "%(name)s (IIN %(iin)s) was awarded %(total)s in %(year)s in %(n)s rewards,"
                    " over the annual cap of %(cap)s."
                ),
                {
                    "name": person.name,
                    "iin": mask_iin(person.iin),
                    "total": format_tiyn(person.total_tiyn),
                    "year": person.year,
                    "n": person.rewards,
                    "cap": format_tiyn(cap),
                },
                "agenda_item",
                person.last_item,
                person.last_unit_id,
            )
        )
    return flags


def _days_after(session: Session, later, earlier):
    if session.get_bind().dialect.name == "sqlite":
        return func.julianday(later) - func.julianday(earlier)
    return later - earlier  # PostgreSQL: date - date is a number of days


def payouts_within_30_days(session: Session, scope_ids: list[int] | None) -> list[Flag]:
    """Several payments to one person (IIN) within 30 days that together exceed one reward's cap.

    Each paid payout opens a window of 30 days; a window holding more than one payment whose
    sum is over the per-reward cap is flagged, once per run of overlapping windows.
    """
    p1, p2 = aliased(Payout), aliased(Payout)
    i1, i2 = aliased(AgendaItem), aliased(AgendaItem)
    n1, n2 = aliased(Nomination), aliased(Nomination)
    m1, m2 = aliased(Member), aliased(Member)
    days = _days_after(session, p2.order_date, p1.order_date)
    rows = session.execute(
        select(
            p1.id,
            p1.item_id,
            p1.order_date,
            m1.iin,
            func.max(m1.full_name).label("name"),
            func.max(Commission.unit_id).label("unit_id"),
            func.count(p2.id).label("n"),
            func.sum(p2.amount_tiyn).label("total"),
            func.max(p2.order_date).label("last_date"),
        )
        .join(i1, i1.id == p1.item_id)
        .join(n1, n1.id == i1.nomination_id)
        .join(m1, m1.id == n1.member_id)
        .join(Commission, Commission.id == n1.commission_id)
        .join(m2, m2.iin == m1.iin)
        .join(n2, n2.member_id == m2.id)
        .join(i2, i2.nomination_id == n2.id)
        .join(p2, p2.item_id == i2.id)
        .where(
            p1.status == "paid",
            p2.status == "paid",
            p1.order_date.is_not(None),
            p2.order_date.is_not(None),
            days >= 0,
            days <= WINDOW_DAYS,
            _in_scope(Commission.unit_id, scope_ids),
        )
        .group_by(p1.id, p1.item_id, p1.order_date, m1.iin)
        .having(func.count(p2.id) > 1)
        .order_by(m1.iin, p1.order_date, p1.id)
    ).all()
    flags, covered_until = [], {}
    for row in rows:
        cap = _cap_tiyn(session, row.unit_id, row.order_date, "cash_cap_mci")
        if cap is None or int(row.total) <= cap:
            continue
        if row.iin in covered_until and row.order_date <= covered_until[row.iin]:
            continue
        covered_until[row.iin] = row.last_date
        flags.append(
            Flag(
                "payouts_within_30_days",
                N_(
                    "%(name)s (IIN %(iin)s) received %(n)s payments totalling %(total)s between"
                    " %(start)s and %(end)s, over the cap of %(cap)s for one reward."
                ),
                {
                    "name": row.name,
                    "iin": mask_iin(row.iin),
                    "n": row.n,
                    "total": format_tiyn(row.total),
                    "start": row.order_date.isoformat(),
                    "end": row.last_date.isoformat(),
                    "cap": format_tiyn(cap),
                },
                "payout",
                row.id,
                row.unit_id,
            )
        )
    return flags


def _same_person(recipient_user, recipient_iin, other_user_id):
    """The recipient is the account ``other_user_id`` or the same person (by IIN)."""
    return persons.same_person(
        iin=recipient_iin, user_id=recipient_user, other_user_id=other_user_id
    )


def recipients_who_are_insiders(session: Session, scope_ids: list[int] | None) -> list[Flag]:
    """Approved rewards to a commission member, a coordinator or the nomination's nominator."""
    recipient_user = func.coalesce(Member.user_id, Nomination.recipient_user_id)
    recipient_iin = Member.iin
    base = (
        select(
            Nomination.id,
            func.coalesce(Member.full_name, Nomination.recipient_name).label("name"),
            Commission.unit_id,
            AgendaItem.id.label("item_id"),
        )
        .outerjoin(Member, Member.id == Nomination.member_id)
        .join(AgendaItem, AgendaItem.nomination_id == Nomination.id)
        .join(Commission, Commission.id == Nomination.commission_id)
        .where(
            Nomination.status == "approved",
            AgendaItem.outcome == "approved",
            _in_scope(Commission.unit_id, scope_ids),
        )
    )
    checks = (
        (
            exists().where(
                CommissionMember.commission_id == Nomination.commission_id,
                _same_person(recipient_user, recipient_iin, CommissionMember.user_id),
            ),
            N_("%(name)s was rewarded by the commission they sit on."),
        ),
        (
            exists().where(
                RoleGrant.role == "coordinator",
                RoleGrant.revoked_at.is_(None),
                _same_person(recipient_user, recipient_iin, RoleGrant.user_id),
            ),
            N_("%(name)s was rewarded although they are a coordinator who confirms work."),
        ),
        (
            _same_person(recipient_user, recipient_iin, Nomination.nominator_id),
            N_("%(name)s was rewarded on their own nomination."),
        ),
    )
    flags = []
    for condition, msg in checks:
        for row in session.execute(base.where(condition).order_by(Nomination.id)):
            flags.append(
                Flag(
                    "recipient_is_insider",
                    msg,
                    {"name": row.name},
                    "agenda_item",
                    row.item_id,
                    row.unit_id,
                )
            )
    return flags


def confirmed_by_nominator(session: Session, scope_ids: list[int] | None) -> list[Flag]:
    """Nominations backed by contributions that the nominator confirmed themself."""
    rows = session.execute(
        select(
            Nomination.id,
            func.max(Member.full_name).label("name"),
            func.max(Member.id).label("member_id"),
            func.max(Commission.unit_id).label("unit_id"),
            func.count(Contribution.id).label("n"),
            select(func.max(AgendaItem.id))
            .where(AgendaItem.nomination_id == Nomination.id)
            .scalar_subquery()
            .label("item_id"),
        )
        .join(NominationContribution, NominationContribution.nomination_id == Nomination.id)
        .join(Contribution, Contribution.id == NominationContribution.contribution_id)
        .join(Member, Member.id == Contribution.member_id)
        .join(Commission, Commission.id == Nomination.commission_id)
        .where(
            Nomination.status != "draft",
            Contribution.decided_by_id == Nomination.nominator_id,
            _in_scope(Commission.unit_id, scope_ids),
        )
        .group_by(Nomination.id)
        .order_by(Nomination.id)
    ).all()
    return [
        Flag(
            "confirmed_by_nominator",
            N_(
                "The nomination of %(name)s rests on %(n)s contribution(s) confirmed by the"
                " same person who nominated them."
            ),
            {"name": row.name, "n": row.n},
            "agenda_item" if row.item_id else "member",
            row.item_id or row.member_id,
            row.unit_id,
        )
        for row in rows
    ]


def commits_on_closed_years(session: Session, scope_ids: list[int] | None) -> list[Flag]:
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
            _in_scope(BudgetProgram.unit_id, scope_ids),
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


def _line_units(session: Session, line_ids: list[int], scope_ids: list[int] | None) -> dict:
    """Return {line id: its program's unit} for the lines of ``line_ids`` inside the scope."""
    if not line_ids:
        return {}
    return dict(
        session.execute(
            select(BudgetLine.id, BudgetProgram.unit_id)
            .join(BudgetProgram, BudgetProgram.id == BudgetLine.program_id)
            .where(BudgetLine.id.in_(line_ids), _in_scope(BudgetProgram.unit_id, scope_ids))
        ).all()
    )


def lines_differing_from_ledger(session: Session, scope_ids: list[int] | None) -> list[Flag]:
    """Budget lines whose counters differ from the sums of their ledger entries."""
    drifts = ledger.reconcile(session)
    units = _line_units(session, [d.line_id for d in drifts], scope_ids)
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


def lines_differing_from_decisions(session: Session, scope_ids: list[int] | None) -> list[Flag]:
    """Budget lines whose approved amount differs from the sum of their verified decisions."""
    drifts = budget_reconcile.lines_against_decisions(session)
    units = _line_units(session, [d.object_id for d in drifts], scope_ids)
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


def broken_audit_chain(session: Session, scope_ids: list[int] | None) -> list[Flag]:
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


CHECKS: dict[str, Callable[[Session, list[int] | None], list[Flag]]] = {
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
    scope_ids: list[int] | None,
    *,
    progress: Callable[[int], None] | None = None,
    keep: int = 500,
) -> dict:
    """Run every check; return counts per kind and up to ``keep`` flags of each kind."""
    counts, rows = {}, []
    for n, (kind, check) in enumerate(CHECKS.items(), start=1):
        found = check(session, scope_ids)
        counts[kind] = len(found)
        rows.extend(f.as_dict() for f in found[:keep])
        if progress:
            progress(int(n * 95 / len(CHECKS)))
    return {"counts": counts, "rows": rows, "total": sum(counts.values())}
