"""What closing a sitting, signing its minutes, paying, voiding or handing over a reward do."""

from __future__ import annotations

import datetime as dt

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import select

from budget.appropriations import program_code
from budget.models import BudgetLine, BudgetProgram
from core.errors import N_, Conflict, DomainError
from core.money import format_tiyn
from incentives import agenda as agendas
from incentives import payouts
from incentives.awards import line_for
from incentives.models import AgendaItem, CommissionSession, Nomination
from incentives.payout_guards import refuse_if_settled
from portal.confirmation import Consequence
from portal.extensions import db
from portal.i18n import local_date, local_name, money
from portal.labels import REWARD_FORM_LABELS


def _line_label(line: BudgetLine | None) -> str:
    """Name a budget line as finance does: program name, classification code, balance."""
    if line is None:
        return _("None approved: money rewards are deferred.")
    program = db.session.get(BudgetProgram, line.program_id)
    free = line.approved_tiyn - line.committed_tiyn - line.disbursed_tiyn
    return _(
        "%(name)s (code %(code)s), free balance %(free)s",
        name=local_name(program),
        code=program_code(program),
        free=money(free),
    )


def _session_facts(sitting: CommissionSession) -> list[tuple[str, str]]:
    return [
        (_("Commission"), local_name(sitting.commission)),
        (
            _("Session"),
            _("No. %(number)s of %(date)s", number=sitting.id, date=local_date(sitting.held_on)),
        ),
    ]


def close_session(sitting: CommissionSession) -> Consequence:
    """Closing decides every item by the votes cast and commits the approved money."""
    items = agendas.items(db.session, [sitting.id])
    purposes = db.session.scalars(
        select(Nomination.purpose)
        .join(AgendaItem, AgendaItem.nomination_id == Nomination.id)
        .where(AgendaItem.session_id == sitting.id, Nomination.amount_tiyn > 0)
        .distinct()
    ).all()
    unit_id, year = sitting.commission.unit_id, sitting.held_on.year
    lines = [_line_label(line_for(db.session, unit_id, year, p)) for p in sorted(purposes)]
    with_majority = sum(
        i.amount_tiyn
        for i in items
        if i.tally["for"] * 2 > i.tally["for"] + i.tally["against"] + i.tally["abstain"]
    )
    facts = [
        *_session_facts(sitting),
        (_("Items on the agenda"), str(len(items))),
        (_("Money proposed"), money(sum(i.amount_tiyn for i in items))),
        (_("Money with a majority for so far"), money(with_majority)),
        *((_("Budget line"), label) for label in lines),
    ]
    return Consequence(
        title=_("Close the session and decide?"),
        verb=_("Yes, close the session and decide"),
        action=url_for("commission.close_session", session_id=sitting.id),
        cancel=url_for("commission.session_page", session_id=sitting.id),
        consequence=_(
            "Closing decides every item by the votes cast: each approved money reward commits "
            "its amount on the budget line at once. A closed session cannot be reopened."
        ),
        facts=facts,
        table_head=[_("No."), _("Recipient"), _("Form of reward"), _("Amount"), _("For")],
        table=[
            [
                str(i.position),
                i.recipient,
                REWARD_FORM_LABELS[i.form],
                money(i.amount_tiyn) if i.amount_tiyn else "—",
                str(i.tally["for"]),
            ]
            for i in items
        ],
    )


def finalize_minutes(sitting: CommissionSession) -> Consequence:
    """Final minutes never change; payments may follow once the akimat's act is recorded."""
    approved = db.session.execute(
        select(AgendaItem.position, Nomination, AgendaItem.line_id)
        .join(Nomination, Nomination.id == AgendaItem.nomination_id)
        .where(AgendaItem.session_id == sitting.id, AgendaItem.outcome == "approved")
        .order_by(AgendaItem.position)
    ).all()
    line_ids = sorted({line_id for _p, _n, line_id in approved if line_id})
    lines = [_line_label(db.session.get(BudgetLine, line_id)) for line_id in line_ids]
    facts = [
        *_session_facts(sitting),
        (_("Rewards approved"), str(len(approved))),
        (
            _("Money committed"),
            money(sum(n.amount_tiyn for _p, n, line_id in approved if line_id)),
        ),
        *((_("Budget line"), label) for label in lines),
    ]
    return Consequence(
        title=_("Finalise the minutes?"),
        verb=_("Yes, finalise the minutes"),
        action=url_for("commission.finalize_minutes", session_id=sitting.id),
        cancel=url_for("commission.session_page", session_id=sitting.id),
        consequence=_(
            "Final minutes never change: their text and hash enter the audit chain. The "
            "approved rewards can be paid once the akimat's act is recorded."
        ),
        facts=facts,
        table_head=[_("No."), _("Recipient"), _("Form of reward"), _("Amount")],
        table=[
            [str(p), n.recipient, REWARD_FORM_LABELS[n.form], money(n.amount_tiyn) or "—"]
            for p, n, _line in approved
        ],
    )


def _session_fact(item: AgendaItem) -> tuple[str, str]:
    return (
        _("Session"),
        _(
            "No. %(number)s of %(date)s",
            number=item.session_id,
            date=local_date(item.session.held_on),
        ),
    )


def record_payment(
    item: AgendaItem,
    *,
    amount_tiyn: int,
    iban: str,
    order_number: str,
    order_date: dt.date,
    carried: dict[str, str],
) -> Consequence:
    """A recorded payment disburses its gross from the line and cannot be recorded again.

    The typed IBAN and amount are checked first (the same refusals as the step's), so that
    what is confirmed is what can be recorded.
    """
    nomination = item.nomination
    # Nothing to confirm while the minutes or the akimat's act are missing: say so (409) now.
    waiting = payouts.what_comes_first(item.session)
    if waiting:
        raise Conflict(waiting)
    iban = payouts.normalize_iban(iban)
    if not 0 < amount_tiyn <= nomination.amount_tiyn:
        raise DomainError(
            N_("%(amount)s is more than the commission approved, %(approved)s.")
            if amount_tiyn > 0
            else N_("The amount must be greater than zero."),
            amount=format_tiyn(amount_tiyn),
            approved=format_tiyn(nomination.amount_tiyn),
        )
    line = db.session.get(BudgetLine, item.line_id) if item.line_id else None
    return Consequence(
        title=_("Record the payment?"),
        verb=_("Yes, record the payment"),
        action=url_for("commission.pay", item_id=item.id),
        cancel=url_for("commission.payout", item_id=item.id),
        consequence=_(
            "%(amount)s is recorded as paid to %(name)s and leaves the budget line: "
            "the payment is not recorded twice and cannot be taken back, only voided.",
            amount=money(amount_tiyn),
            name=nomination.recipient,
        ),
        facts=[
            (_("Recipient"), nomination.recipient),
            (_("Amount paid"), money(amount_tiyn)),
            (_("Approved"), money(nomination.amount_tiyn)),
            (_("Budget line"), _line_label(line)),
            (_("IBAN"), payouts.mask_iban(iban)),
            (
                _("Payment order"),
                _("No. %(number)s of %(date)s", number=order_number, date=local_date(order_date)),
            ),
            _session_fact(item),
        ],
        carried=carried,
    )


def void_reward(item: AgendaItem, *, reason: str, carried: dict[str, str]) -> Consequence:
    """Voiding a reward releases its commitment to the line: the reward is never paid."""
    refuse_if_settled(db.session, item.id)  # settled: 409 now, not after a "Yes"
    nomination = item.nomination
    line = db.session.get(BudgetLine, item.line_id) if item.line_id else None
    return Consequence(
        title=_("Void the reward?"),
        verb=_("Yes, void the reward"),
        action=url_for("commission.void", item_id=item.id),
        cancel=url_for("commission.payout", item_id=item.id),
        consequence=_(
            "The reward to %(name)s will never be paid: what it holds on the budget line is "
            "released. This cannot be taken back.",
            name=nomination.recipient,
        ),
        facts=[
            (_("Recipient"), nomination.recipient),
            (_("Form of reward"), REWARD_FORM_LABELS[nomination.form]),
            (_("Approved"), money(nomination.amount_tiyn) if nomination.amount_tiyn else "—"),
            (_("Budget line"), _line_label(line)),
            (_("Why the reward will not be paid"), reason),
            _session_fact(item),
        ],
        carried=carried,
    )


def hand_over(item: AgendaItem, *, handed_on: dt.date, carried: dict[str, str]) -> Consequence:
    """Recording a hand-over settles a non-cash reward once and for all."""
    waiting = payouts.what_comes_first(item.session)
    if waiting:
        raise Conflict(waiting)
    refuse_if_settled(db.session, item.id)
    nomination = item.nomination
    return Consequence(
        title=_("Record the hand-over?"),
        verb=_("Yes, record the hand-over"),
        action=url_for("commission.hand_over", item_id=item.id),
        cancel=url_for("commission.payout", item_id=item.id),
        consequence=_(
            "The reward is recorded as handed over to %(name)s on %(date)s; what it cost "
            "leaves the budget line. It cannot be recorded again or taken back.",
            name=nomination.recipient,
            date=local_date(handed_on),
        ),
        facts=[
            (_("Recipient"), nomination.recipient),
            (_("Form of reward"), REWARD_FORM_LABELS[nomination.form]),
            (_("Value"), money(nomination.amount_tiyn) if nomination.amount_tiyn else "—"),
            _session_fact(item),
        ],
        carried=carried,
    )
