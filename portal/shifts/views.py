"""The volunteer's shifts: the open shifts, signing up, cancelling, checking in and out."""

from __future__ import annotations

import datetime as dt

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core import clock
from core.db import utcnow
from portal.confirmation import Consequence, confirm_page, is_confirmed
from portal.errors import on_refusal
from portal.extensions import db
from portal.forms import arg_int  # arg_int: fuzzing fix (S13)
from portal.i18n import hours_minutes, local_time
from portal.security import SIGNED_IN, allow
from portal.shifts.blueprint import bp
from portal.shifts.forms import CheckInForm
from portal.shifts.roles import my_member, my_members, my_signup
from volunteers import attendance, shifts
from volunteers import queries as volunteer_queries
from volunteers.activity_models import Signup

# ---- the volunteer --------------------------------------------------------------------------


@bp.route("/my/shifts")
@allow(SIGNED_IN)
def mine():
    return _mine_page(request.args.get("member", type=arg_int))


def _mine_page(member_id: int | None, status: int = 200):
    members = my_members()
    if not members:
        return render_template("shifts/mine.html", member=None), status
    member = my_member(member_id, members)
    now = utcnow()
    mine = volunteer_queries.member_signups(db.session, member.id, now)
    open_shifts = volunteer_queries.first_open_shifts_to_join(db.session, member, now)
    return render_template(
        "shifts/mine.html",
        member=member,
        members=members,
        upcoming=mine.upcoming,
        open_shifts=open_shifts,
        past=mine.past,
        undoable=mine.undoable,  # "Checked out at 10:02 — Undo"
        undo_minutes=int(attendance.UNDO_WINDOW.total_seconds() // 60),
        now=now,
        can_sign_up=member.status == "active" and member.expires_on >= clock.local_date(now),
        check_in_form=CheckInForm(),
        early=shifts.CHECK_IN_EARLY,
        late=shifts.CHECK_OUT_LATE,
    ), status


@bp.route("/my/shifts/<int:shift_id>/sign-up", methods=["POST"])
@allow(SIGNED_IN)
def sign_up(shift_id: int):
    member = my_member(request.form.get("member_id", type=arg_int))
    if not CheckInForm().validate_on_submit():
        abort(400)
    with on_refusal(lambda status: _mine_page(member.id, status)):
        shifts.sign_up(
            db.session,
            shift_id=shift_id,
            member_id=member.id,
            actor_id=current_user.id,
            now=utcnow(),
        )
    db.session.commit()
    flash(_("You are signed up for the shift."), "success")
    return redirect(url_for("shifts.mine", member=member.id))


def _signup_action(signup_id: int, action, message: str):
    signup = my_signup(signup_id)
    form = CheckInForm()
    if not form.validate_on_submit():
        abort(400)
    with on_refusal(lambda status: _mine_page(signup.member_id, status)):
        action(signup, form)
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


def confirm_minutes() -> int:
    """Check-outs sooner than this after the check-in ask for a confirmation (a double tap on
    "Check in" must not end the shift); ``PORTAL_CHECK_OUT_CONFIRM_MINUTES``, default 10."""
    try:
        return max(0, int(current_app.config.get("CHECK_OUT_CONFIRM_MINUTES", 10)))
    except (TypeError, ValueError):
        return 10


def early_check_out_minutes(signup: Signup, at: dt.datetime) -> int | None:
    """Minutes worked when a check-out at ``at`` comes so soon after the check-in that the
    person is asked to confirm it (the page and the API ask alike); None otherwise."""
    if signup.status != "checked_in" or signup.checked_in_at is None:
        return None
    worked = at - signup.checked_in_at
    if dt.timedelta(0) <= worked < dt.timedelta(minutes=confirm_minutes()):
        return int(worked.total_seconds() // 60)
    return None


def _check_out_consequence(signup: Signup, now) -> Consequence:
    worked = int((now - signup.checked_in_at).total_seconds() // 60)
    return Consequence(
        title=_("Check out already?"),
        verb=_("Yes, check out"),
        action=url_for("shifts.check_out", signup_id=signup.id),
        cancel=url_for("shifts.mine", member=signup.member_id),
        consequence=_(
            "You checked in %(worked)s ago: checking out now ends your shift and logs "
            "%(worked)s of patrol. You can undo it for %(undo)s minutes.",
            worked=hours_minutes(worked),
            undo=int(attendance.UNDO_WINDOW.total_seconds() // 60),
        ),
        facts=[
            (_("Shift"), f"{local_time(signup.starts_at)} – {local_time(signup.ends_at)}"),
            (_("Place"), signup.shift.place),
            (_("Checked in at"), local_time(signup.checked_in_at)),
            (_("Time worked (h:mm)"), hours_minutes(worked)),
        ],
    )


@bp.route("/my/signups/<int:signup_id>/check-out", methods=["POST"])
@allow(SIGNED_IN)
def check_out(signup_id: int):
    signup = my_signup(signup_id)
    now = utcnow()
    if early_check_out_minutes(signup, now) is not None and not is_confirmed():
        return confirm_page(_check_out_consequence(signup, now), 422)
    return _signup_action(
        signup_id,
        lambda s, f: shifts.check_out(
            db.session, signup_id=s.id, actor_id=current_user.id, now=utcnow()
        ),
        _("Checked out. Your patrol hours are waiting for confirmation."),
    )


@bp.route("/my/signups/<int:signup_id>/undo-check-out", methods=["POST"])
@allow(SIGNED_IN)
def undo_check_out(signup_id: int):
    return _signup_action(
        signup_id,
        lambda s, f: attendance.undo_check_out(
            db.session, signup_id=s.id, actor_id=current_user.id, now=utcnow()
        ),
        _("Check-out undone: you are on the shift again."),
    )
