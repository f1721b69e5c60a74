"""Retention of personal data: the rules per kind of closed record, and running the erasure."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from core import jobruns
from portal import jobs
from portal.admin.blueprint import bp
from portal.errors import on_refusal
from portal.extensions import db
from portal.forms import (
    ConfirmForm,
    IntegerField,  # bounded (fuzzing fix, S13)
    PortalForm,
)
from portal.security import administers_country, allow, require_country_admin
from volunteers import erasure, retention

KIND_LABELS = {
    "consent_withdrawn": _l("Consent to personal-data processing withdrawn"),
    "application_refused": _l("Application refused"),
    "application_withdrawn": _l("Application withdrawn"),
    "member_expelled": _l("Member expelled from the register"),
    "member_withdrawn": _l("Member left the register"),
    "member_expired": _l("Certificate expired"),
}
ACTION_LABELS = {
    "erase": _l("Erase"),
    "anonymise": _l("Anonymise"),
}


class RetentionRuleForm(PortalForm):
    months = IntegerField(
        _l("Kept for, months"),
        validators=[InputRequired(), NumberRange(min=0, max=retention.MAX_MONTHS)],
        description=_l("Counted from the day the record closed; 0: at the next nightly run."),
    )
    action = SelectField(
        _l("Then"),
        choices=[
            SelectChoice(
                "anonymise",
                _l("Anonymise: names, IIN and contacts go; the birth year and reasons stay"),
            ),
            SelectChoice("erase", _l("Erase: the birth date and written reasons go too")),
        ],
    )
    legal_basis = TextAreaField(
        _l("Legal basis"), validators=[DataRequired(), Length(max=2000)], render_kw={"rows": 4}
    )


@bp.route("/retention")
@allow("admin")
def retention_rules():
    """The retention rules, the last run of the erasure and the records still waiting."""
    table = retention.rules(db.session)
    last_run = db.session.scalars(
        select(jobruns.JobRun)
        .where(jobruns.JobRun.kind == "retention.apply")
        .order_by(jobruns.JobRun.id.desc())
        .limit(1)
    ).first()
    return render_template(
        "admin/retention.html",
        rules=[table[kind] for kind in retention.KINDS if kind in table],
        kind_labels=KIND_LABELS,
        action_labels=ACTION_LABELS,
        last_run=last_run,
        waiting=erasure.pending_count(db.session),
        can_change=administers_country(),
        confirm=ConfirmForm(),
    )


@bp.route("/retention/<kind>", methods=["GET", "POST"])
@allow("admin")
def edit_retention_rule(kind: str):
    """Change one kind's period, action and legal basis (administrators of the country)."""
    require_country_admin()
    rule = db.session.get(retention.RetentionRule, kind)
    if rule is None:
        abort(404)
    form = RetentionRuleForm(obj=rule)
    if form.validate_on_submit():
        with on_refusal(lambda status: _rule_page(form, rule, status)):
            retention.set_rule(
                db.session,
                kind=kind,
                months=form.months.data,
                action=form.action.data,
                legal_basis=form.legal_basis.data,
                actor_id=current_user.id,
            )
        db.session.commit()
        flash(_("The retention rule has been saved."), "success")
        return redirect(url_for("admin.retention_rules"))
    return _rule_page(form, rule, 400 if form.errors else 200)


def _rule_page(form: RetentionRuleForm, rule: retention.RetentionRule, status: int):
    return render_template(
        "admin/retention_rule.html", form=form, rule=rule, kind_label=KIND_LABELS[rule.kind]
    ), status


@bp.route("/retention/run", methods=["POST"])
@allow("admin")
def run_retention():
    """Run the nightly erasure now (it is safe to repeat)."""
    require_country_admin()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    run = jobs.submit("retention.apply", requested_by_id=current_user.id, unit_id=None)
    db.session.commit()
    return redirect(url_for("jobruns.show", run_id=run.id))
