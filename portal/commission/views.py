"""The reward commission's administration (policy, commissions, members) and its labels.

The commission's other screens: ``nomination_views.py`` (candidates, nominations, my rewards),
``session_views.py``, ``minutes_views.py`` and ``vote_views.py`` (sessions), ``payout_views.py``
and ``tax_views.py`` (finance). Every rule lives in ``incentives``: these views validate the
form, call one domain function and commit.
"""

from __future__ import annotations

import json

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from core import accounts, audit, clock, places
from core import queries as core_queries
from incentives import minutes
from incentives import policy as policies
from incentives import queries as reward_queries
from incentives.models import Commission, CommissionMember
from portal.commission.blueprint import bp
from portal.commission.forms import (
    CommissionForm,
    CommissionNamesForm,
    EndTermForm,
    MemberForm,
    RulesForm,
    policy_form_class,
)
from portal.commission.roles import AKIMAT_LEVELS
from portal.errors import flash_form_errors, on_refusal
from portal.extensions import db
from portal.forms import unit_choices  # arg_int: fuzzing fix (S13)
from portal.i18n import translated
from portal.labels import (
    AMOUNT_UNIT_LABELS,
    COMMISSION_ROLE_LABELS,
    NOMINATION_STATUS_LABELS,
    OUTCOME_LABELS,
    PAYOUT_STATUS_LABELS,
    RECUSAL_LABELS,
    REWARD_FORM_LABELS,
    SESSION_STATUS_LABELS,
    VOTE_CHOICE_LABELS,
)
from portal.security import allow, current_scope, get_in_scope
from volunteers import contributions


def outcome_text(raw: str | None) -> str:
    """Translate an outcome reason kept as JSON {"msg": msgid, "params": {...}}."""
    return minutes.outcome_reason(raw, _)


def recusal_text(reason: str | None) -> str:
    """Translate an automatic recusal's reason; a member's own reason is shown as typed."""
    return str(RECUSAL_LABELS[reason]) if reason in RECUSAL_LABELS else (reason or "")


# App-wide: the sober-settlement initiative page shows commission outcomes.
_TEMPLATE_LABELS = {
    **translated(
        REWARD_FORM_LABELS=REWARD_FORM_LABELS,
        COMMISSION_ROLE_LABELS=COMMISSION_ROLE_LABELS,
        NOMINATION_STATUS_LABELS=NOMINATION_STATUS_LABELS,
        SESSION_STATUS_LABELS=SESSION_STATUS_LABELS,
        VOTE_CHOICE_LABELS=VOTE_CHOICE_LABELS,
        OUTCOME_LABELS=OUTCOME_LABELS,
        PAYOUT_STATUS_LABELS=PAYOUT_STATUS_LABELS,
        AMOUNT_UNIT_LABELS=AMOUNT_UNIT_LABELS,
    ),
    "outcome_text": outcome_text,
    "recusal_text": recusal_text,
}


@bp.app_context_processor
def _labels():
    return _TEMPLATE_LABELS


# ---- administration: policy and commission ----------------------------------------------------


def _policy_form():
    kinds = contributions.kinds(db.session)
    form = policy_form_class(kinds, str(get_locale()))()
    form.unit_id.choices = unit_choices(current_scope("admin"), AKIMAT_LEVELS)
    if request.method == "GET":
        form.forms.data = ["thanks", "certificate", "valuable_gift", "cash"]
    return form, kinds


@bp.route("/admin/policies", methods=["GET", "POST"])
@allow("admin")
def policies_page():
    form, kinds = _policy_form()
    if form.validate_on_submit():
        with on_refusal(lambda status: _policies_page(form, kinds, status)):
            policies.set_policy(
                db.session,
                unit_id=form.unit_id.data,
                effective_from=form.effective_from.data,
                resolution=form.resolution.data,
                forms=form.forms.data or [],
                cash_cap_mci=form.cash_cap_mci.data,
                annual_cap_mci=form.annual_cap_mci.data,
                points={k.code: form[f"points_{k.code}"].data for k in kinds},
                quorum=(form.quorum_numerator.data, form.quorum_denominator.data),
                chair_breaks_tie=form.chair_breaks_tie.data,
                actor_id=current_user.id,
                annual_cap_basis=form.annual_cap_basis.data or "",
            )
        db.session.commit()
        flash(_("The reward policy has been recorded."), "success")
        return redirect(url_for("commission.policies_page"))
    return _policies_page(form, kinds, 400 if form.errors else 200)


def _policies_page(form, kinds, status: int):
    rows = db.session.execute(reward_queries.policies(current_scope("admin")).limit(500)).all()
    return render_template(
        "commission/policies.html",
        form=form,
        kinds=kinds,
        rows=[(p, u, json.loads(p.points)) for p, u in rows],
        kind_names={k.code: k.name(str(get_locale())) for k in kinds},
    ), status


def _commissions_page(form: CommissionForm, status: int = 200):
    rows = db.session.execute(reward_queries.commissions_with_units(current_scope("admin"))).all()
    return render_template("commission/commissions.html", rows=rows, form=form), status


@bp.route("/admin/commissions", methods=["GET", "POST"])
@allow("admin")
def commissions():
    form = CommissionForm()
    form.unit_id.choices = unit_choices(current_scope("admin"), AKIMAT_LEVELS)
    if form.validate_on_submit():
        with on_refusal(lambda status: _commissions_page(form, status)):
            created = policies.create_commission(
                db.session,
                unit_id=form.unit_id.data,
                name_kk=form.name_kk.data,
                name_ru=form.name_ru.data,
                body_kk=form.body_kk.data,
                body_ru=form.body_ru.data,
                actor_id=current_user.id,
            )
        db.session.commit()
        flash(_("The commission has been created. Now appoint its members."), "success")
        return redirect(url_for("commission.commission", commission_id=created.id))
    return _commissions_page(form, 400 if form.errors else 200)


def _person_choices() -> list[SelectChoice]:
    users = db.session.scalars(
        core_queries.accounts(current_scope("admin"))
        .where(accounts.User.is_active)
        .order_by(accounts.User.full_name, accounts.User.id)
        .limit(2000)
    ).all()
    return [SelectChoice(u.id, f"{u.full_name} ({u.login})") for u in users]


def _commission_page(
    commission: Commission,
    form: MemberForm | None = None,
    status: int = 200,
    rules_form: RulesForm | None = None,
    names_form: CommissionNamesForm | None = None,
):
    if form is None:
        form = MemberForm(term_from=clock.today())
    form.user_id.choices = _person_choices()
    if rules_form is None:
        rules_form = RulesForm(
            secretary_votes=commission.secretary_votes, chair_stand_in=commission.chair_stand_in
        )
    if names_form is None:
        names_form = CommissionNamesForm(obj=commission)
    return render_template(
        "commission/commission.html",
        commission=commission,
        names_form=names_form,
        unit=db.session.get(places.AdminUnit, commission.unit_id),
        members=commission.members,
        form=form,
        rules_form=rules_form,
        end_form=EndTermForm(term_to=clock.today()),
        today=clock.today(),
        trail=audit.events_for(db.session, "commission", commission.id),
    ), status


@bp.route("/admin/commissions/<int:commission_id>", methods=["GET", "POST"])
@allow("admin")
def commission(commission_id: int):
    found = get_in_scope(Commission, commission_id, "admin")
    if request.method == "GET":
        return _commission_page(found)
    form = MemberForm()
    form.user_id.choices = _person_choices()
    if not form.validate_on_submit():
        return _commission_page(found, form, 400)
    with on_refusal(lambda status: _commission_page(found, form, status)):
        policies.add_member(
            db.session,
            commission_id=found.id,
            user_id=form.user_id.data,
            role=form.role.data,
            position_kk=form.position_kk.data,
            position_ru=form.position_ru.data,
            term_from=form.term_from.data,
            term_to=form.term_to.data,
            actor_id=current_user.id,
        )
    db.session.commit()
    flash(_("The member has been appointed."), "success")
    return redirect(url_for("commission.commission", commission_id=found.id))


@bp.route("/admin/commissions/<int:commission_id>/rules", methods=["POST"])
@allow("admin")
def commission_rules(commission_id: int):
    found = get_in_scope(Commission, commission_id, "admin")
    form = RulesForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _commission_page(found, status=400, rules_form=form)
    with on_refusal(lambda status: _commission_page(found, status=status, rules_form=form)):
        policies.set_rules(
            db.session,
            commission_id=found.id,
            secretary_votes=form.secretary_votes.data,
            chair_stand_in=form.chair_stand_in.data,
            actor_id=current_user.id,
        )
    db.session.commit()
    flash(_("The commission's rules of procedure have been recorded."), "success")
    return redirect(url_for("commission.commission", commission_id=found.id))


@bp.route("/admin/commissions/<int:commission_id>/names", methods=["POST"])
@allow("admin")
def commission_names(commission_id: int):
    found = get_in_scope(Commission, commission_id, "admin")
    form = CommissionNamesForm()
    if not form.validate_on_submit():
        return _commission_page(found, status=400, names_form=form)
    with on_refusal(lambda status: _commission_page(found, status=status, names_form=form)):
        policies.rename_commission(
            db.session,
            commission_id=found.id,
            name_kk=form.name_kk.data,
            name_ru=form.name_ru.data,
            body_kk=form.body_kk.data,
            body_ru=form.body_ru.data,
            actor_id=current_user.id,
        )
    db.session.commit()
    flash(_("The commission's names have been recorded."), "success")
    return redirect(url_for("commission.commission", commission_id=found.id))


@bp.route("/admin/members/<int:member_id>/end", methods=["POST"])
@allow("admin")
def end_term(member_id: int):
    member = db.session.get(CommissionMember, member_id)
    if member is None:
        abort(404)
    found = get_in_scope(Commission, member.commission_id, "admin")
    form = EndTermForm()
    if not form.validate_on_submit():
        flash_form_errors(form)  # the page shows a fresh end-of-term form: say why (S13)
        return _commission_page(found, status=400)
    with on_refusal(lambda status: _commission_page(found, status=status)):
        policies.end_term(
            db.session, member_id=member.id, term_to=form.term_to.data, actor_id=current_user.id
        )
    db.session.commit()
    flash(_("The member's term has been ended."), "success")
    return redirect(url_for("commission.commission", commission_id=found.id))
