"""Flask-Login wiring: loading the user from the session, with its epoch, and the login view."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from core.accounts import User
from portal.extensions import db, login_manager


def install(app: Flask) -> None:
    """Configure Flask-Login for the portal's users."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Sign in to open this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def _load(user_id: str):
        try:
            raw_id, raw_epoch = user_id.split(":")
            uid, epoch = int(raw_id), int(raw_epoch)
        except ValueError:
            return None
        user = db.session.get(User, uid)
        if user is None or not user.is_active or user.session_epoch != epoch:
            return None
        return user
