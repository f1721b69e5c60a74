"""Sign-in with e-mail or phone and a second factor, sign-out, password resets, MFA settings."""

from __future__ import annotations

import time

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core import accounts, mfa, password_resets
from portal import session_policy, throttle
from portal.auth.forms import (
    CodeForm,
    ConfirmPasswordForm,
    EnrolForm,
    ForgotPasswordForm,
    LoginForm,
    NewPasswordForm,
    PasswordChangeForm,
    ResetPasswordForm,
)
from portal.errors import on_refusal
from portal.extensions import db
from portal.forms import ConfirmForm
from portal.i18n import translate_error
from portal.qr import svg_data_uri
from portal.security import PUBLIC, SIGNED_IN, allow, is_safe_next

# The password step is valid this long for the code to be entered.
_PENDING_SECONDS = 300

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@allow(PUBLIC)
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("public.home"))
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(
                db.session,
                login=form.login.data,
                password=form.password.data,
                ip=request.remote_addr,
            )
            session_policy.refuse_demo_account(user, ip=request.remote_addr)
        except accounts.AuthenticationFailed as exc:
            db.session.commit()  # keep the audited failure
            form.password.errors.append(translate_error(exc))
            return render_template("auth/login.html", form=form), 401
        has_factor = mfa.factor_of(db.session, user.id) is not None
        db.session.commit()
        target = form.next.data if is_safe_next(form.next.data) else url_for("public.home")
        if has_factor:
            lang = session.get("lang")
            session.clear()
            session["lang"] = lang
            session["mfa_pending"] = [user.id, user.session_epoch, time.time(), target]
            return redirect(url_for("auth.mfa_verify"))
        if user.must_reset:
            return _require_new_password(user, second_factor=False, target=target)
        session_policy.start(user, second_factor=False)
        throttle.trust_device(user.id)
        flash(_("Welcome, %(name)s.", name=user.full_name), "success")
        return redirect(target)
    status = 400 if form.errors else 200
    return render_template("auth/login.html", form=form), status


def _pending_user():
    """Return the user who passed the password step and now owes a code, or None."""
    pending = session.get("mfa_pending")
    if not pending or time.time() - float(pending[2]) > _PENDING_SECONDS:
        return None
    user = db.session.get(accounts.User, int(pending[0]))
    if user is None or not user.is_active or user.session_epoch != pending[1]:
        return None
    return user


@bp.route("/login/code", methods=["GET", "POST"])
@allow(PUBLIC)
def mfa_verify():
    user = _pending_user()
    if user is None:
        session.pop("mfa_pending", None)
        flash(_("Sign in again: the code step has expired."), "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            kind = mfa.verify(
                db.session, user_id=user.id, code=form.code.data, ip=request.remote_addr
            )
        except mfa.SecondFactorFailed as exc:
            db.session.commit()  # keep the audited failure
            form.code.errors.append(translate_error(exc))
            return render_template("auth/code.html", form=form), 401
        target = session["mfa_pending"][3]
        # The sign-in is complete only now: recorded after the second factor's own event.
        accounts.record_login(db.session, user_id=user.id, ip=request.remote_addr)
        db.session.commit()
        if user.must_reset:
            return _require_new_password(user, second_factor=True, target=target)
        session_policy.start(user, second_factor=True)
        throttle.trust_device(user.id)
        flash(_("Welcome, %(name)s.", name=user.full_name), "success")
        if kind == "recovery":
            flash(
                _(
                    "You signed in with a recovery code; %(n)s are left. "
                    "Make new ones if you are running out.",
                    n=mfa.recovery_codes_left(db.session, user.id),
                ),
                "warning",
            )
        return redirect(target if is_safe_next(target) else url_for("public.home"))
    return render_template("auth/code.html", form=form), 400 if form.errors else 200


@bp.route("/account/two-factor", methods=["GET", "POST"])
@allow(SIGNED_IN)
def mfa_setup():
    factor = mfa.factor_of(db.session, current_user.id)
    if factor is not None:
        return render_template(
            "auth/mfa_status.html",
            factor=factor,
            left=mfa.recovery_codes_left(db.session, current_user.id),
            form=EnrolForm(),
        )
    secret = session.get("mfa_enrol_secret") or mfa.new_secret()
    session["mfa_enrol_secret"] = secret
    form = EnrolForm()
    if form.validate_on_submit():
        with on_refusal(lambda status: _mfa_setup_page(form, secret, status), field=form.code):
            codes = mfa.enable(
                db.session, user_id=current_user.id, secret=secret, code=form.code.data
            )
        db.session.commit()
        session.pop("mfa_enrol_secret", None)
        session["mfa"] = True
        return render_template("auth/recovery_codes.html", codes=codes)
    return _mfa_setup_page(form, secret, 400 if form.errors else 200)


def _mfa_setup_page(form: EnrolForm, secret: str, status: int):
    uri = mfa.provisioning_uri(secret, current_user.login)
    return render_template(
        "auth/mfa_setup.html", form=form, qr=svg_data_uri(uri), secret=secret
    ), status


@bp.route("/account/two-factor/recovery-codes", methods=["POST"])
@allow(SIGNED_IN)
@session_policy.fresh_required
def regenerate_recovery_codes():
    # Only the CSRF token is checked. (Fuzzing, S13: reading ``EnrolForm().csrf_token`` raised
    # AttributeError, a 500, wherever CSRF is switched off; ConfirmForm carries just the token.)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("auth.mfa_setup"))
    with on_refusal(lambda _status: redirect(url_for("auth.mfa_setup"))):
        codes = mfa.regenerate_recovery_codes(db.session, user_id=current_user.id)
    db.session.commit()
    return render_template("auth/recovery_codes.html", codes=codes)


def _failed_field(form: ConfirmPasswordForm):
    """Choose the field a failed re-confirmation is shown on: the code's or the password's."""
    return lambda exc: form.code if isinstance(exc, mfa.SecondFactorFailed) else form.password


@bp.route("/account/confirm", methods=["GET", "POST"])
@allow(SIGNED_IN)
def confirm():
    form = ConfirmPasswordForm(next=request.args.get("next", ""))
    needs_code = session_policy.needs_code()
    if form.validate_on_submit():
        with on_refusal(
            "auth/confirm.html",
            form=form,
            needs_code=needs_code,
            field=_failed_field(form),
            keep_writes=True,
        ):
            session_policy.reconfirm(form.password.data, form.code.data)
        db.session.commit()
        target = form.next.data
        return redirect(target if is_safe_next(target) else url_for("public.home"))
    status = 400 if form.errors else 200
    return render_template("auth/confirm.html", form=form, needs_code=needs_code), status


@bp.route("/logout", methods=["POST"])
@allow(SIGNED_IN)
def logout():
    accounts.record_logout(db.session, user_id=current_user.id)
    db.session.commit()
    session_policy.end()
    flash(_("You have signed out."), "info")
    return redirect(url_for("public.home"))


@bp.route("/account/password", methods=["GET", "POST"])
@allow(SIGNED_IN)
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        with on_refusal("auth/password.html", form=form, field=form.current):
            user = accounts.change_password(
                db.session,
                user_id=current_user.id,
                current=form.current.data,
                new=form.new.data,
                actor_id=current_user.id,
            )
        db.session.commit()
        # This session continues with the new epoch; the others end.
        session_policy.start(
            user, second_factor=bool(session.get("mfa")), auth_at=session.get("auth_at")
        )
        flash(_("Your password has been changed. Other sessions were signed out."), "success")
        return redirect(url_for("public.home"))
    return render_template("auth/password.html", form=form), 400 if form.errors else 200


# ---- password resets ------------------------------------------------------------------------


@bp.route("/password/forgot", methods=["GET", "POST"])
@allow(PUBLIC)
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        # The same answer whether or not the address has an account (no enumeration): only
        # an account's address is sent a code (core.password_resets).
        with on_refusal("auth/forgot.html", form=form, field=form.email):
            token = password_resets.begin_reset(db.session, email=form.email.data)
        db.session.commit()
        session["password_reset"] = token
        return redirect(url_for("auth.reset_password"))
    return render_template("auth/forgot.html", form=form), 400 if form.errors else 200


def _reset_page(form: ResetPasswordForm, status: int = 200):
    return render_template(
        "auth/reset.html", form=form, minutes=password_resets.CODE_MINUTES
    ), status


def _reset_field(form: ResetPasswordForm):
    return lambda exc: form.code if isinstance(exc, password_resets.CodeRefused) else form.new


@bp.route("/password/reset", methods=["GET", "POST"])
@allow(PUBLIC)
def reset_password():
    token = session.get("password_reset")
    if not isinstance(token, str) or not password_resets.is_pending(db.session, token):
        session.pop("password_reset", None)
        flash(_("The password reset code has expired. Ask for a new one."), "info")
        return redirect(url_for("auth.forgot_password"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        with on_refusal(lambda status: _reset_page(form, status), field=_reset_field(form)):
            try:
                password_resets.complete_reset(
                    db.session, token=token, code=form.code.data, new_password=form.new.data
                )
            except password_resets.CodeRefused:
                db.session.commit()  # the wrong attempt stays counted
                raise
        db.session.commit()
        session.pop("password_reset", None)
        # Nobody is signed in by a reset: the sign-in asks for the second factor as before.
        flash(_("Your password has been changed. Sign in with the new password."), "success")
        return redirect(url_for("auth.login"))
    return _reset_page(form, 400 if form.errors else 200)


def _require_new_password(user, *, second_factor: bool, target: str):
    """Hold a sign-in that must first choose a new password (forced reset, break-glass)."""
    lang = session.get("lang")
    session.clear()
    session["lang"] = lang
    session["reset_pending"] = [user.id, user.session_epoch, time.time(), target, second_factor]
    flash(_("Choose a new password before you continue."), "warning")
    return redirect(url_for("auth.new_password"))


def _reset_pending_user():
    """Return the user who signed in and now owes a new password, or None."""
    pending = session.get("reset_pending")
    if not pending or time.time() - float(pending[2]) > _PENDING_SECONDS:
        return None
    user = db.session.get(accounts.User, int(pending[0]))
    if user is None or not user.is_active or not user.must_reset:
        return None
    return user if user.session_epoch == pending[1] else None


@bp.route("/password/new", methods=["GET", "POST"])
@allow(PUBLIC)
def new_password():
    user = _reset_pending_user()
    if user is None:
        session.pop("reset_pending", None)
        flash(_("Sign in again: this step has expired."), "info")
        return redirect(url_for("auth.login"))
    form = NewPasswordForm()
    if form.validate_on_submit():
        with on_refusal("auth/new_password.html", form=form, field=form.new):
            password_resets.set_required_password(
                db.session, user_id=user.id, new_password=form.new.data
            )
        db.session.commit()
        target, second_factor = session["reset_pending"][3:5]
        session_policy.start(user, second_factor=bool(second_factor))
        throttle.trust_device(user.id)
        flash(_("Your new password is set."), "success")
        return redirect(target if is_safe_next(target) else url_for("public.home"))
    return render_template("auth/new_password.html", form=form), 400 if form.errors else 200
