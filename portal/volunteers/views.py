"""Citizens apply and follow their application; staff vet, register and keep the register."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select
from wtforms import SelectChoice

from core import accounts, audit, clock, places, uploads
from core.errors import DomainError
from portal import jobs, pii, qr, session_policy
from portal.errors import flash_form_errors, refuse_page
from portal.extensions import db
from portal.forms import ConfirmForm, arg_int, unit_choices  # arg_int: fuzzing fix (S13)
from portal.i18n import translate_error
from portal.labels import MEMBER_STATUS_LABELS
from portal.paging import other_args, page_of
from portal.security import PUBLIC, SIGNED_IN, allow, get_in_scope, require_unit
from portal.volunteers.forms import (
    ApplicationForm,
    AssignUnitForm,
    ImportForm,
    MemberStatusForm,
    PatrolUnitForm,
    RefusalForm,
    SignupForm,
)
from volunteers import enrolment, importing, register
from volunteers.models import (
    APPLICATION_STATUSES,
    KINDS,
    MEMBER_STATUSES,
    Application,
    Member,
    PatrolUnit,
)

bp = Blueprint("volunteers", __name__)
VETTING = ("coordinator", "registrar")
REGISTER_READERS = ("coordinator", "registrar", "deputy")
EXPIRY_WARNING_DAYS = 60


def _today() -> dt.date:
    return clock.today()


# ---- citizens -------------------------------------------------------------------------------


def _home_units():
    country = db.session.scalar(
        select(places.AdminUnit.id).where(places.AdminUnit.kato == places.COUNTRY_KATO)
    )
    return unit_choices([country], levels=("settlement", "rural_okrug", "district", "city"))


@bp.route("/signup", methods=["GET", "POST"])
@allow(PUBLIC)
def signup():
    form = SignupForm()
    form.unit_id.choices = _home_units()
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
                actor_id=None,
            )
        except DomainError as exc:
            return refuse_page("volunteers/signup.html", exc, form=form)
        db.session.commit()
        session_policy.start(user, second_factor=False)
        flash(_("Your account has been created. Now fill in the application."), "success")
        return redirect(url_for("volunteers.apply"))
    return render_template("volunteers/signup.html", form=form), 400 if form.errors else 200


def _patrol_choices(scope_ids: list[int]) -> list[SelectChoice]:
    units = db.session.scalars(
        select(PatrolUnit)
        .join(places.AdminUnit, PatrolUnit.unit_id == places.AdminUnit.id)
        .where(places.units_within_clause(scope_ids))
        .order_by(PatrolUnit.name)
    )
    return [SelectChoice(0, "—")] + [SelectChoice(u.id, u.name) for u in units]


def _application_form_page(form, walk_in: bool, status: int = 200):
    consent = enrolment.current_consent(db.session, _today())
    form.consent_version.data = consent.version
    return render_template(
        "volunteers/apply.html", form=form, consent=consent, walk_in=walk_in
    ), status


def _submit(form: ApplicationForm, walk_in: bool):
    try:
        app = enrolment.submit_application(
            db.session,
            kind=form.kind.data,
            unit_id=form.unit_id.data,
            patrol_unit_id=form.patrol_unit_id.data or None,
            iin=form.iin.data,
            full_name=form.full_name.data,
            phone=form.phone.data,
            email=form.email.data,
            address=form.address.data,
            is_citizen=form.is_citizen.data,
            no_criminal_record=form.no_criminal_record.data,
            not_on_register=form.not_on_register.data,
            consent_version=form.consent_version.data if form.consent.data else None,
            applicant_id=None if walk_in else current_user.id,
            actor_id=current_user.id,
            channel="walk_in" if walk_in else "web",
            today=_today(),
        )
    except DomainError as exc:
        db.session.rollback()
        flash(translate_error(exc), "danger")
        return _application_form_page(form, walk_in, exc.status)
    db.session.commit()
    flash(_("The application has been submitted. The police check takes up to 30 days."), "success")
    if walk_in:
        return redirect(url_for("volunteers.application", application_id=app.id))
    return redirect(url_for("volunteers.cabinet"))


@bp.route("/apply", methods=["GET", "POST"])
@allow(SIGNED_IN)
def apply():
    form = ApplicationForm(
        full_name=current_user.full_name,
        phone=current_user.phone,
        email=current_user.email,
        unit_id=current_user.unit_id,
    )
    form.unit_id.choices = _home_units()
    form.patrol_unit_id.choices = _patrol_choices([current_user.unit_id])
    if form.validate_on_submit():
        return _submit(form, walk_in=False)
    return _application_form_page(form, False, 400 if form.errors else 200)


@bp.route("/my")
@allow(SIGNED_IN)
def cabinet(status: int = 200):
    apps = db.session.scalars(
        select(Application)
        .where(Application.applicant_id == current_user.id)
        .order_by(Application.id.desc())
    ).all()
    members = {
        m.application_id: m
        for m in db.session.scalars(
            select(Member).where(Member.application_id.in_([a.id for a in apps]))
        )
    }
    return render_template(
        "volunteers/cabinet.html",
        applications=apps,
        members=members,
        confirm=ConfirmForm(),
        today=_today(),
    ), status


def _own_action(application_id: int, action, message: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    app = db.session.get(Application, application_id)
    if app is None or app.applicant_id != current_user.id:
        abort(404)
    try:
        action()
    except DomainError as exc:
        db.session.rollback()
        flash(translate_error(exc), "danger")
        return cabinet(status=exc.status)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("volunteers.cabinet"))


@bp.route("/my/applications/<int:application_id>/withdraw", methods=["POST"])
@allow(SIGNED_IN)
def withdraw(application_id: int):
    return _own_action(
        application_id,
        lambda: enrolment.withdraw_application(
            db.session, application_id=application_id, actor_id=current_user.id
        ),
        _("The application has been withdrawn."),
    )


@bp.route("/my/applications/<int:application_id>/consent/withdraw", methods=["POST"])
@allow(SIGNED_IN)
def withdraw_consent(application_id: int):
    return _own_action(
        application_id,
        lambda: enrolment.withdraw_consent(
            db.session, application_id=application_id, actor_id=current_user.id
        ),
        _("Your consent has been withdrawn; your data is no longer processed."),
    )


@bp.route("/verify/<token>")
@allow(PUBLIC)
def verify(token: str):
    member = db.session.scalar(select(Member).where(Member.verify_token == token))
    if member is None:
        abort(404)
    initials = " ".join(part[0] + "." for part in member.full_name.split() if part)
    return render_template(
        "volunteers/verify.html",
        member=member,
        initials=initials,
        valid=member.status == "active" and member.expires_on >= _today(),
    )


# ---- staff: applications ----------------------------------------------------------------------


@bp.route("/volunteers/applications")
@allow(*VETTING)
def applications():
    status = request.args.get("status", "")
    due = request.args.get("due", "")
    today = _today()
    query = (
        select(Application)
        .join(places.AdminUnit, Application.unit_id == places.AdminUnit.id)
        .where(places.units_within_clause(current_user.scope(*VETTING)))
    )
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
        status=status,
        due=due,
        today=today,
        statuses=APPLICATION_STATUSES,
        total=found.total,
        page=found.page,
        pages=found.pages,
        args=other_args(),
    )


@bp.route("/volunteers/applications/new", methods=["GET", "POST"])
@allow("coordinator")
def walk_in():
    form = ApplicationForm()
    scope = current_user.scope("coordinator")
    form.unit_id.choices = unit_choices(scope, ("settlement", "rural_okrug", "district", "city"))
    form.patrol_unit_id.choices = _patrol_choices(scope)
    if form.validate_on_submit():
        return _submit(form, walk_in=True)
    return _application_form_page(form, True, 400 if form.errors else 200)


@bp.route("/volunteers/applications/<int:application_id>")
@allow(*VETTING)
def application(application_id: int, refusal_form=None, status: int = 200):
    app = get_in_scope(Application, application_id, *VETTING)
    member = register.member_of_application(db.session, app.id)
    return render_template(
        "volunteers/application.html",
        app=app,
        member=member,
        today=_today(),
        refusal_form=refusal_form or RefusalForm(),
        confirm=ConfirmForm(),
        can_vet=places.within(db.session, app.unit_id, current_user.scope("coordinator")),
        can_register=places.within(db.session, app.unit_id, current_user.scope("registrar")),
        trail=audit.events_for(db.session, "application", app.id),
        # Masked by default; in full for one view after an audited reveal (portal.pii).
        full_iin=pii.take("application", app.id, "iin"),
    ), status


def _step(application_id: int, role: str, action, message: str, refusal_form=None):
    app = get_in_scope(Application, application_id, *VETTING)
    require_unit(app.unit_id, role)
    if refusal_form is None and not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        action(app)
    except DomainError as exc:
        db.session.rollback()
        flash(translate_error(exc), "danger")
        return application(application_id, refusal_form=refusal_form, status=exc.status)
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


@bp.route("/volunteers/applications/<int:application_id>/pass", methods=["POST"])
@allow("coordinator")
def pass_check(application_id: int):
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
            db.session, application_id=a.id, actor_id=current_user.id, today=_today()
        ),
        _("The akimat has been petitioned to register the applicant."),
    )


@bp.route("/volunteers/applications/<int:application_id>/register", methods=["POST"])
@allow("registrar")
def register_applicant(application_id: int):
    return _step(
        application_id,
        "registrar",
        lambda a: enrolment.register_applicant(
            db.session, application_id=a.id, actor_id=current_user.id, today=_today()
        ),
        _("The applicant is registered and the certificate is issued."),
    )


# ---- staff: the register ----------------------------------------------------------------------


@bp.route("/volunteers/members")
@allow(*REGISTER_READERS)
def members():
    args = request.args
    scope = current_user.scope(*REGISTER_READERS)
    query = (
        select(Member)
        .join(places.AdminUnit, Member.unit_id == places.AdminUnit.id)
        .where(places.units_within_clause(scope))
    )
    district = args.get("unit", type=arg_int)
    if district:
        query = query.where(places.units_within_clause([district]))
    if args.get("kind") in KINDS:
        query = query.where(Member.kind == args["kind"])
    if args.get("status") in MEMBER_STATUSES:
        query = query.where(Member.status == args["status"])
    if args.get("patrol_unit", type=arg_int):
        query = query.where(Member.patrol_unit_id == args.get("patrol_unit", type=arg_int))
    if args.get("expiring"):
        query = query.where(
            Member.status == "active",
            Member.expires_on <= _today() + dt.timedelta(days=EXPIRY_WARNING_DAYS),
        )
    q = (args.get("q") or "").strip()
    if q:
        # contains(autoescape=True): "%" and "_" are searched for, not wildcards that list
        # the whole register (S14 found ?q=% matching every member).
        query = query.where(
            or_(
                func.lower(Member.full_name).contains(q.lower(), autoescape=True),
                Member.certificate_no.contains(q, autoescape=True),
            )
        )
    found = page_of(query.order_by(Member.full_name, Member.id))
    return render_template(
        "volunteers/members.html",
        members=found.rows,
        total=found.total,
        page=found.page,
        pages=found.pages,
        args=args,
        units=unit_choices(scope, ("district", "city")),
        patrols=_patrol_choices(scope),
        statuses=MEMBER_STATUSES,
        today=_today(),
    )


def _vetted_units(unit_ids: set[int]) -> set[int]:
    """Return which of ``unit_ids`` the user vets: there the IIN may be revealed.

    Deputies and everyone else never see it in full. One query for a whole page of members.
    """
    scope = current_user.scope(*VETTING)
    if not scope or not unit_ids:
        return set()
    return set(
        db.session.scalars(
            select(places.AdminUnit.id).where(
                places.AdminUnit.id.in_(unit_ids), places.units_within_clause(scope)
            )
        )
    )


def _member_page(member: Member, status_form=None, assign_form=None, status: int = 200):
    status_form = status_form or MemberStatusForm()
    status_form.status.choices = [
        SelectChoice(s, MEMBER_STATUS_LABELS[s])
        for s in register.next_statuses(member.status)
        if s != "expired"
    ]
    assign_form = assign_form or AssignUnitForm(patrol_unit_id=member.patrol_unit_id or 0)
    district = register.issuing_unit(db.session, member.unit)
    assign_form.patrol_unit_id.choices = _patrol_choices([district.id])
    vets = member.unit_id in _vetted_units({member.unit_id})
    return render_template(
        "volunteers/member.html",
        member=member,
        status_form=status_form,
        assign_form=assign_form,
        # Masked by default; in full for one view after an audited reveal (portal.pii).
        full_iin=vets and pii.take("member", member.id, "iin"),
        may_reveal=vets,
        can_decide=vets,
        today=_today(),
        trail=audit.events_for(db.session, "member", member.id),
    ), status


@bp.route("/volunteers/members/<int:member_id>")
@allow(*REGISTER_READERS)
def member(member_id: int):
    return _member_page(get_in_scope(Member, member_id, *REGISTER_READERS))


def _member_action(member: Member, form_name: str, form, action, message: str):
    """Validate a form of the member page, run one domain command, answer like the page."""
    if not form.validate_on_submit():
        flash_form_errors(form)  # flash_form_errors: the page may not show the form (S13)
        return _member_page(member, status=400, **{form_name: form})
    try:
        action()
    except DomainError as exc:
        db.session.rollback()
        flash(translate_error(exc), "danger")
        return _member_page(
            db.session.get(Member, member.id), status=exc.status, **{form_name: form}
        )
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("volunteers.member", member_id=member.id))


@bp.route("/volunteers/members/<int:member_id>/status", methods=["POST"])
@allow("registrar", "coordinator")
def member_status(member_id: int):
    member = get_in_scope(Member, member_id, *VETTING)
    form = MemberStatusForm()
    form.status.choices = [SelectChoice(s, s) for s in MEMBER_STATUSES]
    return _member_action(
        member,
        "status_form",
        form,
        lambda: register.change_status(
            db.session,
            member_id=member.id,
            to_status=form.status.data,
            reason=form.reason.data,
            actor_id=current_user.id,
        ),
        _("The status has been changed."),
    )


@bp.route("/volunteers/members/<int:member_id>/unit", methods=["POST"])
@allow("registrar", "coordinator")
def member_unit(member_id: int):
    member = get_in_scope(Member, member_id, *VETTING)
    form = AssignUnitForm()
    form.patrol_unit_id.choices = _patrol_choices(
        [register.issuing_unit(db.session, member.unit).id]
    )
    return _member_action(
        member,
        "assign_form",
        form,
        lambda: register.assign_to_unit(
            db.session,
            member_id=member.id,
            patrol_unit_id=form.patrol_unit_id.data or None,
            actor_id=current_user.id,
        ),
        _("The patrol unit has been changed."),
    )


@bp.route("/volunteers/members/<int:member_id>/certificate")
@allow(*VETTING)
def certificate(member_id: int):
    member = get_in_scope(Member, member_id, *VETTING)
    link = url_for("volunteers.verify", token=member.verify_token, _external=True)
    return render_template(
        "volunteers/certificate.html", member=member, link=link, qr_svg=qr.svg_data_uri(link)
    )


# ---- staff: patrol units ----------------------------------------------------------------------


@bp.route("/volunteers/units")
@allow(*VETTING)
def units():
    scope = current_user.scope(*VETTING)
    rows = db.session.execute(
        select(PatrolUnit, func.count(Member.id))
        .join(places.AdminUnit, PatrolUnit.unit_id == places.AdminUnit.id)
        .outerjoin(Member, (Member.patrol_unit_id == PatrolUnit.id) & (Member.status == "active"))
        .where(places.units_within_clause(scope))
        .group_by(PatrolUnit.id)
        .order_by(PatrolUnit.name)
    ).all()
    return render_template("volunteers/units.html", rows=rows)


def _unit_form(patrol: PatrolUnit | None) -> PatrolUnitForm:
    form = PatrolUnitForm(obj=patrol) if patrol else PatrolUnitForm()
    scope = current_user.scope(*VETTING)
    form.unit_id.choices = unit_choices(scope)
    coordinators = db.session.scalars(
        select(accounts.User)
        .join(accounts.RoleGrant, accounts.RoleGrant.user_id == accounts.User.id)
        .join(places.AdminUnit, accounts.RoleGrant.unit_id == places.AdminUnit.id)
        .where(
            accounts.RoleGrant.role == "coordinator",
            accounts.RoleGrant.revoked_at.is_(None),
            places.units_within_clause(scope),
        )
        .distinct()
        .order_by(accounts.User.full_name)
    )
    form.coordinator_id.choices = [SelectChoice(0, "—")] + [
        SelectChoice(u.id, u.full_name) for u in coordinators
    ]
    leaders = (
        []
        if patrol is None
        else db.session.scalars(
            select(Member)
            .where(Member.patrol_unit_id == patrol.id, Member.status == "active")
            .order_by(Member.full_name)
        ).all()
    )
    form.leader_member_id.choices = [SelectChoice(0, "—")] + [
        SelectChoice(m.id, m.full_name) for m in leaders
    ]
    return form


@bp.route("/volunteers/units/new", methods=["GET", "POST"])
@bp.route("/volunteers/units/<int:patrol_unit_id>", methods=["GET", "POST"])
@allow(*VETTING)
def unit(patrol_unit_id: int | None = None):
    patrol = None
    if patrol_unit_id is not None:
        patrol = get_in_scope(PatrolUnit, patrol_unit_id, *VETTING)
    form = _unit_form(patrol)
    if form.validate_on_submit():
        try:
            saved = register.save_patrol_unit(
                db.session,
                unit_id=form.unit_id.data,
                name=form.name.data,
                coordinator_id=form.coordinator_id.data or None,
                leader_member_id=form.leader_member_id.data or None,
                actor_id=current_user.id,
                patrol_unit_id=patrol_unit_id,
            )
        except DomainError as exc:
            return refuse_page("volunteers/unit.html", exc, form=form, patrol=patrol, members=[])
        db.session.commit()
        flash(_("The patrol unit has been saved."), "success")
        return redirect(url_for("volunteers.unit", patrol_unit_id=saved.id))
    members_of_unit = (
        []
        if patrol is None
        else db.session.scalars(
            select(Member).where(Member.patrol_unit_id == patrol.id).order_by(Member.full_name)
        ).all()
    )
    return render_template(
        "volunteers/unit.html", form=form, patrol=patrol, members=members_of_unit
    ), 400 if form.errors else 200


# ---- staff: bulk import -----------------------------------------------------------------------


@bp.route("/volunteers/import", methods=["GET", "POST"])
@allow("registrar")
def import_register():
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        content = upload.read()
        try:
            importing.read_table(content, upload.filename or "")
        except DomainError as exc:
            return refuse_page("volunteers/import.html", exc, form=form)
        stored = uploads.store(
            db.session,
            filename=upload.filename or "register",
            content_type=upload.mimetype or "application/octet-stream",
            content=content,
            owner_id=current_user.id,
        )
        run = jobs.submit(
            "members.import",
            requested_by_id=current_user.id,
            unit_id=None,
            params={"file_id": stored.id},
        )
        db.session.commit()
        return redirect(url_for("jobruns.show", run_id=run.id))
    return render_template("volunteers/import.html", form=form), 400 if form.errors else 200
