"""Who may use each view (the ``allow`` declaration), jurisdiction checks and response headers."""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from flask import Flask, abort, request
from flask_login import current_user
from sqlalchemy import Select

from core import places, queries
from core.errors import NotFound
from core.scope import Scope, get_scoped
from portal.extensions import db, login_manager

PUBLIC = "public"  # anyone, signed in or not
SIGNED_IN = "signed-in"  # any active account, whatever its roles


def allow(*roles: str):
    """Declare who may use a view: ``PUBLIC``, ``SIGNED_IN`` or any of the named roles.

    The declaration is kept on the view as ``_required_roles``; a test walks the URL map and
    fails for any endpoint without one.
    """
    if not roles:
        raise ValueError("allow() needs at least one role or PUBLIC/SIGNED_IN")
    needed = frozenset(roles)

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if PUBLIC not in needed:
                if not current_user.is_authenticated:
                    return login_manager.unauthorized()
                if SIGNED_IN not in needed and not (current_user.roles() & needed):
                    abort(403)
            return view(*args, **kwargs)

        wrapper._required_roles = needed
        return wrapper

    return decorate


def current_scope(*roles: str) -> Scope:
    """Return where the current user holds any of ``roles``, resolved to the units it covers."""
    return Scope.of(current_user, *roles).resolved(db.session)


def holds(unit_id: int | None, *roles: str) -> bool:
    """Tell whether the current user holds any of ``roles`` over ``unit_id``."""
    return current_scope(*roles).contains(db.session, unit_id)


def in_scope(stmt: Select, unit_column, *roles: str) -> Select:
    """Join each row's unit and keep the rows where the current user holds any of ``roles``."""
    return queries.with_units(stmt, unit_column, current_scope(*roles))


def require_unit(unit_id: int, *roles: str, private: bool = False) -> None:
    """Abort unless the current user holds one of ``roles`` over ``unit_id``.

    ``private=True`` answers 404 instead of 403 where the record's existence is itself private.
    """
    if not holds(unit_id, *roles):
        abort(404 if private else 403)


def administers_country() -> bool:
    """Tell whether the current user is an administrator of the whole country.

    National reference data (the MCI, the working-day calendar, contribution and indicator
    kinds) applies everywhere: a regional administrator reads it but does not change it.
    """
    # The country is the root: only a grant on it covers it.
    return places.by_kato(db.session, places.COUNTRY_KATO).id in current_user.scope("admin")


def require_country_admin() -> None:
    """Abort with 403 unless the current user administers the whole country."""
    if not administers_country():
        abort(403)


def get_in_scope(model, record_id: int, *roles: str):
    """Load a record that has a ``unit_id``; 404 when missing or outside the user's ``roles``."""
    try:
        return get_scoped(db.session, model, record_id, current_scope(*roles))
    except NotFound:
        abort(404)


def is_safe_next(target: str | None) -> bool:
    """Tell whether ``target`` is a local path we may redirect to after login."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def hsts_value(config) -> str | None:
    """Return the Strict-Transport-Security header the settings ask for, or None.

    ``includeSubDomains`` is off unless asked for: it would force HTTPS on every sibling host
    of the portal's domain, some of which may not have it.
    """
    if not config.get("HSTS"):
        return None
    value = f"max-age={int(config.get('HSTS_MAX_AGE', 31536000))}"
    if config.get("HSTS_INCLUDE_SUBDOMAINS"):
        value += "; includeSubDomains"
    if config.get("HSTS_PRELOAD"):
        value += "; preload"
    return value


def install_headers(app: Flask) -> None:
    """Send the security headers on every response."""

    hsts = hsts_value(app.config)

    @app.after_request
    def _headers(response):
        h = response.headers
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(self)")
        if hsts:
            h.setdefault("Strict-Transport-Security", hsts)
        if request.endpoint != "static":
            h.setdefault("Cache-Control", "no-store")
        return response
