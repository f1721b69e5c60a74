"""The coordinators' shifts: planning, editing, cancelling, attendance and the summary."""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from core import accounts, audit, clock
from core import queries as core_queries
from core.db import utcnow
from core.scope import Scope
from portal.errors import flash_form_errors, on_refusal
from portal.extensions import db
from portal.forms import arg_int, arg_ints, unit_choices  # arg_int: fuzzing fix (S13)
from portal.i18n import language
from portal.paging import other_args, page_of, row_link
from portal.security import allow, current_scope, get_in_scope
from portal.shifts.blueprint import bp
from portal.shifts.forms import CancelShiftForm, CheckInForm, EditShiftForm, ShiftForm
from portal.shifts.roles import PLANNERS
from volunteers import attendance as attendances
from volunteers import enrolment, reports, shifts
from volunteers import queries as volunteer_queries
from volunteers.activity_models import Shift, Signup
from volunteers.models import PatrolUnit


def _local(day: dt.date, at: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, at, tzinfo=clock.zone()).astimezone(dt.UTC)


# ---- the coordinator ------------------------------------------------------------------------


def _unit_choices() -> list[SelectChoice]:
    return unit_choices(current_scope(*PLANNERS), levels=enrolment.APPLY_LEVELS)


def _patrol_choices() -> list[SelectChoice]:
    units = db.session.scalars(volunteer_queries.patrol_units(current_scope(*PLANNERS))).all()
    return [SelectChoice(0, _("All members of the district"))] + [
        SelectChoice(u.id, u.name) for u in units
    ]


def _supervisor_choices() -> list[SelectChoice]:
    users = db.session.scalars(
        core_queries.holders(current_scope(*PLANNERS), "coordinator").where(accounts.User.is_active)
    ).all()
    return [SelectChoice(0, _("Nobody yet"))] + [SelectChoice(u.id, u.full_name) for u in users]


@bp.route("/shifts")
@allow(*PLANNERS)
def manage():
    args = request.args
    scope = current_scope(*PLANNERS)
    unit_ids = scope.unit_ids_covered(db.session)
    if args.get("unit", type=arg_int):
        inside = set(Scope.within([args.get("unit", type=arg_int)]).unit_ids_covered(db.session))
        unit_ids = [u for u in unit_ids if u in inside]
    query = volunteer_queries.shifts(unit_ids)
    when = args.get("when", "upcoming")
    now = utcnow()
    if when == "upcoming":
        # Redundant by the rule that a shift lasts at most MAX_SHIFT, but it lets the index on
        # the start time begin near now instead of under a year of past shifts.
        query = query.where(Shift.ends_at > now, Shift.starts_at > now - shifts.MAX_SHIFT).order_by(
            Shift.starts_at, Shift.id
        )
    else:
        query = query.where(Shift.ends_at <= now).order_by(Shift.starts_at.desc(), Shift.id)
    found = page_of(
        volunteer_queries.shift_rows(query, language()),
        rows=True,
        count=query.with_only_columns(Shift.id),
    )
    return render_template(
        "shifts/manage.html",
        shifts=found.rows,
        total=found.total,
        page=found.page,
        pages=found.pages,
        args=other_args(),
        shift_href=row_link("shifts.shift", "shift_id"),
        when=when,
        units=unit_choices(scope, ("district", "city")),
    )


def _shift_form_choices(form) -> None:
    if getattr(form, "unit_id", None) is not None:
        form.unit_id.choices = _unit_choices()
    if getattr(form, "patrol_unit_id", None) is not None:
        form.patrol_unit_id.choices = _patrol_choices()
    form.supervisor_id.choices = _supervisor_choices()


def _times(form) -> tuple[dt.datetime, dt.datetime]:
    starts = _local(form.day.data, form.start.data)
    end_day = form.day.data + dt.timedelta(days=1 if form.overnight.data else 0)
    return starts, _local(end_day, form.end.data)


@bp.route("/shifts/new", methods=["GET", "POST"])
@allow(*PLANNERS)
def new_shift():
    form = ShiftForm()
    _shift_form_choices(form)
    if form.validate_on_submit():
        starts, ends = _times(form)
        with on_refusal("shifts/form.html", form=form, shift=None):
            planned = shifts.plan_shift(
                db.session,
                unit_id=form.unit_id.data,
                patrol_unit_id=form.patrol_unit_id.data or None,
                place=form.place.data,
                starts_at=starts,
                ends_at=ends,
                capacity=form.capacity.data,
                supervisor_id=form.supervisor_id.data or None,
                actor_id=current_user.id,
                now=utcnow(),
                repeat_weeks=form.repeat_weeks.data or 0,
            )
        db.session.commit()
        flash(
            _("%(n)s shift(s) planned.", n=len(planned)),
            "success",
        )
        return redirect(url_for("shifts.shift", shift_id=planned[0].id))
    return render_template("shifts/form.html", form=form, shift=None), 400 if form.errors else 200


@bp.route("/shifts/<int:shift_id>")
@allow(*PLANNERS)
def shift(shift_id: int):
    return _shift_page(get_in_scope(Shift, shift_id, *PLANNERS))


def _shift_page(shift: Shift, status: int = 200, cancel_form=None):
    signups = db.session.scalars(volunteer_queries.roster(shift.id)).all()
    return render_template(
        "shifts/shift.html",
        shift=shift,
        signups=signups,
        cancel_form=cancel_form or CancelShiftForm(),
        attendance_form=CheckInForm(),
        now=utcnow(),
        undo_window=attendances.UNDO_WINDOW,
        supervisor=db.session.get(accounts.User, shift.supervisor_id)
        if shift.supervisor_id
        else None,
        trail=audit.events_for(db.session, "shift", shift.id),
    ), status


@bp.route("/shifts/<int:shift_id>/edit", methods=["GET", "POST"])
@allow(*PLANNERS)
def edit_shift(shift_id: int):
    shift = get_in_scope(Shift, shift_id, *PLANNERS)
    local_start = shift.starts_at.astimezone(clock.zone())
    local_end = shift.ends_at.astimezone(clock.zone())
    form = EditShiftForm(
        data=None
        if request.method == "POST"
        else {
            "place": shift.place,
            "day": local_start.date(),
            "start": local_start.time(),
            "end": local_end.time(),
            "overnight": local_end.date() > local_start.date(),
            "capacity": shift.capacity,
            "supervisor_id": shift.supervisor_id or 0,
        }
    )
    _shift_form_choices(form)
    if form.validate_on_submit():
        starts, ends = _times(form)
        with on_refusal("shifts/form.html", form=form, shift=shift):
            shifts.edit_shift(
                db.session,
                shift_id=shift.id,
                place=form.place.data,
                starts_at=starts,
                ends_at=ends,
                capacity=form.capacity.data,
                supervisor_id=form.supervisor_id.data or None,
                actor_id=current_user.id,
                now=utcnow(),
            )
        db.session.commit()
        flash(_("The shift has been changed; those signed up are told."), "success")
        return redirect(url_for("shifts.shift", shift_id=shift.id))
    return render_template("shifts/form.html", form=form, shift=shift), 400 if form.errors else 200


@bp.route("/shifts/<int:shift_id>/cancel", methods=["POST"])
@allow(*PLANNERS)
def cancel_shift(shift_id: int):
    shift = get_in_scope(Shift, shift_id, *PLANNERS)
    form = CancelShiftForm()
    if not form.validate_on_submit():
        flash_form_errors(form)  # flash_form_errors: the page may not show the form (S13)
        return _shift_page(shift, 400, cancel_form=form)
    with on_refusal(lambda status: _shift_page(shift, status, cancel_form=form)):
        shifts.cancel_shift(
            db.session,
            shift_id=shift.id,
            reason=form.reason.data,
            actor_id=current_user.id,
            now=utcnow(),
        )
    db.session.commit()
    flash(_("The shift has been cancelled; those signed up are told."), "success")
    return redirect(url_for("shifts.shift", shift_id=shift.id))


@bp.route("/shifts/<int:shift_id>/attendance", methods=["POST"])
@allow(*PLANNERS)
def attendance(shift_id: int):
    shift = get_in_scope(Shift, shift_id, *PLANNERS)
    if not CheckInForm().validate_on_submit():
        abort(400)
    # arg_ints, not str.isdigit: "²" is a digit int() refuses (a 500 found by fuzzing, S13).
    present = set(arg_ints(request.form.getlist("present")))
    with on_refusal(lambda status: _shift_page(shift, status)):
        done, absent = shifts.record_attendance(
            db.session,
            shift_id=shift.id,
            present=present,
            actor_id=current_user.id,
            now=utcnow(),
        )
    db.session.commit()
    flash(_("Attendance recorded: %(done)s came, %(absent)s did not.", done=done, absent=absent))
    return redirect(url_for("shifts.shift", shift_id=shift.id))


@bp.route("/shifts/<int:shift_id>/signups/<int:signup_id>/undo-check-out", methods=["POST"])
@allow(*PLANNERS)
def undo_member_check_out(shift_id: int, signup_id: int):
    """The member's coordinator takes back a check-out made by mistake, within minutes."""
    shift = get_in_scope(Shift, shift_id, *PLANNERS)
    signup = db.session.get(Signup, signup_id)
    if signup is None or signup.shift_id != shift.id:
        abort(404)
    if not CheckInForm().validate_on_submit():
        abort(400)
    with on_refusal(lambda status: _shift_page(shift, status)):
        attendances.undo_check_out(
            db.session, signup_id=signup.id, actor_id=current_user.id, now=utcnow()
        )
    db.session.commit()
    flash(_("Check-out undone: the member is on the shift again."), "success")
    return redirect(url_for("shifts.shift", shift_id=shift.id))


@bp.route("/shifts/summary")
@allow(*PLANNERS, "deputy")
def summary():
    scope = current_scope(*PLANNERS, "deputy")
    unit_id = request.args.get("unit", type=arg_int)
    if unit_id and not scope.contains(db.session, unit_id):
        abort(404)
    looked_at = Scope.within([unit_id]) if unit_id else scope
    patrol_unit_id = request.args.get("patrol_unit", type=arg_int)
    today = clock.local_date(utcnow())
    weeks = reports.hours_per_week(db.session, looked_at, patrol_unit_id, today)
    # The same weeks a year before, drawn beside them (issue 19).
    previous_weeks = reports.hours_per_week(
        db.session, looked_at, patrol_unit_id, today - dt.timedelta(weeks=52)
    )
    since = today - dt.timedelta(weeks=reports.WEEKS)
    by_kind = reports.by_kind(db.session, looked_at, patrol_unit_id, since)
    return render_template(
        "shifts/summary.html",
        weeks=weeks,
        previous_weeks=previous_weeks,
        by_kind=by_kind,
        kind_peak=max((n for _k, n, _p in by_kind), default=0),
        units=unit_choices(scope, ("district", "city")),
        patrols=_patrol_choices_for(scope),
        args=request.args,
        since=since,
    )


def _patrol_choices_for(scope: Scope) -> list[PatrolUnit]:
    return list(db.session.scalars(volunteer_queries.patrol_units(scope)))
