"""A citizen enters (or changes) the IBAN their rewards are paid to, in their cabinet."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from core import payout_accounts
from portal.errors import on_refusal
from portal.extensions import db
from portal.forms import PortalForm
from portal.security import SIGNED_IN, allow
from portal.volunteers.blueprint import bp


class OwnIbanForm(PortalForm):
    iban = StringField(
        _l("IBAN for reward payouts"),
        validators=[DataRequired(), Length(max=50)],
        description=_l("20 characters starting with KZ, as in your bank account details."),
    )


@bp.route("/my/payout-account", methods=["POST"])
@allow(SIGNED_IN)
def own_iban():
    from portal.volunteers.views import cabinet

    form = OwnIbanForm(prefix="payout")
    if not form.validate_on_submit():
        return cabinet(status=400 if "csrf_token" in form.errors else 422, iban_form=form)
    with on_refusal(lambda status: cabinet(status=status, iban_form=form), field=form):
        payout_accounts.set_own_iban(db.session, user_id=current_user.id, iban=form.iban.data)
    db.session.commit()
    flash(_("Your IBAN for reward payouts is saved."), "success")
    return redirect(url_for("volunteers.cabinet", _anchor="payout-account"))
