"""Citizens apply and follow their application; a coordinator enters a walk-in application."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core import clock, places, signups
from core.scope import Scope
from portal import session_policy, throttle
from portal.errors import on_refusal
from portal.extensions import db
from portal.forms import ConfirmForm, unit_choices  # arg_int: fuzzing fix (S13)
from portal.security import PUBLIC, SIGNED_IN, allow, current_scope
from portal.volunteers.blueprint import bp
from portal.volunteers.forms import ApplicationForm, SignupCodeForm, SignupForm
from portal.volunteers.roles import patrol_choices
from volunteers import enrolment
from volunteers.models import Application, Member

# ---- citizens -------------------------------------------------------------------------------


def _home_units():
    country = db.session.scalar(
        select(places.AdminUnit.id).where(places.AdminUnit.kato == places.COUNTRY_KATO)
    )
    return unit_choices(
        Scope.within([country]), levels=("settlement", "rural_okrug", "district", "city")
    )


@bp.route("/signup", methods=["GET", "POST"])
@allow(PUBLIC)
def signup():
    form = SignupForm()
    form.unit_id.choices = _home_units()
    if form.validate_on_submit():
        # The same answer whether or not the address has an account (no enumeration):
        # a code to a new address, a warning to the owner of a known one (core.signups).
        with on_refusal("volunteers/signup.html", form=form):
            token = signups.begin_signup(
                db.session,
                email=form.email.data,
                phone=form.phone.data,
                full_name=form.full_name.data,
                preferred_language=form.preferred_language.data,
                unit_id=form.unit_id.data,
                password=form.password.data,
            )
        db.session.commit()
        session["signup"] = token
        return redirect(url_for("volunteers.signup_code"))
    return render_template("volunteers/signup.html", form=form), 400 if form.errors else 200


def _signup_code_page(form: SignupCodeForm, email: str, status: int = 200):
    return render_template(
        "volunteers/signup_code.html", form=form, email=email, minutes=signups.CODE_MINUTES
    ), status


@bp.route("/signup/code", methods=["GET", "POST"])
@allow(PUBLIC)
def signup_code():
    token = session.get("signup")
    email = signups.pending_email(db.session, token) if isinstance(token, str) else None
    if email is None:
        session.pop("signup", None)
        flash(_("The sign-up code has expired. Fill in the form again."), "info")
        return redirect(url_for("volunteers.signup"))
    form = SignupCodeForm()
    if form.validate_on_submit():
        with on_refusal(lambda status: _signup_code_page(form, email, status), field=form.code):
            try:
                user = signups.complete_signup(db.session, token=token, code=form.code.data)
            except signups.CodeRefused:
                db.session.commit()  # the wrong attempt stays counted
                raise
        db.session.commit()
        session_policy.start(user, second_factor=False)
        throttle.trust_device(user.id)
        flash(_("Your account has been created. Now fill in the application."), "success")
        return redirect(url_for("volunteers.apply"))
    return _signup_code_page(form, email, 400 if form.errors else 200)


def _application_form_page(form, walk_in: bool, status: int = 200):
    consent = enrolment.current_consent(db.session, clock.today())
    form.consent_version.data = consent.version
    return render_template(
        "volunteers/apply.html", form=form, consent=consent, walk_in=walk_in
    ), status


def _submit(form: ApplicationForm, walk_in: bool):
    with on_refusal(lambda status: _application_form_page(form, walk_in, status)):
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
            today=clock.today(),
        )
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
    form.patrol_unit_id.choices = patrol_choices(Scope.within([current_user.unit_id]))
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
        today=clock.today(),
    ), status


def _own_action(application_id: int, action, message: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    app = db.session.get(Application, application_id)
    if app is None or app.applicant_id != current_user.id:
        abort(404)
    with on_refusal(lambda status: cabinet(status=status)):
        action()
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
        valid=member.status == "active" and member.expires_on >= clock.today(),
    )


# ---- staff: a walk-in application, on the citizens' form -------------------------------------


@bp.route("/volunteers/applications/new", methods=["GET", "POST"])
@allow("coordinator")
def walk_in():
    form = ApplicationForm()
    scope = current_scope("coordinator")
    form.unit_id.choices = unit_choices(scope, ("settlement", "rural_okrug", "district", "city"))
    form.patrol_unit_id.choices = patrol_choices(scope)
    if form.validate_on_submit():
        return _submit(form, walk_in=True)
    return _application_form_page(form, True, 400 if form.errors else 200)
