"""Finance officers' payouts of approved rewards; deputies read them with IBANs masked."""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core.errors import DomainError
from core.money import format_tiyn, parse_tenge
from incentives import payouts
from incentives.models import AgendaItem, Commission, CommissionSession, Payout
from portal import pii, session_policy
from portal.commission.forms import FailureForm, HandOverForm, PaymentForm, VoidForm
from portal.commission.views import (
    PAYERS,
    PAYOUT_READERS,
    _holds,
    _in_scope,
    _states,
    _today,
    _users,
    bp,
)
from portal.errors import flash_form_errors, refuse
from portal.extensions import db
from portal.paging import page_of
from portal.security import allow, require_unit

# ---- finance: payouts -------------------------------------------------------------------------


def _iban(payout: Payout | None, unit_id: int, revealed: frozenset[int] = frozenset()) -> str:
    """Show the IBAN masked; in full only to a finance officer of the unit who revealed it."""
    if payout is None or not payout.iban:
        return "—"
    if payout.id in revealed and _holds(unit_id, *PAYERS):
        return payout.iban
    return payouts.mask_iban(payout.iban)


@bp.route("/payouts")
@allow(*PAYOUT_READERS)
def payouts_list():
    query = _in_scope(
        select(AgendaItem, CommissionSession, Commission)
        .join(CommissionSession, AgendaItem.session_id == CommissionSession.id)
        .join(Commission, CommissionSession.commission_id == Commission.id),
        Commission.unit_id,
        *PAYOUT_READERS,
    ).where(
        AgendaItem.outcome == "approved",
        CommissionSession.status.in_(("closed", "minutes_final")),
    )
    found = page_of(
        query.order_by(
            CommissionSession.held_on.desc(), CommissionSession.id.desc(), AgendaItem.position
        ),
        rows=True,
    )
    rows = found.rows
    states = _states(item.id for item, _s, _c in rows)
    return render_template(
        "commission/payouts.html",
        rows=rows,
        states=states,
        iban=_iban,
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
    state = _states([item.id]).get(item.id)
    may_pay = _holds(unit_id, *PAYERS)
    # A reveal granted just before (fresh password, reason, audited) shows for this view only.
    revealed = frozenset(
        p.id for p in history if may_pay and p.iban and pii.take("payout", p.id, "iban")
    )
    context = {
        "item": item,
        "nomination": item.nomination,
        "sitting": item.session,
        "history": history,
        "state": state,
        "iban": lambda p: _iban(p, unit_id, revealed),
        "revealed": lambda p: p.id in revealed,
        "may_pay": may_pay,
        "people": _users(p.recorded_by_id for p in history),
    }
    settled = state is not None and state.status in (*payouts.LIVE, "voided")
    if may_pay and not settled:
        if item.nomination.form == "cash":
            context["pay_form"] = forms.get("pay_form") or PaymentForm(
                amount=format_tiyn(item.nomination.amount_tiyn).removesuffix("\u00a0₸"),
                order_date=_today(),
                key=uuid.uuid4().hex,
            )
            context["fail_form"] = forms.get("fail_form") or FailureForm(prefix="fail")
        else:
            context["hand_form"] = forms.get("hand_form") or HandOverForm(handed_on=_today())
        context["void_form"] = forms.get("void_form") or VoidForm(prefix="void")
    return render_template("commission/payout.html", **context), status


@bp.route("/payouts/<int:item_id>")
@allow(*PAYOUT_READERS)
def payout(item_id: int):
    return _payout_page(_approved_item(item_id, *PAYOUT_READERS))


def _payout_action(item_id: int, form, form_name: str, action, message: str):
    item = _approved_item(item_id, *PAYERS)
    if not form.validate_on_submit():
        flash_form_errors(form)  # flash_form_errors: the page may not show the form (S13)
        return _payout_page(item, 400, **{form_name: form})
    try:
        action(item, form)
    except DomainError as exc:
        status = refuse(exc)
        return _payout_page(db.session.get(AgendaItem, item_id), status, **{form_name: form})
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("commission.payout", item_id=item_id))


@bp.route("/payouts/<int:item_id>/pay", methods=["POST"])
@allow(*PAYERS)
@session_policy.fresh_required
def pay(item_id: int):
    return _payout_action(
        item_id,
        PaymentForm(),
        "pay_form",
        lambda item, f: payouts.record_payment(
            db.session,
            item_id=item.id,
            iban=f.iban.data,
            order_number=f.order_number.data,
            order_date=f.order_date.data,
            amount_tiyn=parse_tenge(f.amount.data),
            idempotency_key=f.key.data,
            actor_id=current_user.id,
            today=_today(),
        ),
        _("The payment has been recorded."),
    )


@bp.route("/payouts/<int:item_id>/fail", methods=["POST"])
@allow(*PAYERS)
@session_policy.fresh_required
def fail(item_id: int):
    return _payout_action(
        item_id,
        FailureForm(prefix="fail"),
        "fail_form",
        lambda item, f: payouts.record_failure(
            db.session,
            item_id=item.id,
            iban=f.iban.data,
            order_number=f.order_number.data,
            reason=f.reason.data,
            actor_id=current_user.id,
        ),
        _("The failed payment has been recorded; the payment can be retried."),
    )


@bp.route("/payouts/<int:item_id>/void", methods=["POST"])
@allow(*PAYERS)
@session_policy.fresh_required
def void(item_id: int):
    return _payout_action(
        item_id,
        VoidForm(prefix="void"),
        "void_form",
        lambda item, f: payouts.void(
            db.session, item_id=item.id, reason=f.reason.data, actor_id=current_user.id
        ),
        _("The reward has been voided; its commitment is released."),
    )


@bp.route("/payouts/<int:item_id>/hand-over", methods=["POST"])
@allow(*PAYERS)
@session_policy.fresh_required
def hand_over(item_id: int):
    return _payout_action(
        item_id,
        HandOverForm(),
        "hand_form",
        lambda item, f: payouts.hand_over(
            db.session,
            item_id=item.id,
            handed_on=f.handed_on.data,
            actor_id=current_user.id,
            today=_today(),
        ),
        _("The reward has been recorded as handed over."),
    )
