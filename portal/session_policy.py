"""Signed-in sessions: starting one, idle and absolute lifetimes, the MFA gate, fresh sign-in.

A session carries three timestamps: ``auth_at`` (sign-in, for the absolute lifetime),
``seen_at`` (last request, for the idle lifetime) and ``fresh_at`` (password last entered,
for sensitive steps), plus ``mfa`` (whether a second factor was given at sign-in).
"""

from __future__ import annotations

import functools
import time

from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from core import accounts, audit, mfa
from core.errors import N_
from portal.config import is_production
from portal.extensions import db
from portal.security import PUBLIC, is_safe_next

DEMO_DOMAIN = "@demo.kz"
# Endpoints an official without a second factor may still use: enrolling one and leaving.
_MFA_SETUP_ENDPOINTS = frozenset({"auth.mfa_setup", "auth.logout", "static"})


def start(user, *, second_factor: bool, auth_at: float | None = None) -> None:
    """Begin a new session for ``user`` (new id: no fixation), keeping the chosen language.

    ``auth_at``: when the person signed in, for a session that goes on under a new id (after
    a password change), so that the absolute lifetime is not restarted.
    """
    lang = session.get("lang")
    session.clear()
    login_user(user)
    now = time.time()
    session.update(auth_at=auth_at or now, seen_at=now, fresh_at=now, mfa=second_factor)
    session["lang"] = user.preferred_language or lang


def end() -> None:
    """End the session in this browser."""
    logout_user()
    session.clear()


def is_demo_account(user) -> bool:
    """Tell whether ``user`` is one of the demo's accounts (their password is published)."""
    return (getattr(user, "email", None) or "").strip().lower().endswith(DEMO_DOMAIN)


class DemoAccountRefused(accounts.AuthenticationFailed):
    """A demo account tried to sign in to a production portal."""

    status = 403


def refuse_demo_account(user, *, ip: str | None) -> None:
    """In production, refuse a demo account's sign-in (audited) even with the right password.

    Raises ``DemoAccountRefused``; the caller commits, which keeps only the refusal: the
    password step's own records are rolled back, the account is not signed in.
    """
    if not is_production(current_app.config) or not is_demo_account(user):
        return
    user_id = user.id
    db.session.rollback()
    audit.record(
        db.session,
        action="auth.login_refused",
        object_type="user",
        object_id=user_id,
        actor_id=None,
        payload={"reason": "demo_account", "ip": ip or ""},
    )
    raise DemoAccountRefused(N_("Demo accounts cannot sign in to this portal."))


def mfa_waived(user) -> bool:
    """Tell whether the demo waiver covers ``user`` (demo accounts, demo configuration only)."""
    return (
        bool(current_app.config.get("DEMO_MFA_WAIVER"))
        and not is_production(current_app.config)
        and is_demo_account(user)
    )


def needs_mfa_setup(user) -> bool:
    """Tell whether ``user`` must enrol a second factor before using their screens."""
    return not session.get("mfa") and mfa.required_for(user) and not mfa_waived(user)


def is_fresh() -> bool:
    """Tell whether the password was entered within ``FRESH_LOGIN_SECONDS``."""
    at = session.get("fresh_at")
    limit = current_app.config["FRESH_LOGIN_SECONDS"]
    return at is not None and time.time() - float(at) < limit


def mark_fresh() -> None:
    """Remember that the password was just entered again."""
    session["fresh_at"] = time.time()


def needs_code() -> bool:
    """Tell whether re-confirming the current user asks for a second-factor code too."""
    return mfa.factor_of(db.session, current_user.id) is not None


def reconfirm(password: str, code: str | None) -> None:
    """Check the password again, and the code when a factor is enrolled; then mark fresh.

    The one way a session becomes fresh after sign-in (``auth.confirm`` and the reveal of
    personal data alike); a code given here counts as this session's second factor. Raises
    ``DomainError`` (``mfa.SecondFactorFailed`` for the code); the caller commits, so that
    the audited failure stays.
    """
    ip = request.remote_addr
    accounts.reauthenticate(db.session, user_id=current_user.id, password=password, ip=ip)
    if needs_code():
        mfa.verify(db.session, user_id=current_user.id, code=code or "", ip=ip)
        session["mfa"] = True
    mark_fresh()


def second_factor_given() -> bool:
    """Tell whether this session gave a second factor (or the demo waiver covers the user)."""
    return bool(session.get("mfa")) or mfa_waived(current_user)


def fresh_required(view):
    """Ask for the password again before ``view`` unless it was entered in the last minutes.

    Used for paying, approving budget decisions, changing roles and revealing personal data.
    A GET returns to the page after confirmation; a refused POST returns to the page the
    form was on, where the user repeats the action knowingly.
    """

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not is_fresh():
            if request.method == "GET":
                back = request.full_path if request.query_string else request.path
            else:
                back = _referrer_path() or url_for("public.home")
            flash(_("Confirm your password to continue."), "warning")
            return redirect(url_for("auth.confirm", next=back))
        return view(*args, **kwargs)

    return wrapper


def _referrer_path() -> str | None:
    from urllib.parse import urlsplit

    ref = request.referrer
    if not ref:
        return None
    parts = urlsplit(ref)
    if parts.netloc and parts.netloc != request.host:
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return path if is_safe_next(path) else None


def install(app: Flask) -> None:
    """Enforce the session lifetimes and the MFA gate before every request."""
    app.config.setdefault("SESSION_IDLE_SECONDS", 30 * 60)
    app.config.setdefault("SESSION_ABSOLUTE_SECONDS", 8 * 3600)
    app.config.setdefault("FRESH_LOGIN_SECONDS", 5 * 60)

    @app.context_processor
    def _demo_waiver():
        return {"mfa_demo_waiver": bool(app.config.get("DEMO_MFA_WAIVER"))}

    @app.before_request
    def _enforce():
        if request.endpoint in ("static", None) or request.blueprint == "ops":
            return None
        if not current_user.is_authenticated or getattr(current_user, "via_token", False):
            return None  # an access token has no session to age (portal.api.auth)
        from portal.api import problems

        api = problems.is_api_request()
        now = time.time()
        auth_at = float(session.get("auth_at", 0))
        seen_at = float(session.get("seen_at", 0))
        if (
            now - auth_at > app.config["SESSION_ABSOLUTE_SECONDS"]
            or now - seen_at > app.config["SESSION_IDLE_SECONDS"]
            # Whatever way it began, no session of a demo account lasts in production.
            or (is_production(app.config) and is_demo_account(current_user))
        ):
            end()
            if api:
                return problems.render(401, _("Your session has ended. Sign in again."))
            flash(_("Your session has ended. Sign in again."), "info")
            if request.method == "GET":
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            return redirect(url_for("auth.login"))
        # Refresh at most once a minute so that every request does not rewrite the cookie.
        if now - seen_at > 60:
            session["seen_at"] = now
        if needs_mfa_setup(current_user) and request.endpoint not in _MFA_SETUP_ENDPOINTS:
            view = app.view_functions.get(request.endpoint)
            if PUBLIC in getattr(view, "_required_roles", ()):
                return None
            if api:
                return problems.render(
                    403, _("Your role requires two-factor sign-in. Set it up to continue.")
                )
            flash(_("Your role requires two-factor sign-in. Set it up to continue."), "warning")
            return redirect(url_for("auth.mfa_setup"))
        return None
