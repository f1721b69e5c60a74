"""Oversight drill-down: a budget line, decision, session, reward, payout, member, contribution.

Read-only, within the deputy's jurisdictions (404 outside); personal data masked.
"""

from __future__ import annotations

from flask import abort, render_template, request
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased

from budget.models import (
    Amendment,
    BudgetLine,
    BudgetProgram,
    FiscalYearClosure,
    LedgerEntry,
    MaslikhatDecision,
)
from core import bilingual, places
from core.accounts import users_by_id
from incentives import payouts
from incentives.models import (
    AgendaItem,
    Attendance,
    Commission,
    CommissionSession,
    Nomination,
    NominationContribution,
    Payout,
)
from incentives.queries import NOMINATION_NAMED, line_reward_rows
from portal.extensions import db
from portal.i18n import language, local_dates
from portal.oversight.blueprint import bp
from portal.oversight.views import READERS, in_scope, scope, shares, trail
from portal.paging import PAGE_SIZE, listing, page_of, row_link
from portal.security import allow
from volunteers import persons
from volunteers.activity_models import Contribution
from volunteers.models import Member

# ---- drill-down: line, decision, session, reward, payout, member, contribution ----------------

LINE_REWARDS_PAGE = PAGE_SIZE  # rewards listed per page of a budget line
SESSION_ITEMS_PAGE = PAGE_SIZE  # agenda items per page of a session


@bp.route("/lines/<int:line_id>")
@allow(*READERS)
def line(line_id: int):
    line = db.session.get(BudgetLine, line_id)
    if line is None:
        abort(404)
    program = db.session.get(BudgetProgram, line.program_id)
    in_scope(program.unit_id)
    decisions = db.session.execute(
        select(Amendment, MaslikhatDecision)
        .join(MaslikhatDecision, Amendment.decision_id == MaslikhatDecision.id)
        .where(Amendment.line_id == line.id)
        .order_by(MaslikhatDecision.decided_on, MaslikhatDecision.id)
    ).all()
    rows, count = line_reward_rows(line.id)
    items = page_of(rows, size=LINE_REWARDS_PAGE, rows=True, count=count)
    return render_template(
        "oversight/line.html",
        line=line,
        program=program,
        unit=db.session.get(places.AdminUnit, program.unit_id),
        shares=shares(line.approved_tiyn, line.committed_tiyn, line.disbursed_tiyn),
        decisions=decisions,
        **listing(items, "items"),
        states=_payout_states(item.id for item in items.rows),
        # One address pattern per link and each sitting's date formatted once, not per row: three
        # url_for and a date format for each of 50 rewards were about a tenth of the page.
        session_href=row_link("oversight.session", "session_id"),
        reward_href=row_link("oversight.reward", "item_id"),
        payout_href=row_link("oversight.payout", "item_id"),
        dates=local_dates(item.held_on for item in items.rows),
        year_closed=db.session.get(FiscalYearClosure, (program.unit_id, program.fiscal_year))
        is not None,
        trail=trail(("budget_line", line.id)),
    )


def _payout_states(item_ids) -> dict[int, Payout]:
    """Return each item's live payout, or its latest one when none is live."""
    ids = list(item_ids)
    found: dict[int, Payout] = {}
    if not ids:
        return found
    for p in db.session.scalars(select(Payout).where(Payout.item_id.in_(ids)).order_by(Payout.id)):
        current = found.get(p.item_id)
        if current is None or current.status not in payouts.LIVE:
            found[p.item_id] = p
    return found


@bp.route("/decisions/<int:decision_id>")
@allow(*READERS)
def decision(decision_id: int):
    decision = db.session.get(MaslikhatDecision, decision_id)
    if decision is None:
        abort(404)
    in_scope(decision.unit_id)
    changes = db.session.execute(
        select(Amendment, BudgetLine, BudgetProgram)
        .join(BudgetLine, Amendment.line_id == BudgetLine.id)
        .join(BudgetProgram, BudgetLine.program_id == BudgetProgram.id)
        .where(Amendment.decision_id == decision.id)
        .order_by(Amendment.id)
    ).all()
    return render_template(
        "oversight/decision.html",
        decision=decision,
        unit=db.session.get(places.AdminUnit, decision.unit_id),
        changes=changes,
        people=users_by_id(db.session, [decision.entered_by_id, decision.verified_by_id]),
        trail=trail(("maslikhat_decision", decision.id)),
    )


@bp.route("/sessions/<int:session_id>")
@allow(*READERS)
def session(session_id: int):
    sitting = db.session.get(CommissionSession, session_id)
    if sitting is None:
        abort(404)
    in_scope(sitting.commission.unit_id)
    attendance = db.session.scalars(
        select(Attendance).where(Attendance.session_id == sitting.id).order_by(Attendance.id)
    ).all()
    # The agenda a page at a time, as on the secretary's page: a region's sitting may decide
    # a couple of hundred rewards (issue 16).
    items = page_of(
        select(AgendaItem)
        .where(AgendaItem.session_id == sitting.id)
        .order_by(AgendaItem.position, AgendaItem.id)
        .options(NOMINATION_NAMED),
        size=SESSION_ITEMS_PAGE,
    )
    return render_template(
        "oversight/session.html",
        sitting=sitting,
        commission=sitting.commission,
        attendance=attendance,
        **listing(items, "items"),
        states=_payout_states(i.id for i in items.rows),
        minutes=_minutes_shown(sitting),
        trail=trail(("commission_session", sitting.id)),
    )


def _minutes_shown(sitting: CommissionSession) -> dict:
    """Return the minutes' texts by language and the one shown inline (``shown``).

    One language inline: each text of a region's sitting runs to hundreds of kilobytes, too
    much twice over for a phone. It is the one ``?minutes=`` asks for, else the reader's
    (Russian for ru, Kazakh otherwise, as the units' names), else the one there is; the other
    is a link away, and both are PDFs once final.
    """
    texts = {
        lang: text
        for lang, text in (("kk", sitting.minutes_kk), ("ru", sitting.minutes_ru))
        if text
    }
    reader = bilingual.stored_language(language())
    asked = request.args.get("minutes")
    shown = next((lang for lang in (asked, reader, "kk", "ru") if lang in texts), None)
    return {"texts": texts, "shown": shown}


def _item_in_scope(item_id: int) -> AgendaItem:
    item = db.session.get(AgendaItem, item_id)
    if item is None:
        abort(404)
    in_scope(item.session.commission.unit_id)
    return item


def _backing(nomination_ids) -> dict[int, list[Contribution]]:
    """Return the contributions linked to each nomination."""
    ids = list(nomination_ids)
    found: dict[int, list[Contribution]] = {}
    if not ids:
        return found
    rows = db.session.execute(
        select(NominationContribution.nomination_id, Contribution)
        .join(Contribution, NominationContribution.contribution_id == Contribution.id)
        .where(NominationContribution.nomination_id.in_(ids))
        .order_by(Contribution.occurred_on, Contribution.id)
    ).all()
    for nomination_id, contribution in rows:
        found.setdefault(nomination_id, []).append(contribution)
    return found


@bp.route("/rewards/<int:item_id>")
@allow(*READERS)
def reward(item_id: int):
    item = _item_in_scope(item_id)
    nomination = item.nomination
    history = db.session.scalars(
        select(Payout).where(Payout.item_id == item.id).order_by(Payout.id)
    ).all()
    backing = _backing([nomination.id]).get(nomination.id, [])
    return render_template(
        "oversight/reward.html",
        item=item,
        nomination=nomination,
        sitting=item.session,
        line=db.session.get(BudgetLine, item.line_id) if item.line_id else None,
        history=history,
        backing=backing,
        people=users_by_id(
            db.session,
            [nomination.nominator_id, *(c.decided_by_id for c in backing)]
            + [p.recorded_by_id for p in history],
        ),
        trail=trail(("agenda_item", item.id), ("nomination", nomination.id)),
    )


@bp.route("/payouts/<int:item_id>")
@allow(*READERS)
def payout(item_id: int):
    """The payment of one reward, numbered as the reward is (``record_links.public_numbers``).

    Its settled (or latest) payout is shown in full; failed attempts before it are listed.
    """
    item = _item_in_scope(item_id)
    history = db.session.scalars(
        select(Payout).where(Payout.item_id == item.id).order_by(Payout.id)
    ).all()
    record = _payout_states([item.id]).get(item.id)
    entries = db.session.scalars(
        select(LedgerEntry)
        .where(
            or_(
                and_(
                    LedgerEntry.reference_type == "payout",
                    LedgerEntry.reference_id.in_([str(p.id) for p in history] or [""]),
                ),
                and_(
                    LedgerEntry.reference_type == "agenda_item",
                    LedgerEntry.reference_id == str(item.id),
                ),
            )
        )
        .order_by(LedgerEntry.id)
    ).all()
    return render_template(
        "oversight/payout.html",
        payout=record,
        history=history,
        item=item,
        nomination=item.nomination,
        sitting=item.session,
        entries=entries,
        people=users_by_id(db.session, [p.recorded_by_id for p in history]),
        trail=trail(*(("payout", p.id) for p in history)),
    )


def _payments_of(item_ids) -> dict[int, list[Payout]]:
    """Return every payout of each item, oldest first (voided and failed ones too)."""
    ids = list(item_ids)
    found: dict[int, list[Payout]] = {}
    if not ids:
        return found
    for p in db.session.scalars(select(Payout).where(Payout.item_id.in_(ids)).order_by(Payout.id)):
        found.setdefault(p.item_id, []).append(p)
    return found


@bp.route("/members/<int:member_id>")
@allow(*READERS)
def member(member_id: int):
    """The person behind a register entry (by IIN): every reward and payment they received."""
    person = db.session.get(Member, member_id)
    if person is None:
        abort(404)
    in_scope(person.unit_id)
    # A person may be in the register more than once (a public assistant and a patrol member,
    # or again after leaving), from the web, a walk-in application or an import; an activist
    # rewarded for a sober-settlement initiative is named by an account linked to the IIN.
    entries = db.session.scalars(
        select(Member)
        .where(Member.iin_index == person.iin_index)
        .order_by(Member.issued_on, Member.id)
    ).all()
    entry = aliased(Member)
    recipient = or_(
        entry.iin_index == person.iin_index,
        and_(
            Nomination.member_id.is_(None),
            persons.key_is_user(person.iin_index, Nomination.recipient_user_id),
        ),
    )
    rewarded = db.session.execute(
        select(AgendaItem, CommissionSession, Commission)
        .join(CommissionSession, AgendaItem.session_id == CommissionSession.id)
        .join(Commission, CommissionSession.commission_id == Commission.id)
        .join(Nomination, AgendaItem.nomination_id == Nomination.id)
        .outerjoin(entry, entry.id == Nomination.member_id)
        .join(places.AdminUnit, Commission.unit_id == places.AdminUnit.id)
        .where(recipient, AgendaItem.outcome == "approved", scope().units())
        .order_by(CommissionSession.held_on.desc(), AgendaItem.id.desc())
    ).all()
    backing = _backing(item.nomination_id for item, _s, _c in rewarded)
    contributions = [c for item, _s, _c in rewarded for c in backing.get(item.nomination_id, [])]
    payments = _payments_of(item.id for item, _s, _c in rewarded)
    paid = [p for found in payments.values() for p in found if p.status == "paid"]
    covered = scope().unit_ids_covered(db.session)  # one query for all entries, not one each
    return render_template(
        "oversight/member.html",
        person=person,
        entries=[m for m in entries if covered is None or m.unit_id in covered],
        rewarded=rewarded,
        backing=backing,
        payments=payments,
        paid_count=len(paid),
        paid_total=sum(p.amount_tiyn for p in paid),
        people=users_by_id(db.session, (c.decided_by_id for c in contributions)),
        trail=trail(*(("member", m.id) for m in entries)),
    )


@bp.route("/contributions/<int:contribution_id>")
@allow(*READERS)
def contribution(contribution_id: int):
    record = db.session.get(Contribution, contribution_id)
    if record is None:
        abort(404)
    in_scope(record.unit_id)
    nominations = db.session.scalars(
        select(Nomination)
        .join(NominationContribution, NominationContribution.nomination_id == Nomination.id)
        .where(NominationContribution.contribution_id == record.id)
        .order_by(Nomination.id)
    ).all()
    items = {
        item.nomination_id: item
        for item in db.session.scalars(
            select(AgendaItem).where(
                AgendaItem.nomination_id.in_([n.id for n in nominations] or [0]),
                AgendaItem.outcome == "approved",
            )
        )
    }
    return render_template(
        "oversight/contribution.html",
        record=record,
        person=db.session.get(Member, record.member_id),
        nominations=nominations,
        items=items,
        people=users_by_id(db.session, [record.logged_by_id, record.decided_by_id]),
        trail=trail(("contribution", record.id)),
    )
