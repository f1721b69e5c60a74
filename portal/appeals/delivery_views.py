"""Staff steps on paper and sittings: notice and act receipts, stated reasons, restored terms."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from appeals import complaints, hearings
from core.db import utcnow
from portal.appeals import complaint_views
from portal.appeals.blueprint import CASE_READERS, bp
from portal.appeals.forms import ActReceiptForm, DeliveryForm, RestoreTermForm, StatedReasonsForm
from portal.appeals.hearing_views import (
    _acting_hearing,
    _carried_step,
    _consequence,
    _step,
    act_roles,
)
from portal.confirmation import carried_fields, confirm_page, is_confirmed
from portal.errors import flash_form_errors, on_refusal
from portal.extensions import db
from portal.security import allow, current_scope


@bp.route("/appeals/hearings/<int:hearing_id>/delivery", methods=["POST"])
@allow(*CASE_READERS)
def record_delivery(hearing_id: int):
    found = _acting_hearing(hearing_id)
    return _carried_step(
        found,
        DeliveryForm(),
        "delivery_form",
        lambda carried: _consequence(
            found,
            _("Yes, record the receipt"),
            "appeals.record_delivery",
            _(
                "The terms to object and to ask for an oral hearing run from this day; "
                "the receipt cannot be recorded again."
            ),
            carried,
        ),
        lambda f: hearings.record_delivery(
            db.session,
            hearing_id=found.id,
            received_on=f.received_on.data,
            how=f.how.data,
            actor_id=current_user.id,
            scope=current_scope(*act_roles(found.act_kind)),
            now=utcnow(),
        ),
        _("The receipt of the notice has been recorded: the terms run."),
    )


@bp.route("/appeals/hearings/<int:hearing_id>/act-receipt", methods=["POST"])
@allow(*CASE_READERS)
def record_act_receipt(hearing_id: int):
    found = _acting_hearing(hearing_id)
    return _carried_step(
        found,
        ActReceiptForm(),
        "act_receipt_form",
        lambda carried: _consequence(
            found,
            _("Yes, record the receipt"),
            "appeals.record_act_receipt",
            _("The complaint term runs from this day; the receipt cannot be recorded again."),
            carried,
        ),
        lambda f: hearings.record_act_receipt(
            db.session,
            hearing_id=found.id,
            received_on=f.received_on.data,
            actor_id=current_user.id,
            scope=current_scope(*act_roles(found.act_kind)),
            now=utcnow(),
        ),
        _("The receipt of the act has been recorded."),
    )


@bp.route("/appeals/hearings/<int:hearing_id>/reasons", methods=["POST"])
@allow(*CASE_READERS)
def state_reasons(hearing_id: int):
    found = _acting_hearing(hearing_id)
    form = StatedReasonsForm()
    return _step(
        found,
        lambda f: hearings.set_sitting_hearing_reasons(
            db.session,
            hearing_id=found.id,
            reasons=f.reasons.data,
            actor_id=current_user.id,
            scope=current_scope(*act_roles(found.act_kind)),
            now=utcnow(),
        ),
        _("How the objections were considered has been saved."),
        form,
        "reasons_form",
    )


@bp.route("/appeals/complaints/<int:complaint_id>/restore-term", methods=["POST"])
@allow(*CASE_READERS)
def restore_term(complaint_id: int):
    found = complaint_views.staff_complaint(complaint_id)
    form = RestoreTermForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return complaint_views.complaint_page(found, 400, restore_form=form)
    if not is_confirmed():
        return confirm_page(
            complaint_views._consequence(
                found,
                _("Yes, restore the term"),
                "appeals.restore_term",
                _(
                    "The complaint counts as filed in time and is considered on its merits; "
                    "a suspension or expulsion it challenges is suspended meanwhile."
                ),
                carried_fields(),
            ),
            422,
        )
    with on_refusal(
        lambda status: complaint_views.complaint_page(found, status, restore_form=form),
        field=form,
    ):
        complaints.restore_term(
            db.session,
            complaint_id=found.id,
            reasons=form.reasons.data,
            actor_id=current_user.id,
            scope=current_scope(*CASE_READERS),
            now=utcnow(),
        )
    db.session.commit()
    flash(_("The complaint term has been restored."), "success")
    return redirect(url_for("appeals.complaint", complaint_id=found.id))
