"""Sign-in throttling: failed attempts per account and per address (Flask-Limiter)."""

from __future__ import annotations

from flask import Flask, request, session
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user

# [I] Only failures count, so the real owner, who knows the password, is never held up; a
# guesser waits out the window. Both are settings (PORTAL_LOGIN_LIMIT_*).
PER_ACCOUNT = "5 per 5 minutes"
PER_ADDRESS = "30 per 15 minutes"


def _account() -> str:
    return "login:" + (request.form.get("login") or "").strip().lower()[:254]


def _pending_account() -> str:
    pending = session.get("mfa_pending") or [""]
    return f"login:{pending[0]}"


def _signed_in_account() -> str:
    return f"login:{current_user.get_id()}"


def _failed(response) -> bool:
    return response.status_code == 401


def _safe_method() -> bool:
    return request.method in ("GET", "HEAD", "OPTIONS")


def install(app: Flask) -> None:
    """Limit failed sign-ins; counters live in Redis when configured, else in this process.

    One limiter per app (not a module-level one) so that apps never share counters.
    """
    limiter = Limiter(
        key_func=get_remote_address,
        app=app,
        storage_uri=app.config.get("REDIS_URL") or "memory://",
        key_prefix=f"{app.config['RQ_QUEUE_PREFIX']}-limits",
        strategy="moving-window",
        headers_enabled=False,
        swallow_errors=True,  # Redis down: sign-in still works, unthrottled, rather than 500
    )
    # Every limit here is on a POST: a page read need not resolve limits at all (issue 16).
    limiter.request_filter(_safe_method)
    per_account = app.config.get("LOGIN_LIMIT_PER_ACCOUNT", PER_ACCOUNT)
    per_address = app.config.get("LOGIN_LIMIT_PER_ADDRESS", PER_ADDRESS)
    view = app.view_functions["auth.login"]
    view = limiter.limit(per_account, key_func=_account, methods=["POST"], deduct_when=_failed)(
        view
    )
    view = limiter.limit(per_address, methods=["POST"], deduct_when=_failed)(view)
    app.view_functions["auth.login"] = view
    # Codes and re-entered passwords are guessed the same way: the same limits apply.
    for endpoint, key in (
        ("auth.mfa_verify", _pending_account),
        ("auth.confirm", _signed_in_account),
        ("oversight.reveal", _signed_in_account),
    ):
        view = app.view_functions[endpoint]
        view = limiter.limit(per_account, key_func=key, methods=["POST"], deduct_when=_failed)(view)
        view = limiter.limit(per_address, methods=["POST"], deduct_when=_failed)(view)
        app.view_functions[endpoint] = view
    app.extensions["portal_limiter"] = limiter
