"""Finance officers' payouts of approved rewards; deputies read them with IBANs masked."""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core import clock
from core.accounts import users_by_id
from core.money import format_tiyn, parse_tenge
from incentives import payout_iban, payouts
from incentives import queries as reward_queries
from incentives.models import AgendaItem, CommissionSession, Payout, PayoutTaxRate
from portal import pii, session_policy
from portal.commission import confirm_steps
from portal.commission.blueprint import bp
from portal.commission.forms import PaymentForm
from portal.commission.page_reads import payout_states
from portal.commission.payout_forms import KeyedFailureForm, KeyedHandOverForm, KeyedVoidForm
from portal.commission.payout_iban_views import iban_context, payment_form  # and its route
from portal.commission.roles import PAYERS, PAYOUT_READERS
from portal.commission.tax_views import percent  # its routes register on ``bp`` too
from portal.confirmation import carried_fields, confirm_page, is_confirmed
from portal.errors import flash_form_errors, on_refusal
from portal.extensions import db
from portal.i18n import language, local_dates
from portal.paging import page_of, row_link
from portal.security import allow, current_scope, holds, require_unit

# ---- finance: payouts -------------------------------------------------------------------------


def _iban(payout: Payout | None, unit_id: int, revealed: frozenset[int] = frozenset()) -> str:
    """Show the IBAN masked; in full only to a finance officer of the unit who revealed it."""
    if payout is None or not payout.iban:
        return "—"
    if payout.id in revealed and holds(unit_id, *PAYERS):
        return payout.iban
    return payouts.mask_iban(payout.iban)


@bp.route("/payouts")
@allow(*PAYOUT_READERS)
def payouts_list():
    query = reward_queries.approved_item_rows(current_scope(*PAYOUT_READERS), language())
    found = page_of(
        query.order_by(
            CommissionSession.held_on.desc(), CommissionSession.id.desc(), AgendaItem.position
        ),
        rows=True,
    )
    rows = found.rows
    return render_template(
        "commission/payouts.html",
        rows=rows,
        states=payout_states(row.id for row in rows),
        # what_comes_first reads the sitting's status and act number, which the rows carry.
        waiting={row.session_id: payouts.what_comes_first(row) for row in rows},
        iban=_iban,
        # One address pattern and each sitting's date formatted once, not per row (as the
        # sessions' list does): 50 url_for and local_date calls were 5% of the page (issue 16).
        payout_href=row_link("commission.payout", "item_id"),
        dates=local_dates(row.held_on for row in rows),
        page=found.page,
        pages=found.pages,
        args={},
    )


def _approved_item(item_id: int, *roles: str) -> AgendaItem:
    item = db.session.get(AgendaItem, item_id)
    if (
        item is None
        or item.outcome != "approved"
        or item.session.status not in ("closed", "minutes_final")
    ):
        abort(404)
    require_unit(item.session.commission.unit_id, *roles, private=True)
    return item


def _payout_page(item: AgendaItem, status: int = 200, **forms):
    unit_id = item.session.commission.unit_id
    history = db.session.scalars(
        select(Payout).where(Payout.item_id == item.id).order_by(Payout.id)
    ).all()
    state = payout_states([item.id]).get(item.id)
    may_pay = holds(unit_id, *PAYERS)
    # A reveal granted just before (fresh password, reason, audited) shows for this view only.
    revealed = frozenset(
        p.id for p in history if may_pay and p.iban and pii.take("payout", p.id, "iban")
    )
    nomination = item.nomination
    today = clock.today()
    # What comes first (final minutes, then the akimat's act), shown instead of the forms.
    blocker = payouts.what_comes_first(item.session)
    money = nomination.form in ("cash", "valuable_gift") and nomination.amount_tiyn > 0
    rate = (
        payouts.rate_for(db.session, unit_id=unit_id, form=nomination.form, on=today)
        if money
        else None
    )
    context = {
        "item": item,
        "nomination": nomination,
        "sitting": item.session,
        "history": history,
        "state": state,
        "iban": lambda p: _iban(p, unit_id, revealed),
        "revealed": lambda p: p.id in revealed,
        "may_pay": may_pay,
        "people": users_by_id(db.session, (p.recorded_by_id for p in history)),
        "blocker": _(blocker) if blocker else None,  # a plain str: the page escapes it
        "money": money,
        "rate": rate,
        "withheld": payouts.withholding(rate, nomination.amount_tiyn),
        "rates": {r.id: r for r in _rates_of(history)},
        "percent": percent,
    }
    settled = state is not None and state.status in (*payouts.LIVE, "voided")
    context.update(iban_context(item))
    if may_pay and not settled:
        if blocker is None and nomination.form == "cash":
            context["pay_form"] = forms.get("pay_form") or payment_form(
                item,
                amount=format_tiyn(nomination.amount_tiyn).removesuffix("\u00a0₸"),
                order_date=today,
                key=uuid.uuid4().hex,
            )
            context["fail_form"] = forms.get("fail_form") or KeyedFailureForm(
                prefix="fail", key=uuid.uuid4().hex
            )
        elif blocker is None:
            context["hand_form"] = forms.get("hand_form") or KeyedHandOverForm(
                handed_on=today, hand_key=uuid.uuid4().hex
            )
        context["void_form"] = forms.get("void_form") or KeyedVoidForm(
            prefix="void", key=uuid.uuid4().hex
        )
    return render_template("commission/payout.html", **context), status


def _rates_of(history) -> list[PayoutTaxRate]:
    ids = {p.tax_rate_id for p in history if p.tax_rate_id}
    if not ids:
        return []
    return list(db.session.scalars(select(PayoutTaxRate).where(PayoutTaxRate.id.in_(ids))))


@bp.route("/payouts/<int:item_id>")
@allow(*PAYOUT_READERS)
def payout(item_id: int):
    return _payout_page(_approved_item(item_id, *PAYOUT_READERS))


def _payout_action(item_id: int, form, form_name: str, action, message: str):
    item = _approved_item(item_id, *PAYERS)
    if not form.validate_on_submit():
        flash_form_errors(form)  # flash_form_errors: the page may not show the form (S13)
        return _payout_page(item, 400, **{form_name: form})
    with on_refusal(lambda status: _payout_page(item, status, **{form_name: form})):
        action(item, form)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("commission.payout", item_id=item_id))


@bp.route("/payouts/<int:item_id>/pay", methods=["POST"])
@allow(*PAYERS)
@session_policy.fresh_required
def pay(item_id: int):
    form = payment_form(_approved_item(item_id, *PAYERS))
    if not is_confirmed():
        return _confirm_payment(item_id, form)
    return _payout_action(
        item_id,
        form,
        "pay_form",
        lambda item, f: payouts.record_payment(
            db.session,
            item_id=item.id,
            iban=payout_iban.iban_to_pay(db.session, item, f.iban and f.iban.data),
            order_number=f.order_number.data,
            order_date=f.order_date.data,
            amount_tiyn=parse_tenge(f.amount.data),
            idempotency_key=f.key.data,
            actor_id=current_user.id,
            today=clock.today(),
        ),
        _("The payment has been recorded."),
    )


def _confirm(item_id: int, form, form_name: str, consequence_of):
    """Answer a step's form with what it will do (422: nothing is done yet), after its checks."""
    item = _approved_item(item_id, *PAYERS)
    if not form.validate_on_submit():
        flash_form_errors(form)  # flash_form_errors: the page may not show the form (S13)
        return _payout_page(item, 400, **{form_name: form})
    with on_refusal(lambda status: _payout_page(item, status, **{form_name: form})):
        consequence = consequence_of(item)
    return confirm_page(consequence, 422)


def _confirm_payment(item_id: int, form: PaymentForm):
    return _confirm(
        item_id,
        form,
        "pay_form",
        lambda item: confirm_steps.record_payment(
            item,
            amount_tiyn=parse_tenge(form.amount.data),
            iban=payout_iban.iban_to_pay(db.session, item, form.iban and form.iban.data),
            order_number=form.order_number.data,
            order_date=form.order_date.data,
            carried=carried_fields(),
        ),
    )


@bp.route("/payouts/<int:item_id>/fail", methods=["POST"])
@allow(*PAYERS)
@session_policy.fresh_required
def fail(item_id: int):
    return _payout_action(
        item_id,
        KeyedFailureForm(prefix="fail"),
        "fail_form",
        lambda item, f: payouts.record_failure(
            db.session,
            item_id=item.id,
            iban=f.iban.data,
            order_number=f.order_number.data,
            reason=f.reason.data,
            actor_id=current_user.id,
            idempotency_key=f.key.data,
        ),
        _("The failed payment has been recorded; the payment can be retried."),
    )


@bp.route("/payouts/<int:item_id>/void", methods=["POST"])
@allow(*PAYERS)
@session_policy.fresh_required
def void(item_id: int):
    form = KeyedVoidForm(prefix="void")
    if not is_confirmed():
        return _confirm(
            item_id,
            form,
            "void_form",
            lambda item: confirm_steps.void_reward(
                item, reason=form.reason.data, carried=carried_fields()
            ),
        )
    return _payout_action(
        item_id,
        form,
        "void_form",
        lambda item, f: payouts.void(
            db.session,
            item_id=item.id,
            reason=f.reason.data,
            actor_id=current_user.id,
            idempotency_key=f.key.data,
        ),
        _("The reward has been voided; its commitment is released."),
    )


@bp.route("/payouts/<int:item_id>/hand-over", methods=["POST"])
@allow(*PAYERS)
@session_policy.fresh_required
def hand_over(item_id: int):
    form = KeyedHandOverForm()
    if not is_confirmed():
        return _confirm(
            item_id,
            form,
            "hand_form",
            lambda item: confirm_steps.hand_over(
                item, handed_on=form.handed_on.data, carried=carried_fields()
            ),
        )
    return _payout_action(
        item_id,
        form,
        "hand_form",
        lambda item, f: payouts.hand_over(
            db.session,
            item_id=item.id,
            handed_on=f.handed_on.data,
            actor_id=current_user.id,
            today=clock.today(),
            idempotency_key=f.hand_key.data,
        ),
        _("The reward has been recorded as handed over."),
    )
