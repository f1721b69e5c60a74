"""Contributions: the volunteer's log and history, the confirmation queue, a member's record."""

from __future__ import annotations

from decimal import Decimal

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from core import clock
from core.db import utcnow
from core.scope import Scope
from incentives import policy
from portal.errors import on_refusal
from portal.extensions import db
from portal.forms import arg_int, arg_ints  # arg_int: fuzzing fix (S13)
from portal.i18n import hours_minutes, local_dates
from portal.labels import CONTRIBUTION_STATUS_LABELS
from portal.paging import other_args, page_of, row_link
from portal.security import SIGNED_IN, allow, current_scope, get_in_scope
from portal.shifts.blueprint import bp
from portal.shifts.forms import ContributionForm, DecideForm
from portal.shifts.roles import PLANNERS, my_member, my_members
from volunteers import contributions
from volunteers import queries as volunteer_queries
from volunteers.models import Member

# ---- the volunteer's log ---------------------------------------------------------------------


def _kind_choices() -> list[SelectChoice]:
    locale = str(get_locale())
    return [SelectChoice(k.code, k.name(locale)) for k in contributions.kinds(db.session)]


def _minutes(hours: Decimal | None) -> int | None:
    return int(hours * 60) if hours is not None else None


def _log_from_form(form: ContributionForm, member: Member, corrects_id: int | None = None):
    return contributions.log_contribution(
        db.session,
        member_id=member.id,
        kind=form.kind.data,
        occurred_on=form.occurred_on.data,
        minutes=_minutes(form.hours.data),
        description=form.description.data,
        reference=form.reference.data,
        actor_id=current_user.id,
        today=clock.local_date(utcnow()),
        corrects_id=corrects_id,
    )


@bp.route("/my/contributions", methods=["GET", "POST"])
@allow(SIGNED_IN)
def my_contributions():
    members = my_members()
    if not members:
        return render_template("shifts/my_contributions.html", member=None)
    member = my_member(request.values.get("member", type=arg_int), members)
    form = ContributionForm()
    form.kind.choices = _kind_choices()
    if form.validate_on_submit():
        with on_refusal(lambda status: _my_contributions_page(member, members, form, status)):
            _log_from_form(form, member)
        db.session.commit()
        flash(_("The contribution has been logged for confirmation."), "success")
        return redirect(url_for("shifts.my_contributions", member=member.id))
    return _my_contributions_page(member, members, form, 400 if form.errors else 200)


def _my_contributions_page(member: Member, members, form: ContributionForm, status: int):
    return render_template(
        "shifts/my_contributions.html",
        member=member,
        members=members,
        form=form,
        quarters=contributions.points_by_quarter(db.session, member.id),
        **_history(member.id),
    ), status


HISTORY_PAGE = 20  # cards of a member's history per page: short enough for a phone


def _history(member_id: int) -> dict:
    """One page of a member's contributions, newest first, with what the pager needs."""
    found = page_of(volunteer_queries.member_contributions(member_id), size=HISTORY_PAGE)
    return {"records": found.rows, "page": found.page, "pages": found.pages, "args": other_args()}


# ---- the coordinator: the queue and a member's record ----------------------------------------


@bp.route("/contributions/queue", methods=["GET", "POST"])
@allow(*PLANNERS)
def queue():
    scope = current_scope(*PLANNERS)
    form = DecideForm()
    form.action.choices = [
        SelectChoice("confirm", _("Confirm")),
        SelectChoice("reject", _("Reject")),
    ]
    if form.validate_on_submit():
        ids = arg_ints(request.form.getlist("ids"))  # see attendance: a fuzzing fix (S13)
        if not ids:
            flash(_("Tick at least one contribution."), "danger")
            return _queue_page(form, scope, 400)
        with on_refusal(lambda status: _queue_page(form, scope, status)):
            _decide_all(ids, form, scope)
        db.session.commit()
        flash(
            _("%(n)s contribution(s) confirmed.", n=len(ids))
            if form.action.data == "confirm"
            else _("%(n)s contribution(s) rejected.", n=len(ids)),
            "success",
        )
        return redirect(url_for("shifts.queue"))
    return _queue_page(form, scope, 400 if form.errors else 200)


def _queue_page(form: DecideForm, scope: Scope, status: int):
    found = page_of(
        volunteer_queries.confirmation_queue(scope, str(get_locale())),
        rows=True,
        count=volunteer_queries.contributions_to_confirm(scope),
    )
    return render_template(
        "shifts/queue.html",
        rows=found.rows,
        # Each date and duration formatted once: 50 rows fall on a few days and a few lengths,
        # and formatting them per row was a third of the queue's own rendering (issue 16).
        dates=local_dates(r.occurred_on for r in found.rows),
        durations={
            m: _("%(h)s h", h=hours_minutes(m)) for m in {r.minutes for r in found.rows} if m
        },
        total=found.total,
        page=found.page,
        pages=found.pages,
        args=other_args(),
        form=form,
        me=current_user.id,
        member_href=row_link("shifts.member_contributions", "member_id"),
    ), status


def _decide_all(ids: list[int], form: DecideForm, scope: Scope) -> None:
    """Decide every ticked contribution in one transaction: all or nothing."""
    now = utcnow()
    for contribution_id in ids:
        if form.action.data == "confirm":
            contributions.confirm(
                db.session,
                contribution_id=contribution_id,
                actor_id=current_user.id,
                scope=scope,
                now=now,
                points_rule=policy.points_rule(db.session),
            )
        else:
            contributions.reject(
                db.session,
                contribution_id=contribution_id,
                reason=form.reason.data,
                actor_id=current_user.id,
                scope=scope,
                now=now,
            )


@bp.route("/volunteers/members/<int:member_id>/contributions", methods=["GET", "POST"])
@allow(*PLANNERS)
def member_contributions(member_id: int):
    member = get_in_scope(Member, member_id, *PLANNERS)
    form = ContributionForm()
    form.kind.choices = _kind_choices()
    corrects = request.values.get("corrects", type=arg_int)
    if form.validate_on_submit():
        with on_refusal(lambda status: _member_contributions_page(member, form, corrects, status)):
            _log_from_form(form, member, corrects_id=corrects)
        db.session.commit()
        flash(_("The contribution has been logged for confirmation."), "success")
        return redirect(url_for("shifts.member_contributions", member_id=member.id))
    return _member_contributions_page(member, form, corrects, 400 if form.errors else 200)


def _member_contributions_page(
    member: Member, form: ContributionForm, corrects: int | None, status: int
):
    return render_template(
        "shifts/member_contributions.html",
        member=member,
        form=form,
        corrects=corrects,
        quarters=contributions.points_by_quarter(db.session, member.id),
        statuses=CONTRIBUTION_STATUS_LABELS,
        **_history(member.id),
    ), status
