"""The reveal of a masked IIN or IBAN: a second factor, password again, a reason, one view."""

from __future__ import annotations

import re

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from core import audit
from incentives.models import Payout
from portal import pii, session_policy
from portal.errors import flash_form_errors, on_refusal
from portal.extensions import db
from portal.forms import PortalForm
from portal.oversight.blueprint import bp
from portal.security import allow, require_unit
from volunteers.models import Member

REVEALERS = ("registrar", "coordinator", "finance")
_NUMBER = re.compile(r"\d{12}")


def _member(object_id: int):
    member = db.session.get(Member, object_id)
    if member is None:
        abort(404)
    return (
        member.unit_id,
        ("coordinator", "registrar"),
        url_for("volunteers.member", member_id=member.id),
    )


def _payout(object_id: int):
    payout = db.session.get(Payout, object_id)
    if payout is None or not payout.iban:
        abort(404)
    unit_id = payout.item.session.commission.unit_id
    return unit_id, ("finance",), url_for("commission.payout", item_id=payout.item_id)


def _application(object_id: int):
    from volunteers.models import Application

    application = db.session.get(Application, object_id)
    if application is None:
        abort(404)
    return (
        application.unit_id,
        ("coordinator", "registrar"),
        url_for("volunteers.application", application_id=application.id),
    )


# (object type, field) -> loader returning (unit id, roles that may reveal, page to return to)
TARGETS = {
    ("member", "iin"): _member,
    ("application", "iin"): _application,
    ("payout", "iban"): _payout,
}
FIELD_LABELS = {"iin": _l("IIN"), "iban": _l("IBAN")}


class RevealForm(PortalForm):
    password = PasswordField(_l("Your password"), validators=[Length(max=128)])
    code = StringField(
        _l("Code"),
        validators=[Length(max=32)],
        description=_l("The 6 digits your authenticator app shows, or a recovery code."),
    )
    reason = TextAreaField(
        _l("Why you need to see it in full"), validators=[DataRequired(), Length(max=500)]
    )

    def validate_reason(self, field):
        if _NUMBER.search(field.data.replace(" ", "")):
            raise ValidationError(_("Do not write the number itself in the reason."))


def _target(object_type: str, object_id: int, field: str) -> str:
    loader = TARGETS.get((object_type, field))
    if loader is None:
        abort(404)
    unit_id, roles, back = loader(object_id)
    # Deputies never see a full IIN or IBAN, whatever other roles they hold elsewhere.
    require_unit(unit_id, *roles, private=True)
    return back


def _confirmed() -> bool:
    """Tell whether this session may reveal without entering the password (and code) again."""
    return session_policy.is_fresh() and session_policy.second_factor_given()


def _page(form, object_type, object_id, field, back, status=200):
    return render_template(
        "oversight/reveal.html",
        form=form,
        fresh=_confirmed(),
        needs_code=session_policy.needs_code(),
        field_label=FIELD_LABELS[field],
        back=back,
        action=url_for(
            "oversight.reveal", object_type=object_type, object_id=object_id, field=field
        ),
    ), status


def _hidden_fields(form: RevealForm) -> list:
    """Return the fields the page does not show: their errors came with no message (S13)."""
    shown = {"reason"}
    if not _confirmed():
        shown |= {"password", "code"} if session_policy.needs_code() else {"password"}
    return [f for f in form if f.name not in shown]


@bp.route("/reveal/<object_type>/<int:object_id>/<field>", methods=["GET", "POST"])
@allow(*REVEALERS)
def reveal(object_type: str, object_id: int, field: str):
    back = _target(object_type, object_id, field)
    if not session_policy.second_factor_given() and not session_policy.needs_code():
        # Every role that may see a full IIN or IBAN needs a second factor, coordinators too.
        flash(_("To see personal data in full, set up two-factor sign-in first."), "warning")
        return redirect(url_for("auth.mfa_setup"))
    form = RevealForm()
    if request.method == "GET":
        return _page(form, object_type, object_id, field, back)
    if not form.validate_on_submit():
        flash_form_errors(_hidden_fields(form))
        return _page(form, object_type, object_id, field, back, 400)
    if not _confirmed():
        with on_refusal(
            lambda status: _page(form, object_type, object_id, field, back, status),
            keep_writes=True,
        ):
            session_policy.reconfirm(form.password.data or "", form.code.data)
    audit.record(
        db.session,
        action="pii.reveal",
        object_type=object_type,
        object_id=object_id,
        actor_id=current_user.id,
        payload={"field": field, "reason": form.reason.data.strip()},
    )
    pii.grant(object_type, object_id, field)
    db.session.commit()
    flash(_("Shown in full on this page view only; the reveal is recorded."), "warning")
    return redirect(back)
