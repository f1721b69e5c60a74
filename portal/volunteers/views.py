"""Citizens apply and follow their application; a coordinator enters a walk-in application."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import lazyload

from core import clock, payout_accounts, places, signups
from core.outputs import mask_iban
from core.scope import Scope
from incentives.models import Nomination
from portal import session_policy, throttle
from portal.errors import on_refusal
from portal.extensions import db
from portal.forms import ConfirmForm, show_at_fields, unit_choices
from portal.security import PUBLIC, SIGNED_IN, allow, current_scope
from portal.volunteers import certificate_views
from portal.volunteers.blueprint import bp
from portal.volunteers.forms import ApplicationForm, SignupCodeForm, SignupForm
from portal.volunteers.own_iban import OwnIbanForm
from portal.volunteers.roles import patrol_choices
from volunteers import certificates, enrolment
from volunteers.calendar_feeds import CalendarFeed
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
    if form.is_submitted():
        # The domain's rules too, on the inputs the form accepted: every problem in one round.
        names = ("email", "phone", "full_name", "unit_id", "password")
        accepted = {n: form[n].data for n in names if not form[n].errors}
        for unplaced in show_at_fields(form, signups.signup_problems(db.session, accepted)):
            flash(unplaced, "danger")
        return render_template("volunteers/signup.html", form=form), 422
    return render_template("volunteers/signup.html", form=form)


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
    return _signup_code_page(form, email, 422 if form.errors else 200)


def _application_form_page(form, walk_in: bool, status: int = 200):
    consent = enrolment.current_consent(db.session, clock.today())
    form.consent_version.data = consent.version
    return render_template(
        "volunteers/apply.html", form=form, consent=consent, walk_in=walk_in
    ), status


def _form_values(form: ApplicationForm) -> dict:
    """Return the application's values the form accepted, by the names the domain checks."""
    values = {
        "kind": form.kind.data,
        "unit_id": form.unit_id.data,
        "patrol_unit_id": form.patrol_unit_id.data or None,
        "iin": form.iin.data,
        "full_name": form.full_name.data,
        "phone": form.phone.data,
        "email": form.email.data,
        "address": form.address.data,
        "is_citizen": form.is_citizen.data,
        "no_criminal_record": form.no_criminal_record.data,
        "not_on_register": form.not_on_register.data,
        "consent_version": form.consent_version.data if form.consent.data else None,
    }
    refused = {name for name, field in form._fields.items() if field.errors}
    if "consent" in refused:
        refused.add("consent_version")
    return {name: value for name, value in values.items() if name not in refused}


def _application_page(form: ApplicationForm, walk_in: bool):
    """Answer a refused form with every problem at its field in one round (issue 19).

    The form's own checks ran; the domain's rules are checked too on the inputs that passed
    them, so that a wrong IIN is not reported only after the missing phone is typed in.
    """
    problems = enrolment.application_problems(db.session, _form_values(form), clock.today())
    for unplaced in show_at_fields(form, problems):
        flash(unplaced, "danger")
    return _application_form_page(form, walk_in, 422)


def _submit(form: ApplicationForm, walk_in: bool):
    with on_refusal(lambda status: _application_form_page(form, walk_in, status), field=form):
        app = enrolment.submit_application(
            db.session,
            applicant_id=None if walk_in else current_user.id,
            actor_id=current_user.id,
            channel="walk_in" if walk_in else "web",
            today=clock.today(),
            **_form_values(form),
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
    if form.is_submitted():
        return _application_page(form, walk_in=False)
    return _application_form_page(form, False)


@bp.route("/my")
@allow(SIGNED_IN)
def cabinet(status: int = 200, iban_form=None):
    # Each application with its register entry and the entry's calendar link (at most one of
    # each) in one statement; the entry's unit is not shown here.
    rows = db.session.execute(
        select(Application, Member, CalendarFeed)
        .outerjoin(Member, Member.application_id == Application.id)
        .outerjoin(CalendarFeed, CalendarFeed.member_id == Member.id)
        .where(Application.applicant_id == current_user.id)
        .order_by(Application.id.desc())
        .options(lazyload(Member.unit))
    ).all()
    apps = [a for a, _m, _f in rows]
    members = {a.id: m for a, m, _f in rows if m is not None}
    feeds = {m.id: f for _a, m, f in rows if f is not None}
    iban = payout_accounts.iban_of(db.session, current_user.id)
    # Only someone a reward can reach needs a payout account: a member of the register, or
    # an activist a nomination names (an official's cabinet does not ask for an IBAN).
    rewardable = (
        bool(members)
        or iban is not None
        or db.session.scalar(
            select(Nomination.id).where(Nomination.recipient_user_id == current_user.id).limit(1)
        )
        is not None
    )
    return render_template(
        "volunteers/cabinet.html",
        rewardable=rewardable,
        applications=apps,
        members=members,
        confirm=ConfirmForm(),
        today=clock.today(),
        feeds=feeds,
        payout_iban=mask_iban(iban) if iban else None,
        iban_form=iban_form or OwnIbanForm(prefix="payout"),
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
    member = certificates.by_verify_token(db.session, token)
    if member is None:
        abort(404)
    initials = certificates.initials(member.full_name)
    reason = certificates.why_not_valid(member, clock.today())
    return render_template(
        "volunteers/verify.html",
        member=member,
        initials=initials,
        valid=reason is None,
        reason=certificates.NOT_VALID_MSGIDS.get(reason),
        stamp=certificate_views.not_valid_mark() if reason else "",
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
    if form.is_submitted():
        return _application_page(form, walk_in=True)
    return _application_form_page(form, True)
