"""Staff vet applications: the queue, the police check, refusals, petitions and registration."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_

from core import audit, clock
from portal import pii
from portal.confirmation import carried_fields, confirm_page, is_confirmed
from portal.errors import flash_form_errors, on_refusal
from portal.extensions import db
from portal.forms import ConfirmForm  # arg_int: fuzzing fix (S13)
from portal.i18n import local_date, unit_name
from portal.paging import other_args, page_of, row_link
from portal.security import allow, current_scope, get_in_scope, require_unit
from portal.volunteers import confirm_steps
from portal.volunteers.blueprint import bp
from portal.volunteers.forms import RefusalForm
from portal.volunteers.roles import VETTING
from volunteers import enrolment, queries, register
from volunteers.models import APPLICATION_STATUSES, Application

# ---- staff: applications ----------------------------------------------------------------------


@bp.route("/volunteers/applications")
@allow(*VETTING)
def applications():
    status = request.args.get("status", "")
    due = request.args.get("due", "")
    today = clock.today()
    q = (request.args.get("q") or "").strip()
    query = queries.applications(current_scope(*VETTING))
    if q:
        query = query.where(queries.application_search(q))
    if status in APPLICATION_STATUSES:
        query = query.where(Application.status == status)
    else:
        query = query.where(Application.status.in_(("submitted", "police_check", "petitioned")))
    if due == "overdue":
        query = query.where(
            or_(
                (Application.status.in_(("submitted", "police_check")))
                & (Application.police_due_on < today),
                (Application.status == "petitioned") & (Application.registration_due_on < today),
            )
        )
    found = page_of(query.order_by(Application.police_due_on, Application.id))
    return render_template(
        "volunteers/applications.html",
        applications=found.rows,
        # Each unit's name and each deadline formatted once: a page of 50 applications
        # lies in a few settlements and falls due on a few days (issue 16).
        unit_names={u.id: unit_name(u) for u in {a.unit for a in found.rows}},
        dates={
            day: local_date(day)
            for a in found.rows
            for day in (a.police_due_on, a.registration_due_on)
        },
        status=status,
        due=due,
        q=q,
        today=today,
        statuses=APPLICATION_STATUSES,
        total=found.total,
        page=found.page,
        pages=found.pages,
        args=other_args(),
        application_href=row_link("volunteers.application", "application_id"),
    )


@bp.route("/volunteers/applications/<int:application_id>")
@allow(*VETTING)
def application(application_id: int, refusal_form=None, status: int = 200):
    app = get_in_scope(Application, application_id, *VETTING)
    member = register.member_of_application(db.session, app.id)
    return render_template(
        "volunteers/application.html",
        app=app,
        member=member,
        today=clock.today(),
        refusal_form=refusal_form or RefusalForm(),
        confirm=ConfirmForm(),
        can_vet=current_scope("coordinator").contains(db.session, app.unit_id),
        can_register=current_scope("registrar").contains(db.session, app.unit_id),
        trail=audit.events_for(db.session, "application", app.id),
        # Masked by default; in full for one view after an audited reveal (portal.pii).
        full_iin=pii.take("application", app.id, "iin"),
    ), status


def _step(application_id: int, role: str, action, message: str, refusal_form=None):
    app = get_in_scope(Application, application_id, *VETTING)
    require_unit(app.unit_id, role)
    if refusal_form is None and not ConfirmForm().validate_on_submit():
        abort(400)
    with on_refusal(
        lambda status: application(application_id, refusal_form=refusal_form, status=status)
    ):
        action(app)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("volunteers.application", application_id=application_id))


@bp.route("/volunteers/applications/<int:application_id>/take", methods=["POST"])
@allow("coordinator")
def take_check(application_id: int):
    return _step(
        application_id,
        "coordinator",
        lambda a: enrolment.take_check(db.session, application_id=a.id, actor_id=current_user.id),
        _("You have taken the police check."),
    )


def _confirm(application_id: int, role: str, consequence, status: int = 200):
    """Show what the step will do to the application (422 when it was posted unconfirmed)."""
    app = get_in_scope(Application, application_id, *VETTING)
    require_unit(app.unit_id, role)
    return confirm_page(consequence(app), status)


@bp.route("/volunteers/applications/<int:application_id>/pass/confirm")
@allow("coordinator")
def pass_check_confirm(application_id: int):
    return _confirm(application_id, "coordinator", confirm_steps.pass_check)


@bp.route("/volunteers/applications/<int:application_id>/pass", methods=["POST"])
@allow("coordinator")
def pass_check(application_id: int):
    if not is_confirmed():  # a double click on the old button, or a script: nothing happens
        return _confirm(application_id, "coordinator", confirm_steps.pass_check, 422)
    return _step(
        application_id,
        "coordinator",
        lambda a: enrolment.record_check(
            db.session, application_id=a.id, passed=True, reason=None, actor_id=current_user.id
        ),
        _("The check is recorded as passed."),
    )


@bp.route("/volunteers/applications/<int:application_id>/refuse", methods=["POST"])
@allow("coordinator")
def refuse(application_id: int):
    form = RefusalForm()
    if not form.validate_on_submit():
        get_in_scope(Application, application_id, "coordinator")
        flash_form_errors(form)  # flash_form_errors: the page may not show the form (S13)
        return application(application_id, refusal_form=form, status=400)
    if not is_confirmed():
        return _confirm(
            application_id,
            "coordinator",
            lambda a: confirm_steps.refuse(a, form.reason.data, carried_fields()),
            422,
        )
    return _step(
        application_id,
        "coordinator",
        lambda a: enrolment.record_check(
            db.session,
            application_id=a.id,
            passed=False,
            reason=form.reason.data,
            actor_id=current_user.id,
        ),
        _("The application has been refused."),
        refusal_form=form,
    )


@bp.route("/volunteers/applications/<int:application_id>/petition", methods=["POST"])
@allow("coordinator")
def petition(application_id: int):
    return _step(
        application_id,
        "coordinator",
        lambda a: enrolment.petition(
            db.session, application_id=a.id, actor_id=current_user.id, today=clock.today()
        ),
        _("The akimat has been petitioned to register the applicant."),
    )


@bp.route("/volunteers/applications/<int:application_id>/register/confirm")
@allow("registrar")
def register_confirm(application_id: int):
    return _confirm(application_id, "registrar", confirm_steps.register_applicant)


@bp.route("/volunteers/applications/<int:application_id>/register", methods=["POST"])
@allow("registrar")
def register_applicant(application_id: int):
    if not is_confirmed():  # a double click on the old button, or a script: nothing happens
        return _confirm(application_id, "registrar", confirm_steps.register_applicant, 422)
    return _step(
        application_id,
        "registrar",
        lambda a: enrolment.register_applicant(
            db.session, application_id=a.id, actor_id=current_user.id, today=clock.today()
        ),
        _("The applicant is registered and the certificate is issued."),
    )
