"""Sign-in with e-mail or phone, sign-out, and changing one's password."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from core import accounts
from core.errors import DomainError
from portal.auth.forms import LoginForm, PasswordChangeForm
from portal.extensions import db
from portal.i18n import translate_error
from portal.security import PUBLIC, SIGNED_IN, allow, is_safe_next

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
        except accounts.AuthenticationFailed as exc:
            db.session.commit()  # keep the audited failure
            form.password.errors.append(translate_error(exc))
            return render_template("auth/login.html", form=form), 401
        db.session.commit()
        lang = session.get("lang")
        session.clear()  # a fresh session on sign-in: no fixation
        login_user(user)
        session["lang"] = user.preferred_language or lang
        flash(_("Welcome, %(name)s.", name=user.full_name), "success")
        target = form.next.data
        return redirect(target if is_safe_next(target) else url_for("public.home"))
    status = 400 if form.errors else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@allow(SIGNED_IN)
def logout():
    accounts.record_logout(db.session, user_id=current_user.id)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("public.home"))


@bp.route("/account/password", methods=["GET", "POST"])
@allow(SIGNED_IN)
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            user = accounts.change_password(
                db.session,
                user_id=current_user.id,
                current=form.current.data,
                new=form.new.data,
                actor_id=current_user.id,
            )
        except DomainError as exc:
            db.session.rollback()
            form.current.errors.append(translate_error(exc))
            return render_template("auth/password.html", form=form), exc.status
        db.session.commit()
        session.clear()
        login_user(user)  # this session continues with the new epoch; the others end
        flash(_("Your password has been changed. Other sessions were signed out."), "success")
        return redirect(url_for("public.home"))
    return render_template("auth/password.html", form=form), 400 if form.errors else 200
