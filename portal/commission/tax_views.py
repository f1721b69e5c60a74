"""The finance department's tax rates withheld from rewards, per jurisdiction and reward form."""

from __future__ import annotations

from decimal import Decimal

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user

from core.money import parse_tenge
from incentives import queries as reward_queries
from incentives import tax_rates
from portal.commission.blueprint import bp
from portal.commission.payout_forms import tax_rate_form
from portal.commission.roles import AKIMAT_LEVELS, PAYERS, PAYOUT_READERS
from portal.errors import on_refusal
from portal.extensions import db
from portal.forms import unit_choices
from portal.security import allow, current_scope, holds


def percent(basis_points: int) -> str:
    """Show basis points as a per cent figure of the locale: 1050 → 10,5."""
    return format_decimal(Decimal(basis_points) / 100)


def _page(form, status: int = 200):
    rows = db.session.execute(
        reward_queries.tax_rates(current_scope(*PAYOUT_READERS)).limit(500)
    ).all()
    return render_template(
        "commission/tax_rates.html", rows=rows, form=form, percent=percent
    ), status


@bp.route("/tax-rates", methods=["GET", "POST"])
@allow(*PAYOUT_READERS)
def tax_rates_page():
    """List the rates in scope; a finance officer enters a new one for their jurisdiction."""
    choices = unit_choices(current_scope(*PAYERS), AKIMAT_LEVELS)
    form = tax_rate_form(choices) if choices else None
    if request.method != "POST":
        return _page(form)
    if form is None:
        abort(403)  # a deputy reads the rates; only the finance department enters them
    if not form.validate_on_submit():
        return _page(form, 400)
    if not holds(form.unit_id.data, *PAYERS):  # the choices are the scope; kept explicit
        return _page(form, 403)
    with on_refusal(lambda status: _page(form, status)):
        tax_rates.enter_rate(
            db.session,
            unit_id=form.unit_id.data,
            form=form.form.data,
            effective_from=form.effective_from.data,
            rate_bp=tax_rates.parse_percent(form.rate.data),
            exempt_tiyn=parse_tenge(form.exempt.data) if (form.exempt.data or "").strip() else 0,
            legal_basis=form.legal_basis.data,
            actor_id=current_user.id,
        )
    db.session.commit()
    flash(_("The tax rate has been recorded."), "success")
    return redirect(url_for("commission.tax_rates_page"))
