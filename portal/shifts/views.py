"""Shift planning and attendance, contribution logging and the coordinators' confirmation queue."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from core import accounts, audit, clock, places
from core.db import utcnow
from core.errors import DomainError
from incentives import policy
from portal.errors import flash_form_errors, refuse
from portal.extensions import db
from portal.forms import arg_int, arg_ints, unit_choices  # arg_int: fuzzing fix (S13)
from portal.labels import CONTRIBUTION_STATUS_LABELS
from portal.paging import other_args, page_of
from portal.security import SIGNED_IN, allow, get_in_scope
from portal.shifts.forms import (
    CancelShiftForm,
    CheckInForm,
    ContributionForm,
    DecideForm,
    EditShiftForm,
    ShiftForm,
)
from volunteers import contributions, enrolment, reports, shifts
from volunteers.activity_models import Contribution, Shift, Signup
from volunteers.models import Member, PatrolUnit

bp = Blueprint("shifts", __name__)
PLANNERS = ("coordinator",)


def _local(day: dt.date, at: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, at, tzinfo=clock.zone()).astimezone(dt.UTC)


# ---- the volunteer --------------------------------------------------------------------------


def _my_members() -> list[Member]:
    return list(
        db.session.scalars(
            select(Member).where(Member.user_id == current_user.id).order_by(Member.id)
        )
    )


def _my_member(member_id: int | None = None) -> Member:
    """Return one of the current user's memberships (the first active one by default)."""
    mine = _my_members()
    if member_id is not None:
        found = next((m for m in mine if m.id == member_id), None)
        if found is None:
            abort(404)
        return found
    active = [m for m in mine if m.status == "active"] or mine
    if not active:
        abort(404)
    return active[0]


def _my_signup(signup_id: int) -> Signup:
    signup = db.session.get(Signup, signup_id)
    if signup is None or signup.member.user_id != current_user.id:
        abort(404)
    return signup


@bp.route("/my/shifts")
@allow(SIGNED_IN)
def mine():
    return _mine_page(request.args.get("member", type=arg_int))


def _mine_page(member_id: int | None, status: int = 200):
    members = _my_members()
    if not members:
        return render_template("shifts/mine.html", member=None), status
    member = _my_member(member_id)
    now = utcnow()
    upcoming = db.session.scalars(
        select(Signup)
        .join(Shift, Shift.id == Signup.shift_id)
        .where(
            Signup.member_id == member.id,
            Signup.status.in_(("signed_up", "checked_in")),
            Shift.status == "planned",
        )
        .order_by(Signup.starts_at)
    ).all()
    mine_ids = {s.shift_id for s in upcoming}
    open_shifts = [
        s
        for s in db.session.scalars(shifts.open_shifts_query(db.session, member, now).limit(30))
        if s.id not in mine_ids
    ]
    past = db.session.scalars(
        select(Signup)
        .where(Signup.member_id == member.id, Signup.status.in_(("completed", "no_show")))
        .order_by(Signup.starts_at.desc())
        .limit(10)
    ).all()
    return render_template(
        "shifts/mine.html",
        member=member,
        members=members,
        upcoming=upcoming,
        open_shifts=open_shifts,
        past=past,
        now=now,
        can_sign_up=member.status == "active" and member.expires_on >= clock.local_date(now),
        check_in_form=CheckInForm(),
        early=shifts.CHECK_IN_EARLY,
        late=shifts.CHECK_OUT_LATE,
    ), status


@bp.route("/my/shifts/<int:shift_id>/sign-up", methods=["POST"])
@allow(SIGNED_IN)
def sign_up(shift_id: int):
    member = _my_member(request.form.get("member_id", type=arg_int))
    if not CheckInForm().validate_on_submit():
        abort(400)
    try:
        shifts.sign_up(
            db.session,
            shift_id=shift_id,
            member_id=member.id,
            actor_id=current_user.id,
            now=utcnow(),
        )
    except DomainError as exc:
        return _mine_page(member.id, refuse(exc))
    db.session.commit()
    flash(_("You are signed up for the shift."), "success")
    return redirect(url_for("shifts.mine", member=member.id))


def _signup_action(signup_id: int, action, message: str):
    signup = _my_signup(signup_id)
    form = CheckInForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        action(signup, form)
    except DomainError as exc:
        return _mine_page(signup.member_id, refuse(exc))
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("shifts.mine", member=signup.member_id))


@bp.route("/my/signups/<int:signup_id>/cancel", methods=["POST"])
@allow(SIGNED_IN)
def cancel_signup(signup_id: int):
    return _signup_action(
        signup_id,
        lambda s, f: shifts.cancel_signup(
            db.session, signup_id=s.id, actor_id=current_user.id, now=utcnow()
        ),
        _("Your place has been given up."),
    )


@bp.route("/my/signups/<int:signup_id>/check-in", methods=["POST"])
@allow(SIGNED_IN)
def check_in(signup_id: int):
    def action(signup, form):
        share = form.share_location.data and form.latitude.data is not None
        shifts.check_in(
            db.session,
            signup_id=signup.id,
            actor_id=current_user.id,
            now=utcnow(),
            latitude=form.latitude.data if share else None,
            longitude=form.longitude.data if share else None,
        )

    return _signup_action(signup_id, action, _("Checked in. Have a safe shift."))


@bp.route("/my/signups/<int:signup_id>/check-out", methods=["POST"])
@allow(SIGNED_IN)
def check_out(signup_id: int):
    return _signup_action(
        signup_id,
        lambda s, f: shifts.check_out(
            db.session, signup_id=s.id, actor_id=current_user.id, now=utcnow()
        ),
        _("Checked out. Your patrol hours are waiting for confirmation."),
    )


def _kind_choices() -> list[SelectChoice]:
    from flask_babel import get_locale

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
    members = _my_members()
    if not members:
        return render_template("shifts/my_contributions.html", member=None)
    member = _my_member(request.values.get("member", type=arg_int))
    form = ContributionForm()
    form.kind.choices = _kind_choices()
    status = 200
    if form.validate_on_submit():
        try:
            _log_from_form(form, member)
        except DomainError as exc:
            status = refuse(exc)
        else:
            db.session.commit()
            flash(_("The contribution has been logged for confirmation."), "success")
            return redirect(url_for("shifts.my_contributions", member=member.id))
    elif form.errors:
        status = 400
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
    found = page_of(
        select(Contribution)
        .where(Contribution.member_id == member_id)
        .order_by(Contribution.occurred_on.desc(), Contribution.id.desc()),
        size=HISTORY_PAGE,
    )
    return {"records": found.rows, "page": found.page, "pages": found.pages, "args": other_args()}


# ---- the coordinator ------------------------------------------------------------------------


def _unit_choices() -> list[SelectChoice]:
    return unit_choices(current_user.scope(*PLANNERS), levels=enrolment.APPLY_LEVELS)


def _patrol_choices() -> list[SelectChoice]:
    scope = current_user.scope(*PLANNERS)
    units = db.session.scalars(
        select(PatrolUnit)
        .join(places.AdminUnit, PatrolUnit.unit_id == places.AdminUnit.id)
        .where(places.units_within_clause(scope))
        .order_by(PatrolUnit.name)
    ).all()
    return [SelectChoice(0, _("All members of the district"))] + [
        SelectChoice(u.id, u.name) for u in units
    ]


def _supervisor_choices() -> list[SelectChoice]:
    scope = current_user.scope(*PLANNERS)
    users = db.session.scalars(
        select(accounts.User)
        .join(accounts.RoleGrant, accounts.RoleGrant.user_id == accounts.User.id)
        .join(places.AdminUnit, accounts.RoleGrant.unit_id == places.AdminUnit.id)
        .where(
            accounts.RoleGrant.role == "coordinator",
            accounts.RoleGrant.revoked_at.is_(None),
            accounts.User.is_active,
            places.units_within_clause(scope),
        )
        .distinct()
        .order_by(accounts.User.full_name)
    ).all()
    return [SelectChoice(0, _("Nobody yet"))] + [SelectChoice(u.id, u.full_name) for u in users]


@bp.route("/shifts")
@allow(*PLANNERS)
def manage():
    args = request.args
    scope = current_user.scope(*PLANNERS)
    # The units as a list of ids, not a correlated test per shift: the planner then sees how
    # many shifts match and reads a region's history in index order instead of sorting it all.
    unit_ids = places.unit_ids_within(db.session, scope)
    if args.get("unit", type=arg_int):
        inside = set(places.unit_ids_within(db.session, [args.get("unit", type=arg_int)]))
        unit_ids = [u for u in unit_ids if u in inside]
    query = select(Shift).where(Shift.unit_id.in_(unit_ids))
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
    found = page_of(query)
    return render_template(
        "shifts/manage.html",
        shifts=found.rows,
        total=found.total,
        page=found.page,
        pages=found.pages,
        args=other_args(),
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
    status = 200
    if form.validate_on_submit():
        starts, ends = _times(form)
        try:
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
        except DomainError as exc:
            status = refuse(exc)
        else:
            db.session.commit()
            flash(
                _("%(n)s shift(s) planned.", n=len(planned)),
                "success",
            )
            return redirect(url_for("shifts.shift", shift_id=planned[0].id))
    elif form.errors:
        status = 400
    return render_template("shifts/form.html", form=form, shift=None), status


@bp.route("/shifts/<int:shift_id>")
@allow(*PLANNERS)
def shift(shift_id: int):
    return _shift_page(get_in_scope(Shift, shift_id, *PLANNERS))


def _shift_page(shift: Shift, status: int = 200, cancel_form=None):
    signups = db.session.scalars(
        select(Signup)
        .where(Signup.shift_id == shift.id)
        .order_by(Signup.status, Signup.signed_up_at)
    ).all()
    return render_template(
        "shifts/shift.html",
        shift=shift,
        signups=signups,
        cancel_form=cancel_form or CancelShiftForm(),
        attendance_form=CheckInForm(),
        now=utcnow(),
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
    status = 200
    if form.validate_on_submit():
        starts, ends = _times(form)
        try:
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
        except DomainError as exc:
            status = refuse(exc)
        else:
            db.session.commit()
            flash(_("The shift has been changed; those signed up are told."), "success")
            return redirect(url_for("shifts.shift", shift_id=shift.id))
    elif form.errors:
        status = 400
    return render_template("shifts/form.html", form=form, shift=shift), status


@bp.route("/shifts/<int:shift_id>/cancel", methods=["POST"])
@allow(*PLANNERS)
def cancel_shift(shift_id: int):
    shift = get_in_scope(Shift, shift_id, *PLANNERS)
    form = CancelShiftForm()
    if not form.validate_on_submit():
        flash_form_errors(form)  # flash_form_errors: the page may not show the form (S13)
        return _shift_page(shift, 400, cancel_form=form)
    try:
        shifts.cancel_shift(
            db.session,
            shift_id=shift.id,
            reason=form.reason.data,
            actor_id=current_user.id,
            now=utcnow(),
        )
    except DomainError as exc:
        status = refuse(exc)
        return _shift_page(db.session.get(Shift, shift_id), status, cancel_form=form)
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
    try:
        done, absent = shifts.record_attendance(
            db.session,
            shift_id=shift.id,
            present=present,
            actor_id=current_user.id,
            now=utcnow(),
        )
    except DomainError as exc:
        return _shift_page(db.session.get(Shift, shift_id), refuse(exc))
    db.session.commit()
    flash(_("Attendance recorded: %(done)s came, %(absent)s did not.", done=done, absent=absent))
    return redirect(url_for("shifts.shift", shift_id=shift.id))


@bp.route("/contributions/queue", methods=["GET", "POST"])
@allow(*PLANNERS)
def queue():
    scope = current_user.scope(*PLANNERS)
    form = DecideForm()
    form.action.choices = [
        SelectChoice("confirm", _("Confirm")),
        SelectChoice("reject", _("Reject")),
    ]
    status = 200
    if form.validate_on_submit():
        ids = arg_ints(request.form.getlist("ids"))  # see attendance: a fuzzing fix (S13)
        if not ids:
            flash(_("Tick at least one contribution."), "danger")
            status = 400
        else:
            status = _decide_all(ids, form, scope)
            if status == 200:
                return redirect(url_for("shifts.queue"))
    elif form.errors:
        status = 400
    found = page_of(
        select(Contribution)
        .join(places.AdminUnit, Contribution.unit_id == places.AdminUnit.id)
        .where(Contribution.status == "logged", places.units_within_clause(scope))
        .order_by(Contribution.occurred_on, Contribution.id)
    )
    rows = found.rows
    members = {
        m.id: m
        for m in db.session.scalars(
            select(Member).where(Member.id.in_({c.member_id for c in rows}))
        )
    }
    return render_template(
        "shifts/queue.html",
        rows=rows,
        members=members,
        total=found.total,
        page=found.page,
        pages=found.pages,
        args=other_args(),
        form=form,
        duplicates=contributions.possible_duplicates(db.session, [c.id for c in rows]),
        me=current_user.id,
    ), status


def _decide_all(ids: list[int], form: DecideForm, scope: list[int]) -> int:
    """Decide every ticked contribution in one transaction: all or nothing."""
    now = utcnow()
    try:
        for contribution_id in ids:
            if form.action.data == "confirm":
                contributions.confirm(
                    db.session,
                    contribution_id=contribution_id,
                    actor_id=current_user.id,
                    scope_ids=scope,
                    now=now,
                    points_rule=policy.points_rule(db.session),
                )
            else:
                contributions.reject(
                    db.session,
                    contribution_id=contribution_id,
                    reason=form.reason.data,
                    actor_id=current_user.id,
                    scope_ids=scope,
                    now=now,
                )
    except DomainError as exc:
        return refuse(exc)
    db.session.commit()
    flash(
        _("%(n)s contribution(s) confirmed.", n=len(ids))
        if form.action.data == "confirm"
        else _("%(n)s contribution(s) rejected.", n=len(ids)),
        "success",
    )
    return 200


@bp.route("/volunteers/members/<int:member_id>/contributions", methods=["GET", "POST"])
@allow(*PLANNERS)
def member_contributions(member_id: int):
    member = get_in_scope(Member, member_id, *PLANNERS)
    form = ContributionForm()
    form.kind.choices = _kind_choices()
    corrects = request.values.get("corrects", type=arg_int)
    status = 200
    if form.validate_on_submit():
        try:
            _log_from_form(form, member, corrects_id=corrects)
        except DomainError as exc:
            status = refuse(exc)
        else:
            db.session.commit()
            flash(_("The contribution has been logged for confirmation."), "success")
            return redirect(url_for("shifts.member_contributions", member_id=member.id))
    elif form.errors:
        status = 400
    return render_template(
        "shifts/member_contributions.html",
        member=member,
        form=form,
        corrects=corrects,
        quarters=contributions.points_by_quarter(db.session, member.id),
        statuses=CONTRIBUTION_STATUS_LABELS,
        **_history(member.id),
    ), status


@bp.route("/shifts/summary")
@allow(*PLANNERS, "deputy")
def summary():
    scope = current_user.scope(*PLANNERS, "deputy")
    unit_id = request.args.get("unit", type=arg_int)
    if unit_id and not places.within(db.session, unit_id, scope):
        abort(404)
    ids = [unit_id] if unit_id else scope
    patrol_unit_id = request.args.get("patrol_unit", type=arg_int)
    today = clock.local_date(utcnow())
    weeks = reports.hours_per_week(db.session, ids, patrol_unit_id, today)
    since = today - dt.timedelta(weeks=reports.WEEKS)
    by_kind = reports.by_kind(db.session, ids, patrol_unit_id, since)
    return render_template(
        "shifts/summary.html",
        weeks=weeks,
        by_kind=by_kind,
        peak=max((h for _w, h in weeks), default=0),
        kind_peak=max((n for _k, n, _p in by_kind), default=0),
        units=unit_choices(scope, ("district", "city")),
        patrols=_patrol_choices_for(scope),
        args=request.args,
        since=since,
    )


def _patrol_choices_for(scope: list[int]) -> list[PatrolUnit]:
    return list(
        db.session.scalars(
            select(PatrolUnit)
            .join(places.AdminUnit, PatrolUnit.unit_id == places.AdminUnit.id)
            .where(places.units_within_clause(scope))
            .order_by(PatrolUnit.name)
        )
    )
