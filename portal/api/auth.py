"""Who calls the API (a signed-in session with its CSRF header, or an access token); ``api_allow``.

A token acts as its holder but only with the token's grants that the holder still has, so every
page helper (``current_scope``, ``holds``, ``get_in_scope``) narrows to the token unchanged. Each
use of a token is audited, and its calls are rate-limited per token.
"""

from __future__ import annotations

import functools
from copy import deepcopy

from flask import current_app, g, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import validate_csrf

from core import api_tokens, audit
from core.accounts import User
from core.db import utcnow
from portal.api.problems import problem
from portal.extensions import db
from portal.security import PUBLIC, SIGNED_IN

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Endpoints open to any signed-in caller whatever the token's roles: who the caller is.
ANY_TOKEN_ENDPOINTS = frozenset({"api_session.whoami"})
CSRF_HEADER = "X-CSRFToken"


class TokenPrincipal:
    """The holder of an access token, seen through the token's grants only."""

    via_token = True
    is_authenticated = True
    is_anonymous = False

    def __init__(self, user, token, grants: list[tuple[str, int]]):
        self._user = user
        self.token = token
        self.token_id = token.id
        self._grants = grants

    def __getattr__(self, name):
        return getattr(self._user, name)

    def get_id(self) -> str:
        return self._user.get_id()

    def roles(self) -> set[str]:
        return {role for role, _unit in self._grants}

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles() & set(roles))

    def scope(self, *roles: str) -> list[int]:
        return sorted({unit for role, unit in self._grants if role in roles})


def bearer_secret() -> str | None:
    """Return the secret of an ``Authorization: Bearer`` header, or None without one."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, secret = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return secret.strip() or ""


def resolve_principal():
    """Before every API request: install the token's principal, or check the session's CSRF.

    Answers a problem (401) for an unknown, expired or revoked token, and 429 past the limits.
    """
    from portal.session_policy import is_demo_account, is_production
    from portal.throttle import api_refused_tokens, api_wait, api_wrong_token

    secret = bearer_secret()
    if secret is not None:
        address = f"addr-{request.remote_addr}"
        # Guessing tokens costs a lookup each: an address that keeps failing waits.
        wait = api_refused_tokens(address)
        if wait:
            problem(429, None, headers={"Retry-After": str(wait)})
        now = utcnow()
        token = api_tokens.authenticate(db.session, secret, now) if secret else None
        holder = None if token is None else db.session.get(User, token.user_id)
        grants = [] if token is None else api_tokens.effective_grants(db.session, token)
        if token is None or not grants:
            # Unknown, expired, revoked, or its holder lost every role the token carried.
            api_wrong_token(address)
            problem(401, _("The access token is unknown, expired or revoked."))
        if is_production(current_app.config) and is_demo_account(holder):
            problem(401, _("The access token is unknown, expired or revoked."))
        if holder.must_reset:
            problem(403, _("The holder of this token must set a new password first."))
        wait = api_wait("API_LIMIT_PER_TOKEN", f"token-{token.id}")
        if wait:
            problem(429, None, headers={"Retry-After": str(wait)})
        g._login_user = TokenPrincipal(holder, token, grants)
        g.api_token_id = token.id
        return
    if current_user.is_authenticated:  # the offline app: counted per person, not per office
        wait = api_wait("API_LIMIT_PER_ACCOUNT", f"user-{current_user.id}")
    else:
        wait = api_wait("API_LIMIT_PER_ADDRESS", f"addr-{request.remote_addr}")
    if wait:
        problem(429, None, headers={"Retry-After": str(wait)})
    # A session cookie rides along on any cross-site request: the header proves the page.
    if (
        request.method not in SAFE_METHODS
        and current_user.is_authenticated
        and current_app.config.get("WTF_CSRF_ENABLED", True)
    ):
        try:
            validate_csrf(request.headers.get(CSRF_HEADER, ""))
        except Exception:  # wtforms' ValidationError, or a CSRFError: any failure is a 403
            problem(403, _("The security token is missing or has expired. Reload and try again."))


def audit_token_use(response):
    """After an API request made with a token: one audit event for the use (no body, no data)."""
    token_id = g.get("api_token_id")
    if token_id is None:
        return response
    try:
        db.session.rollback()  # whatever the view left uncommitted is not this event's
        user_id = g._login_user._user.id
        audit.record(
            db.session,
            action="api_token.use",
            object_type="api_token",
            object_id=token_id,
            actor_id=user_id,
            payload={
                "method": request.method,
                "endpoint": request.endpoint or "",
                "status": response.status_code,
            },
        )
        api_tokens.touch(db.session, token_id, utcnow())
        db.session.commit()
    except Exception:
        db.session.rollback()
        current_app.logger.exception("could not audit an access token's use")
    return response


def api_allow(*roles: str):
    """Declare who may call an API view: ``PUBLIC``, ``SIGNED_IN`` or any of the named roles.

    As ``portal.security.allow`` (the route inventory reads ``_required_roles``), but the
    refusals are problems (401 without a principal, 403 without the role), and the operation's
    security and refusals are written into the OpenAPI document.
    """
    if not roles:
        raise ValueError("api_allow() needs at least one role or PUBLIC/SIGNED_IN")
    needed = frozenset(roles)

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if PUBLIC not in needed:
                if not current_user.is_authenticated:
                    problem(401)
                if SIGNED_IN not in needed and not (current_user.roles() & needed):
                    problem(403)
                if (
                    SIGNED_IN in needed
                    and getattr(current_user, "via_token", False)
                    and request.endpoint not in ANY_TOKEN_ENDPOINTS
                    and "volunteer" not in current_user.roles()
                ):
                    # A person's own records (/me) are reached by a token only if it was
                    # issued for their volunteer role: a finance token does not sign up.
                    problem(403, _("This access token was not issued for volunteer work."))
            return view(*args, **kwargs)

        wrapper._required_roles = needed
        # A copy: functools.wraps shared the wrapped view's documentation dict.
        apidoc = deepcopy(getattr(view, "_apidoc", {}))
        doc = apidoc.setdefault("manual_doc", {})
        doc["x-roles"] = sorted(needed)
        if PUBLIC in needed:
            doc["security"] = []
        else:
            doc["security"] = [{"session": [], "csrf": []}, {"token": []}]
        wrapper._apidoc = apidoc
        return wrapper

    return decorate
