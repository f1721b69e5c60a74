"""Money for finance officers and deputies: budget lines, decisions, the ledger and payouts.

The same reads as the finance pages (``portal.finance``) and the payout list
(``portal.commission.payout_views``), within the reader's jurisdictions: a record outside them
is not listed, and asked for by its id it does not exist (404). Payout IBANs are masked as the
payout list masks them; it shows no IIN, and neither does this.
"""

from __future__ import annotations

import flask_smorest
from flask_babel import get_locale
from sqlalchemy import func, select

from budget import appropriations
from budget import queries as budget_queries
from budget.models import (
    Amendment,
    BudgetLine,
    BudgetProgram,
    LedgerEntry,
    MaslikhatDecision,
)
from core import clock, places
from core.accounts import users_by_id
from core.errors import N_, NotFound
from incentives import payouts
from incentives import queries as reward_queries
from incentives.models import AgendaItem, Commission, CommissionSession, Payout
from portal.api.auth import api_allow
from portal.api.money_schemas import (
    BudgetLineArgs,
    BudgetLineDetailSchema,
    BudgetLineSchema,
    LedgerArgs,
    LedgerEntrySchema,
    MaslikhatDecisionArgs,
    MaslikhatDecisionSchema,
    PayoutArgs,
    PayoutSchema,
)
from portal.api.paging import page_schema, paginate
from portal.commission.page_reads import payout_states
from portal.commission.roles import PAYOUT_READERS
from portal.extensions import db
from portal.finance.roles import READERS
from portal.i18n import local_name
from portal.oversight.record_links import ledger_reasons
from portal.security import current_scope

blp = flask_smorest.Blueprint(
    "api_money",
    __name__,
    url_prefix="/api/v1",
    description="Budget lines, maslikhat decisions, the ledger and payouts (finance, deputies).",
)


def _unit(unit: places.AdminUnit) -> dict:
    return {"id": unit.id, "kato": unit.kato, "name": unit.name(str(get_locale()))}


def _line(line: BudgetLine, program: BudgetProgram, unit, closed: set) -> dict:
    return {
        "id": line.id,
        "purpose": line.purpose,
        "approved_tiyn": line.approved_tiyn,
        "committed_tiyn": line.committed_tiyn,
        "disbursed_tiyn": line.disbursed_tiyn,
        "available_tiyn": line.approved_tiyn - line.committed_tiyn - line.disbursed_tiyn,
        "program": {
            "id": program.id,
            "code": appropriations.program_code(program),
            "fiscal_year": program.fiscal_year,
            "name_kk": program.name_kk,
            "name_ru": program.name_ru,
            "administrator_body": program.administrator_body,
        },
        "unit": _unit(unit),
        "year_closed": (program.unit_id, program.fiscal_year) in closed,
    }


def _name(people: dict, user_id: int | None) -> str | None:
    person = people.get(user_id) if user_id else None
    return person.full_name if person is not None else None


# ---- budget lines ------------------------------------------------------------------------------


@blp.route("/budget-lines")
@api_allow(*READERS)
@blp.arguments(BudgetLineArgs, location="query")
@blp.response(200, page_schema(BudgetLineSchema))
def lines(args):
    """Budget lines of the reader's jurisdictions, newest first (filters as the lines page)."""
    query = budget_queries.filtered_lines(
        current_scope(*READERS), year=args["year"], purpose=args["purpose"], unit=args["unit"]
    )
    rows, next_cursor = paginate(
        db.session,
        query.add_columns(BudgetLine.id.label("id")),
        key=BudgetLine.id,
        args=args,
        scalars=False,
    )
    closed = budget_queries.closed_years(db.session, (p.unit_id for _l, p, _u, _id in rows))
    return {
        "items": [_line(line, program, unit, closed) for line, program, unit, _id in rows],
        "next_cursor": next_cursor,
    }


@blp.route("/budget-lines/<int:line_id>")
@api_allow(*READERS)
@blp.response(200, BudgetLineDetailSchema)
def line(line_id: int):
    """One budget line with the decisions that changed its approved amount."""
    row = db.session.execute(
        budget_queries.lines(current_scope(*READERS)).where(BudgetLine.id == line_id)
    ).first()
    if row is None:
        raise NotFound(N_("No such record."))
    line, program, unit = row
    history = db.session.execute(
        select(Amendment, MaslikhatDecision)
        .join(MaslikhatDecision, Amendment.decision_id == MaslikhatDecision.id)
        .where(Amendment.line_id == line.id)
        .order_by(MaslikhatDecision.decided_on, MaslikhatDecision.id)
    ).all()
    people = users_by_id(db.session, [d.verified_by_id for _a, d in history])
    found = _line(line, program, unit, budget_queries.closed_years(db.session, [program.unit_id]))
    found["amendments"] = [
        {
            "decision_id": d.id,
            "number": d.number,
            "decided_on": d.decided_on,
            "session_number": d.session_number,
            "kind": d.kind,
            "status": d.status,
            "verified_by": _name(people, d.verified_by_id),
            "verified_at": d.verified_at,
            "delta_tiyn": a.delta_tiyn,
        }
        for a, d in history
    ]
    return found


# ---- maslikhat decisions -----------------------------------------------------------------------


@blp.route("/decisions")
@api_allow(*READERS)
@blp.arguments(MaslikhatDecisionArgs, location="query")
@blp.response(200, page_schema(MaslikhatDecisionSchema))
def decisions(args):
    """The maslikhat's budget decisions of the reader's jurisdictions, newest first."""
    query = budget_queries.decisions(current_scope(*READERS))
    if args["pending"]:
        query = query.where(MaslikhatDecision.status == "entered")
    if args["kind"]:
        query = query.where(MaslikhatDecision.kind == args["kind"])
    rows, next_cursor = paginate(
        db.session,
        query.add_columns(places.AdminUnit, MaslikhatDecision.id.label("id")),
        key=MaslikhatDecision.id,
        args=args,
        scalars=False,
    )
    people = users_by_id(
        db.session,
        [d.entered_by_id for d, _u, _i in rows] + [d.verified_by_id for d, _u, _i in rows],
    )
    return {
        "items": [
            {
                "id": d.id,
                "number": d.number,
                "decided_on": d.decided_on,
                "session_number": d.session_number,
                "kind": d.kind,
                "reference": d.reference,
                "status": d.status,
                "unit": _unit(unit),
                "entered_by": _name(people, d.entered_by_id),
                "entered_at": d.entered_at,
                "verified_by": _name(people, d.verified_by_id),
                "verified_at": d.verified_at,
            }
            for d, unit, _id in rows
        ],
        "next_cursor": next_cursor,
    }


# ---- ledger entries ----------------------------------------------------------------------------


@blp.route("/ledger-entries")
@api_allow(*READERS)
@blp.arguments(LedgerArgs, location="query")
@blp.response(200, page_schema(LedgerEntrySchema))
def ledger_entries(args):
    """Ledger entries of the lines of the reader's jurisdictions, newest first.

    ``from`` and ``to`` are days in the portal's time zone, both included, as on a line's page.
    """
    lines_in_scope = budget_queries.lines(current_scope(*READERS)).with_only_columns(BudgetLine.id)
    query = select(LedgerEntry).where(LedgerEntry.line_id.in_(lines_in_scope))
    if args["line"]:
        query = query.where(LedgerEntry.line_id == args["line"])
    if args["kind"]:
        query = query.where(LedgerEntry.kind == args["kind"])
    if args["date_from"]:
        query = query.where(LedgerEntry.at >= clock.local_day_bounds(args["date_from"])[0])
    if args["date_to"]:
        query = query.where(LedgerEntry.at < clock.local_day_bounds(args["date_to"])[1])
    entries, next_cursor = paginate(db.session, query, key=LedgerEntry.id, args=args)
    people = users_by_id(db.session, [e.actor_id for e in entries])
    reasons = ledger_reasons(entries)
    return {
        "items": [
            {
                "id": e.id,
                "line_id": e.line_id,
                "at": e.at,
                "kind": e.kind,
                "amount_tiyn": e.amount_tiyn,
                "reference_type": e.reference_type,
                "reference_number": str(
                    reasons[e.id][0] if reasons[e.id][0] is not None else e.reference_id
                ),
                "note": e.note or "",
                "actor": _name(people, e.actor_id),
            }
            for e in entries
        ],
        "next_cursor": next_cursor,
    }


# ---- payouts -----------------------------------------------------------------------------------


def _state_status():
    """The status of an item's payout as the payout list shows it, in SQL (NULL: awaiting).

    The live payout (pending, paid or handed over: one at most), or else the latest one.
    """
    live = (
        select(func.min(Payout.id))
        .where(Payout.item_id == AgendaItem.id, Payout.status.in_(payouts.LIVE))
        .correlate(AgendaItem)
        .scalar_subquery()
    )
    latest = (
        select(func.max(Payout.id))
        .where(Payout.item_id == AgendaItem.id)
        .correlate(AgendaItem)
        .scalar_subquery()
    )
    return (
        select(Payout.status)
        .where(Payout.id == func.coalesce(live, latest))
        .correlate(AgendaItem)
        .scalar_subquery()
    )


def _waiting_for(sitting: CommissionSession, state: Payout | None) -> str | None:
    if payouts.what_comes_first(sitting) is None:
        return None
    if state is not None and state.status in ("paid", "handed_over", "voided"):
        return None
    return "act" if sitting.status == "minutes_final" else "final_minutes"


def _payout(item: AgendaItem, sitting: CommissionSession, commission: Commission, state) -> dict:
    nomination = item.nomination
    settled = state is not None and state.status in ("paid", "handed_over")
    return {
        "id": item.id,
        "session_id": sitting.id,
        "held_on": sitting.held_on,
        "commission": local_name(commission),
        "recipient": nomination.recipient,
        "form": nomination.form,
        "amount_tiyn": nomination.amount_tiyn or None,
        "line_id": item.line_id,
        "status": state.status if state is not None else "awaiting",
        "waiting_for": _waiting_for(sitting, state),
        "gross_tiyn": state.gross_tiyn if settled else None,
        "net_tiyn": state.net_tiyn if settled else None,
        "withheld_tiyn": state.withheld_tiyn if settled else None,
        # Never revealed here: the list shows every IBAN masked.
        "iban": payouts.mask_iban(state.iban) if state is not None and state.iban else None,
    }


@blp.route("/payouts")
@api_allow(*PAYOUT_READERS)
@blp.arguments(PayoutArgs, location="query")
@blp.response(200, page_schema(PayoutSchema))
def payouts_list(args):
    """Rewards approved at settled sittings of the reader's jurisdictions and their payouts."""
    query = reward_queries.approved_items(current_scope(*PAYOUT_READERS))
    if args["line"]:
        query = query.where(AgendaItem.line_id == args["line"])
    if args["status"] == "awaiting":
        query = query.where(
            ~select(Payout.id).where(Payout.item_id == AgendaItem.id).correlate(AgendaItem).exists()
        )
    elif args["status"]:
        query = query.where(_state_status() == args["status"])
    rows, next_cursor = paginate(
        db.session,
        query.add_columns(AgendaItem.id.label("id")),
        key=AgendaItem.id,
        args=args,
        scalars=False,
    )
    states = payout_states(item.id for item, _s, _c, _id in rows)
    return {
        "items": [_payout(item, s, c, states.get(item.id)) for item, s, c, _id in rows],
        "next_cursor": next_cursor,
    }
