"""Sober-settlement initiatives: submission, review, comments and their rewards."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

import sober
from core import clock
from core.db import utcnow
from core.errors import N_, Conflict, DomainError
from core.scope import Scope
from incentives.sober_models import PROPOSER_ROLES, Initiative
from incentives.workflow import INITIATIVE
from portal.errors import flash_form_errors, on_refusal
from portal.extensions import db
from portal.labels import INITIATIVE_STATUS_LABELS, PROPOSER_ROLE_LABELS
from portal.security import SIGNED_IN, allow, current_scope, get_in_scope, holds
from portal.sober.blueprint import bp
from portal.sober.forms import CommentForm, InitiativeForm, ReviewForm
from portal.sober.roles import MANAGERS, READERS, settlement_choices
from sober import queries as sober_queries
from sober.initiatives import REVIEW_STEP_TO

# ---- initiatives -------------------------------------------------------------------------------


def _visible_initiative(initiative_id: int) -> Initiative:
    found = db.session.get(Initiative, initiative_id)
    if found is None:
        abort(404)
    if found.submitted_by_id != current_user.id and not holds(found.unit_id, *READERS):
        abort(404)
    return found


@bp.route("/sober/initiatives")
@allow(SIGNED_IN)
def initiatives():
    scope = current_scope(*READERS)
    query = sober_queries.initiatives(scope, current_user.id)
    status = request.args.get("status")
    if status in INITIATIVE_STATUS_LABELS:
        query = query.where(Initiative.status == status)
    rows = db.session.scalars(query.order_by(Initiative.id.desc()).limit(200)).all()
    return render_template(
        "sober/initiatives.html", rows=rows, status=status, reviewer=not scope.is_nothing
    )


@bp.route("/sober/initiatives/new", methods=["GET", "POST"])
@allow(SIGNED_IN)
def submit_initiative():
    form = InitiativeForm()
    form.unit_id.choices = settlement_choices(Scope.within([current_user.unit_id]))
    form.proposer_role.choices = [SelectChoice(r, PROPOSER_ROLE_LABELS[r]) for r in PROPOSER_ROLES]
    if form.validate_on_submit():
        with on_refusal("sober/initiative_form.html", form=form):
            initiative = sober.submit_initiative(
                db.session,
                unit_id=form.unit_id.data,
                title=form.title.data,
                description=form.description.data,
                measures=form.measures.data,
                team=form.team.data,
                requested_incentive=form.requested_incentive.data,
                proposer_role=form.proposer_role.data,
                actor_id=current_user.id,
                home_unit_id=current_user.unit_id,
            )
        db.session.commit()
        flash(_("The initiative has been submitted. Coordinators will review it."), "success")
        return redirect(url_for("sober.initiative", initiative_id=initiative.id))
    return render_template("sober/initiative_form.html", form=form), 400 if form.errors else 200


def _review_choices(initiative: Initiative) -> list[SelectChoice]:
    # Declining is an act after a hearing (appeals.hearings); a complaint's reopening is not
    # a coordinator's review either.
    return [
        SelectChoice(s, INITIATIVE_STATUS_LABELS[s])
        for s in sober.review_targets(initiative.status)
        if s != "declined" and initiative.status in INITIATIVE.step(REVIEW_STEP_TO[s]).sources
    ]


def _initiative_page(initiative: Initiative, status: int = 200, **forms):
    review_form = forms.get("review_form") or ReviewForm(formdata=None)
    review_form.to_status.choices = _review_choices(initiative)
    can_review = holds(initiative.unit_id, *MANAGERS)
    return render_template(
        "sober/initiative.html",
        i=initiative,
        can_review=can_review,
        review_form=review_form,
        comment_form=forms.get("comment_form") or CommentForm(formdata=None),
        nominable=sober.can_be_nominated(initiative),
        may_decline=can_review and INITIATIVE.can(initiative, "decline"),
        **_rewards_context(initiative, can_review, forms.get("nominate_form")),
    ), status


initiative_page = _initiative_page  # the commission's nominate view answers with this page


def _rewards_context(initiative: Initiative, can_nominate: bool, nominate_form=None) -> dict:
    """The initiative's nominations and their outcome; the form to put it forward."""
    from incentives import policy
    from incentives.models import AgendaItem, Nomination, Payout
    from portal.commission.forms import initiative_nomination_form

    rows = db.session.scalars(
        select(Nomination).where(Nomination.initiative_id == initiative.id).order_by(Nomination.id)
    ).all()
    items = {
        i.nomination_id: i
        for i in db.session.scalars(
            select(AgendaItem).where(AgendaItem.nomination_id.in_([n.id for n in rows]))
        )
    }
    paid = {
        p.item_id: p
        for p in db.session.scalars(
            select(Payout).where(
                Payout.item_id.in_([i.id for i in items.values()]),
                Payout.status.in_(("paid", "handed_over")),
            )
        )
    }
    form = None
    if can_nominate and sober.can_be_nominated(initiative):
        try:
            rule = policy.policy_in_force(
                db.session, initiative.unit_id, clock.local_date(utcnow())
            )
            form = nominate_form or initiative_nomination_form(rule.allowed_forms)
        except DomainError:
            form = None
    return {
        "nominations": rows,
        "reward_items": items,
        "reward_paid": paid,
        "nominate_form": form,
    }


@bp.route("/sober/initiatives/<int:initiative_id>")
@allow(SIGNED_IN)
def initiative(initiative_id: int):
    return _initiative_page(_visible_initiative(initiative_id))


@bp.route("/sober/initiatives/<int:initiative_id>/review", methods=["POST"])
@allow(*MANAGERS)
def review_initiative(initiative_id: int):
    found = get_in_scope(Initiative, initiative_id, *MANAGERS)
    form = ReviewForm()
    form.to_status.choices = _review_choices(found)
    if form.to_status.data == "declined":
        with on_refusal(lambda status: _initiative_page(found, status, review_form=form)):
            raise Conflict(
                N_(
                    "An initiative is declined only by an act adopted after a hearing: "
                    "prepare a preliminary decision first."
                )
            )
    if not form.validate_on_submit():
        flash_form_errors(form)  # flash_form_errors: the page may not show the form (S13)
        return _initiative_page(found, 400, review_form=form)
    with on_refusal(lambda status: _initiative_page(found, status, review_form=form)):
        sober.review_initiative(
            db.session,
            initiative_id=found.id,
            to_status=form.to_status.data,
            comment=form.comment.data,
            actor_id=current_user.id,
            scope=current_scope(*MANAGERS),
        )
    db.session.commit()
    flash(_("The review has been recorded."), "success")
    return redirect(url_for("sober.initiative", initiative_id=found.id))


@bp.route("/sober/initiatives/<int:initiative_id>/comments", methods=["POST"])
@allow(SIGNED_IN)
def comment_initiative(initiative_id: int):
    found = _visible_initiative(initiative_id)
    form = CommentForm()
    if not form.validate_on_submit():
        return _initiative_page(found, 400, comment_form=form)
    with on_refusal(lambda status: _initiative_page(found, status, comment_form=form)):
        sober.comment_initiative(
            db.session,
            initiative_id=found.id,
            body=form.body.data,
            actor_id=current_user.id,
            scope=current_scope(*MANAGERS),
        )
    db.session.commit()
    flash(_("The comment has been added."), "success")
    return redirect(url_for("sober.initiative", initiative_id=found.id))
