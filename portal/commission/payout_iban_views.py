"""The payout page's IBAN: the recipient's own, shown masked, and asking them for a missing one."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.outputs import mask_iban
from incentives import payout_iban
from incentives.models import AgendaItem
from portal import session_policy
from portal.commission.blueprint import bp
from portal.commission.forms import PaymentForm
from portal.commission.payout_forms import OwnIbanPaymentForm
from portal.commission.roles import PAYERS
from portal.errors import on_refusal
from portal.extensions import db
from portal.forms import ConfirmForm
from portal.security import allow


def payment_form(item: AgendaItem, **values) -> PaymentForm:
    """Return the payment form: without an IBAN field when the recipient enters their own."""
    if payout_iban.enters_own_iban(item):
        return OwnIbanPaymentForm(**values)
    return PaymentForm(**values)


def iban_context(item: AgendaItem) -> dict:
    """Return what the payout page says about the recipient's IBAN."""
    if not payout_iban.enters_own_iban(item):
        return {"own_iban": False}
    iban = payout_iban.recipient_iban(db.session, item)
    return {
        "own_iban": True,
        "recipient_iban": mask_iban(iban) if iban else None,
        "iban_missing": _(payout_iban.IBAN_MISSING) if iban is None else None,
        "ask_form": ConfirmForm(),
    }


@bp.route("/payouts/<int:item_id>/ask-iban", methods=["POST"])
@allow(*PAYERS)
@session_policy.fresh_required
def ask_iban(item_id: int):
    from portal.commission.payout_views import _approved_item, _payout_page

    item = _approved_item(item_id, *PAYERS)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with on_refusal(lambda status: _payout_page(item, status)):
        payout_iban.ask_for_iban(db.session, item=item, actor_id=current_user.id)
    db.session.commit()
    flash(_("The recipient has been asked to enter their IBAN."), "success")
    return redirect(url_for("commission.payout", item_id=item_id))
