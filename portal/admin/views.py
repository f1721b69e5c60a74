"""User administration within the admin's jurisdictions, and the audit-chain page."""

from __future__ import annotations

import datetime as dt
import json

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import and_, func, or_, select
from wtforms import SelectChoice

from core import accounts, audit, calendar, clock, jobruns, mfa, places
from core.accounts import RoleGrant, User
from core.errors import DomainError
from core.notifications import Notification
from portal import jobs, session_policy
from portal.admin.forms import (
    CalendarDayForm,
    GrantForm,
    KindForm,
    NewUserForm,
    UserForm,
    ValidityForm,
)
from portal.errors import refuse
from portal.extensions import db
from portal.forms import ConfirmForm, arg_int, unit_choices  # arg_int: fuzzing fix (S13)
from portal.i18n import translate_error
from portal.paging import PAGE_SIZE, other_args, page_of
from portal.security import administers_country, allow, get_in_scope, require_country_admin

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _unit_choices() -> list[SelectChoice]:
    return unit_choices(current_user.scope("admin"))


def _user_in_scope(user_id: int) -> User:
    return get_in_scope(User, user_id, "admin")


def _outside_reach(user: User):
    """Answer 403 with the reason, nothing written, unless the admin may act on ``user``.

    A regional administrator lists and reads the accounts whose home unit lies in the region,
    but changes only those whose every role grant lies inside their jurisdictions too.
    """
    if accounts.administers(db.session, current_user, user):
        return None
    db.session.rollback()
    exc = accounts.OutsideReach()
    flash(translate_error(exc), "danger")
    return _render_user_page(user, exc.status)


def _people_in_scope():
    """Ids of the accounts of the admin's jurisdictions (a subquery)."""
    return (
        select(User.id)
        .join(places.AdminUnit, User.unit_id == places.AdminUnit.id)
        .where(places.units_within_clause(current_user.scope("admin")))
    )


@bp.route("/users")
@allow("admin")
def users():
    q = (request.args.get("q") or "").strip()
    query = (
        select(User)
        .join(places.AdminUnit, User.unit_id == places.AdminUnit.id)
        .where(places.units_within_clause(current_user.scope("admin")))
    )
    if q:
        # contains(autoescape=True): "%" and "_" are searched for, not wildcards that list
        # every account (S14 found ?q=% matching all).
        query = query.where(
            or_(
                func.lower(User.full_name).contains(q.lower(), autoescape=True),
                User.email.contains(q.lower(), autoescape=True),
                User.phone.contains(q, autoescape=True),
            )
        )
    found = page_of(query.order_by(User.full_name, User.id))
    return render_template(
        "admin/users.html",
        users=found.rows,
        manageable=accounts.administered(db.session, current_user, [u.id for u in found.rows]),
        q=q,
        page=found.page,
        total=found.total,
        pages=found.pages,
        args=other_args(),
    )


@bp.route("/users/new", methods=["GET", "POST"])
@allow("admin")
def new_user():
    form = NewUserForm()
    form.unit_id.choices = _unit_choices()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(
                db.session,
                email=form.email.data,
                phone=form.phone.data,
                full_name=form.full_name.data,
                preferred_language=form.preferred_language.data,
                unit_id=form.unit_id.data,
                password=form.password.data,
                actor_id=current_user.id,
            )
        except DomainError as exc:
            db.session.rollback()
            flash(translate_error(exc), "danger")
            return render_template("admin/user_form.html", form=form, user=None), exc.status
        db.session.commit()
        flash(_("The account has been created."), "success")
        return redirect(url_for("admin.user", user_id=user.id))
    return render_template("admin/user_form.html", form=form, user=None), (
        400 if form.errors else 200
    )


def _render_user_page(user: User, status: int = 200, grant_form: GrantForm | None = None):
    if grant_form is None:
        grant_form = GrantForm()
        grant_form.unit_id.choices = _unit_choices()
    history = db.session.scalars(
        select(RoleGrant).where(RoleGrant.user_id == user.id).order_by(RoleGrant.id.desc())
    ).all()
    return render_template(
        "admin/user.html",
        user=user,
        grant_form=grant_form,
        confirm=ConfirmForm(),
        history=history,
        has_factor=mfa.factor_of(db.session, user.id) is not None,
        can_manage=accounts.administers(db.session, current_user, user),
        reach_note=translate_error(accounts.OutsideReach()),
        trail=audit.events_for(db.session, "user", user.id),
    ), status


@bp.route("/users/<int:user_id>")
@allow("admin")
def user(user_id: int):
    return _render_user_page(_user_in_scope(user_id))


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@allow("admin")
def edit_user(user_id: int):
    user = _user_in_scope(user_id)
    if refused := _outside_reach(user):
        return refused
    form = UserForm(obj=user)
    form.unit_id.choices = _unit_choices()
    if form.validate_on_submit():
        try:
            accounts.update_profile(
                db.session,
                user_id=user.id,
                full_name=form.full_name.data,
                email=form.email.data,
                phone=form.phone.data,
                preferred_language=form.preferred_language.data,
                unit_id=form.unit_id.data,
                actor_id=current_user.id,
            )
        except DomainError as exc:
            db.session.rollback()
            flash(translate_error(exc), "danger")
            return render_template("admin/user_form.html", form=form, user=user), exc.status
        db.session.commit()
        flash(_("The account has been saved."), "success")
        return redirect(url_for("admin.user", user_id=user.id))
    return render_template("admin/user_form.html", form=form, user=user), (
        400 if form.errors else 200
    )


def _act(user: User, action, success: str, grant_form: GrantForm | None = None):
    """Run one domain command from a user page; errors re-render it with their status."""
    if grant_form is None and not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        action()
    except DomainError as exc:
        db.session.rollback()
        flash(translate_error(exc), "danger")
        return _render_user_page(db.session.get(User, user.id), exc.status, grant_form)
    db.session.commit()
    flash(success, "success")
    return redirect(url_for("admin.user", user_id=user.id))


@bp.route("/users/<int:user_id>/grants", methods=["POST"])
@allow("admin")
@session_policy.fresh_required
def grant(user_id: int):
    user = _user_in_scope(user_id)
    if refused := _outside_reach(user):
        return refused
    form = GrantForm()
    form.unit_id.choices = _unit_choices()
    if not form.validate_on_submit():
        return _render_user_page(user, 400, form)
    return _act(
        user,
        lambda: accounts.grant_role(
            db.session,
            user_id=user.id,
            role=form.role.data,
            unit_id=form.unit_id.data,
            actor_id=current_user.id,
        ),
        _("The role has been granted."),
        grant_form=form,
    )


@bp.route("/grants/<int:grant_id>/revoke", methods=["POST"])
@allow("admin")
@session_policy.fresh_required
def revoke(grant_id: int):
    grant = db.session.get(RoleGrant, grant_id)
    if grant is None:
        abort(404)
    user = _user_in_scope(grant.user_id)
    if refused := _outside_reach(user):
        return refused
    return _act(
        user,
        lambda: accounts.revoke_grant(db.session, grant_id=grant_id, actor_id=current_user.id),
        _("The role has been revoked."),
    )


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@allow("admin")
def deactivate(user_id: int):
    user = _user_in_scope(user_id)
    if refused := _outside_reach(user):
        return refused
    return _act(
        user,
        lambda: accounts.set_active(
            db.session, user_id=user.id, active=False, actor_id=current_user.id
        ),
        _("The account has been deactivated and its sessions ended."),
    )


@bp.route("/users/<int:user_id>/two-factor/reset", methods=["POST"])
@allow("admin")
@session_policy.fresh_required
def reset_mfa(user_id: int):
    user = _user_in_scope(user_id)
    if refused := _outside_reach(user):
        return refused
    return _act(
        user,
        lambda: mfa.reset(db.session, user_id=user.id, actor_id=current_user.id),
        _("Two-factor sign-in has been reset; the user sets it up again at the next sign-in."),
    )


@bp.route("/users/<int:user_id>/activate", methods=["POST"])
@allow("admin")
def activate(user_id: int):
    user = _user_in_scope(user_id)
    if refused := _outside_reach(user):
        return refused
    return _act(
        user,
        lambda: accounts.set_active(
            db.session, user_id=user.id, active=True, actor_id=current_user.id
        ),
        _("The account has been activated."),
    )


@bp.route("/audit")
@allow("admin")
def audit_chain():
    last = db.session.scalar(
        select(jobruns.JobRun)
        .where(jobruns.JobRun.kind == "audit.verify", jobruns.JobRun.status == "succeeded")
        .order_by(jobruns.JobRun.id.desc())
        .limit(1)
    )
    report = json.loads(last.result) if last and last.result else None
    return render_template(
        "admin/audit.html",
        last=last,
        report=report,
        confirm=ConfirmForm(),
        events=_recent_events(),
    )


def _recent_events(limit: int = 50):
    """The newest events: of the whole chain for the national administrator.

    Authorization fix (S5 IDOR matrix): a regional administrator read every event of the
    country. Now they read the events of the people of their jurisdictions (the actor's unit,
    as the deputies' audit log does); the verification above still covers the whole chain.
    """
    if administers_country():
        return audit.recent_events(db.session, limit=limit)
    return db.session.scalars(
        select(audit.AuditEvent)
        .where(audit.AuditEvent.actor_id.in_(_people_in_scope()))
        .order_by(audit.AuditEvent.seq.desc())
        .limit(limit)
    ).all()


@bp.route("/audit/verify", methods=["POST"])
@allow("admin")
def verify_audit():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    run = jobs.submit("audit.verify", requested_by_id=current_user.id, unit_id=None)
    db.session.commit()
    return redirect(url_for("jobruns.show", run_id=run.id))


@bp.route("/calendar", methods=["GET", "POST"])
@allow("admin")
def calendar_days():
    if request.method == "POST":
        require_country_admin()
    year = request.args.get("year", clock.today().year, type=arg_int)
    if not dt.MINYEAR <= year <= dt.MAXYEAR:  # ?year=73833 was a 500 (fuzzing, S13)
        year = clock.today().year
    form = CalendarDayForm()
    status = 200
    if form.validate_on_submit():
        try:
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
        except DomainError as exc:
            status = refuse(exc)
        else:
            db.session.commit()
            flash(_("The date has been added to the calendar."), "success")
            return redirect(url_for("admin.calendar_days", year=form.day.data.year))
    elif form.errors:
        status = 400
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
    try:
        calendar.remove_day(db.session, day=parsed)
    except DomainError as exc:
        db.session.rollback()
        abort(exc.status)
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


@bp.route("/outbox")
@allow("admin")
def outbox():
    query = select(Notification)
    if not administers_country():
        # Authorization fix (S5 IDOR matrix): a regional administrator read the messages to
        # everybody in the country; now those to the people of their jurisdictions only.
        query = query.where(Notification.user_id.in_(_people_in_scope()))
    messages = db.session.scalars(query.order_by(Notification.id.desc()).limit(200)).all()
    return render_template(
        "admin/outbox.html",
        messages=messages,
        mail_configured=bool(current_app.config.get("MAIL_SERVER")),
    )


@bp.route("/register-settings", methods=["GET", "POST"])
@allow("admin")
def register_settings():
    """Certificate validity per jurisdiction; units below inherit it."""
    from volunteers import register

    form = ValidityForm()
    form.unit_id.choices = _unit_choices()
    status = 200
    if form.validate_on_submit():
        try:
            register.set_validity(
                db.session,
                unit_id=form.unit_id.data,
                months=form.months.data,
                actor_id=current_user.id,
            )
        except DomainError as exc:
            status = refuse(exc)
        else:
            db.session.commit()
            flash(_("The register setting has been saved."), "success")
            return redirect(url_for("admin.register_settings"))
    elif form.errors:
        status = 400
    settings = register.validity_settings(db.session, current_user.scope("admin"))
    return render_template(
        "admin/register_settings.html",
        form=form,
        settings=settings,
        default_months=register.DEFAULT_VALIDITY_MONTHS,
    ), status


@bp.route("/contribution-kinds", methods=["GET", "POST"])
@allow("admin")
def contribution_kinds():
    """Kinds of contributions, their names in three languages and default points."""
    from volunteers import contributions

    if request.method == "POST":
        require_country_admin()
    edit = request.args.get("code")
    existing = db.session.get(contributions.ContributionKind, edit) if edit else None
    form = KindForm(obj=existing if request.method == "GET" else None)
    form.measure.choices = [
        SelectChoice("hours", _("Hours of patrol")),
        SelectChoice("count", _("Events")),
    ]
    status = 200
    if form.validate_on_submit():
        try:
            contributions.save_kind(
                db.session,
                code=form.code.data,
                actor_id=current_user.id,
                name_kk=form.name_kk.data.strip(),
                name_ru=form.name_ru.data.strip(),
                name_en=form.name_en.data.strip(),
                measure=form.measure.data,
                points=form.points.data,
                needs_reference=bool(form.needs_reference.data),
                active=bool(form.active.data),
                position=form.position.data or 0,
            )
        except DomainError as exc:
            status = refuse(exc)
        else:
            db.session.commit()
            flash(_("The contribution kind has been saved."), "success")
            return redirect(url_for("admin.contribution_kinds"))
    elif form.errors:
        status = 400
    return render_template(
        "admin/contribution_kinds.html",
        kinds=contributions.kinds(db.session, active_only=False),
        form=form,
        editing=existing,
        can_change=administers_country(),
    ), status


def _runs_in_scope():
    """Job runs of the admin's jurisdictions, and the system's own (nobody requested them).

    Authorization fix (S5 IDOR matrix): every run without a jurisdiction used to count as the
    system's, so a regional administrator saw (and could retry) the failed runs that officials
    of other regions requested. Such a run now belongs to its requester's jurisdiction.
    """
    run = jobruns.JobRun
    return or_(
        and_(
            run.unit_id.is_(None),
            or_(run.requested_by_id.is_(None), run.requested_by_id.in_(_people_in_scope())),
        ),
        jobruns.JobRun.unit_id.in_(
            select(places.AdminUnit.id).where(
                places.units_within_clause(current_user.scope("admin"))
            )
        ),
    )


@bp.route("/operations")
@allow("admin")
def operations():
    """Queues, failed jobs with a retry button, the last reconciliation and audit check."""
    from redis.exceptions import RedisError

    run = jobruns.JobRun
    counts = dict(
        db.session.execute(
            select(run.status, func.count()).where(_runs_in_scope()).group_by(run.status)
        ).all()
    )
    failed = db.session.scalars(
        select(run)
        .where(run.status == "failed", _runs_in_scope())
        .order_by(run.finished_at.desc(), run.id.desc())
        .limit(PAGE_SIZE)
    ).all()
    last = {
        kind: db.session.scalars(
            select(run)
            .where(run.kind == kind, _runs_in_scope())  # S5: of the admin's jurisdictions
            .order_by(run.id.desc())
            .limit(1)
        ).first()
        for kind in ("budget.reconcile", "audit.verify", "members.expire", "shifts.close")
    }
    try:
        queues = jobs.queue_lengths(current_app._get_current_object())
    except RedisError:
        queues = None
        flash(
            _("Redis does not answer: jobs wait in the database and are sent when it is back."),
            "warning",
        )
    return render_template(
        "admin/operations.html",
        counts=counts,
        failed=failed,
        last=last,
        queues=queues,
        confirm=ConfirmForm(),
    )


@bp.route("/operations/runs/<int:run_id>/retry", methods=["POST"])
@allow("admin")
def retry_run(run_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    found = db.session.scalar(
        select(jobruns.JobRun).where(jobruns.JobRun.id == run_id, _runs_in_scope())
    )
    if found is None:
        abort(404)
    if not jobs.retry(run_id):
        db.session.rollback()
        flash(_("Only a failed job can be run again."), "danger")
        return operations(), 409
    audit.record(
        db.session,
        action="job.retry",
        object_type="job_run",
        object_id=run_id,
        actor_id=current_user.id,
        payload={"kind": found.kind},
    )
    db.session.commit()
    flash(_("The job has been queued again."), "success")
    return redirect(url_for("jobruns.show", run_id=run_id))
