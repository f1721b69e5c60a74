"""Flask-Login wiring: loading the user from the session, with its epoch, and the login view."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload, lazyload

from core import notifications, places
from core.account_models import GRANT_SUBTREES
from core.accounts import User
from portal.extensions import db, login_manager

# Every request loads its user: one statement, built once, with the grants (the menu and every
# permission check read them) joined in and the user's own unit left until a page asks for it.
# The former get() ran a second query for the grants (issue 16: 1.7 ms against the floor's 0.6).
# The menu's unread count comes in the same statement: as a statement of its own it cost every
# page 0.2-0.4 ms of CPU (bench/pages.py's machinery, paired runs: 3-6 % of a page).
# So do the units below each unit of the grants, which resolve the user's jurisdiction
# (core.places.covered_by) without a statement of its own on every list page.
_LOAD_USER = (
    select(User, notifications.UNREAD_OF_USER, GRANT_SUBTREES)
    .where(User.id == bindparam("uid"))
    .options(lazyload(User.unit), joinedload(User.grants))
)


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
        row = db.session.execute(_LOAD_USER, {"uid": uid}).unique().one_or_none()
        if row is None:
            return None
        user, unread, subtrees = row
        if not user.is_active or user.session_epoch != epoch:
            return None
        notifications.remember_unread(db.session, user.id, unread)
        places.remember_subtrees(db.session, subtrees)
        return user
