"""Reference settings: the work calendar, the register's validity and the contribution kinds."""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from core import audit, calendar, clock
from portal import kind_pages
from portal.admin.blueprint import bp
from portal.admin.forms import CalendarDayForm, KindForm, OfflineLimitForm, ValidityForm
from portal.admin.reach import admin_unit_choices
from portal.errors import on_refusal
from portal.extensions import db
from portal.forms import ConfirmForm, arg_int  # arg_int: fuzzing fix (S13)
from portal.security import administers_country, allow, current_scope, require_country_admin
from volunteers import contributions


@bp.route("/calendar", methods=["GET", "POST"])
@allow("admin")
def calendar_days():
    if request.method == "POST":
        require_country_admin()
    year = request.args.get("year", clock.today().year, type=arg_int)
    if not dt.MINYEAR <= year <= dt.MAXYEAR:  # ?year=73833 was a 500 (fuzzing, S13)
        year = clock.today().year
    form = CalendarDayForm()
    if form.validate_on_submit():
        with on_refusal(lambda status: _calendar_page(form, year, status)):
            calendar.set_day(
                db.session,
                day=form.day.data,
                kind=form.kind.data,
                name_kk=form.name_kk.data,
                name_ru=form.name_ru.data,
                source=form.source.data or "",
            )
            audit.record(
                db.session,
                action="calendar.add",
                object_type="calendar_day",
                object_id=form.day.data.isoformat(),
                actor_id=current_user.id,
                payload={"kind": form.kind.data},
            )
        db.session.commit()
        flash(_("The date has been added to the calendar."), "success")
        return redirect(url_for("admin.calendar_days", year=form.day.data.year))
    return _calendar_page(form, year, 400 if form.errors else 200)


def _calendar_page(form: CalendarDayForm, year: int, status: int):
    days = db.session.scalars(
        select(calendar.CalendarDay)
        .where(calendar.CalendarDay.day.between(dt.date(year, 1, 1), dt.date(year, 12, 31)))
        .order_by(calendar.CalendarDay.day)
    ).all()
    return render_template(
        "admin/calendar.html",
        days=days,
        year=year,
        form=form,
        confirm=ConfirmForm(),
        can_change=administers_country(),
    ), status


@bp.route("/calendar/<day>/remove", methods=["POST"])
@allow("admin")
def remove_calendar_day(day: str):
    require_country_admin()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        parsed = dt.date.fromisoformat(day)
    except ValueError:
        abort(404)
    calendar.remove_day(db.session, day=parsed)  # a refusal is the app's error page
    audit.record(
        db.session,
        action="calendar.remove",
        object_type="calendar_day",
        object_id=day,
        actor_id=current_user.id,
    )
    db.session.commit()
    flash(_("The date has been removed from the calendar."), "success")
    return redirect(url_for("admin.calendar_days", year=parsed.year))


@bp.route("/register-settings", methods=["GET", "POST"])
@allow("admin")
def register_settings():
    """Certificate validity per jurisdiction; units below inherit it."""
    from volunteers import register

    form = ValidityForm()
    form.unit_id.choices = admin_unit_choices()
    if form.validate_on_submit():
        with on_refusal(lambda status: _register_settings_page(form, status)):
            register.set_validity(
                db.session,
                unit_id=form.unit_id.data,
                months=form.months.data,
                actor_id=current_user.id,
            )
        db.session.commit()
        flash(_("The register setting has been saved."), "success")
        return redirect(url_for("admin.register_settings"))
    return _register_settings_page(form, 400 if form.errors else 200)


def _register_settings_page(form: ValidityForm, status: int):
    from volunteers import register

    settings = register.validity_settings(db.session, current_scope("admin"))
    return render_template(
        "admin/register_settings.html",
        form=form,
        settings=settings,
        default_months=register.DEFAULT_VALIDITY_MONTHS,
    ), status


def _measure_label(kind) -> str:
    return _("Hours of patrol") if kind.measure == "hours" else _("Events")


def _contribution_kind_form(**kwargs) -> KindForm:
    form = KindForm(**kwargs)
    form.measure.choices = [
        SelectChoice("hours", _("Hours of patrol")),
        SelectChoice("count", _("Events")),
    ]
    return form


kind_pages.register(
    bp,
    kind_pages.KindPage(
        endpoint="contribution_kinds",
        rule="/contribution-kinds",
        title=_l("Contribution kinds"),
        intro=_l(
            "Points here apply until the reward policy in force sets its own. A kind in use "
            "cannot change how it is counted; retire it instead."
        ),
        saved=_l("The contribution kind has been saved."),
        model=contributions.ContributionKind,
        form=_contribution_kind_form,
        save=contributions.save_kind,
        listed=lambda session: contributions.kinds(session, active_only=False),
        columns=(
            kind_pages.Column(_l("Counted in"), _measure_label),
            kind_pages.Column(_l("Points"), lambda kind: kind.points, numeric=True),
        ),
    ),
)


@bp.route("/attendance-settings", methods=["GET", "POST"])
@allow("admin")
def attendance_settings():
    """How old an offline check-in may be, per jurisdiction; units below inherit it."""
    from volunteers import attendance_settings as offline

    form = OfflineLimitForm()
    form.unit_id.choices = admin_unit_choices()
    if form.validate_on_submit():
        with on_refusal(lambda status: _attendance_settings_page(form, status), field=form):
            offline.set_offline_limit(
                db.session,
                unit_id=form.unit_id.data,
                minutes=form.minutes.data,
                actor_id=current_user.id,
                now=clock.now(),
            )
        db.session.commit()
        flash(_("The attendance setting has been saved."), "success")
        return redirect(url_for("admin.attendance_settings"))
    return _attendance_settings_page(form, 400 if form.errors else 200)


def _attendance_settings_page(form: OfflineLimitForm, status: int):
    from volunteers import attendance_settings as offline

    return render_template(
        "admin/attendance_settings.html",
        form=form,
        settings=offline.offline_limit_settings(db.session, current_scope("admin")),
        default_minutes=int(offline.DEFAULT_OFFLINE_LIMIT.total_seconds() // 60),
    ), status
