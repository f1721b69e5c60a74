"""Sign-in throttling after OWASP: limits that stop guessers and sprayers, not owners or offices.

Failures are counted on the account as sign-in resolves it (``accounts.login_key``: every
spelling of a phone is one account) and kept in Flask-Limiter's storage (Redis when
configured, this process's memory otherwise; ``limits`` is used directly where a decorator
cannot say it):

- per account and address: 5 failures in 5 minutes and that pair waits;
- per account over all addresses: past 20 failures in an hour the account is under attack
  and a browser it was never signed in on may try once a minute; a browser where it signed
  in before (a signed, HttpOnly device cookie naming it) is not slowed, and counts its
  failures per device instead of per address;
- per address: accounts with failures and no success since, 10 in 15 minutes (password
  spraying); an office behind one NAT where people mistype and then sign in is not stopped.

Sign-up and password resets are counted per address too. Every limit is a setting
(``LOGIN_LIMIT_*``). Storage trouble lets the request through unthrottled rather than answer
500 (as Flask-Limiter's ``swallow_errors``).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, after_this_request, current_app, request, session
from flask_babel import ngettext
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, Storage
from limits.strategies import MovingWindowRateLimiter
from werkzeug.exceptions import HTTPException

from core import accounts
from portal.errors import render_error
from portal.extensions import db

log = logging.getLogger(__name__)

LIMITS = {
    # failures of one account from one address (or one trusted device)
    "LOGIN_LIMIT_PER_ACCOUNT": "5 per 5 minutes",
    # failures of one account from everywhere, past which untrusted browsers are slowed
    "LOGIN_LIMIT_PER_ACCOUNT_ALL_ADDRESSES": "20 per hour",
    # attempts an untrusted browser may make on an account under attack
    "LOGIN_LIMIT_SLOWED_ACCOUNT": "1 per minute",
    # accounts failed from one address and not signed in since (spraying)
    "LOGIN_LIMIT_PER_ADDRESS": "10 per 15 minutes",
    # sign-ups started from one address, and wrong sign-up codes from one address
    "LOGIN_LIMIT_SIGNUP_PER_ADDRESS": "10 per hour",
    "LOGIN_LIMIT_SIGNUP_CODE_PER_ADDRESS": "10 per 15 minutes",
    # password reset codes asked for from one address, and wrong reset codes from one address
    "LOGIN_LIMIT_RESET_PER_ADDRESS": "10 per hour",
    "LOGIN_LIMIT_RESET_CODE_PER_ADDRESS": "10 per 15 minutes",
    # JSON API calls made with one access token (an integration's whole traffic)
    "API_LIMIT_PER_TOKEN": "1200 per minute",
    # JSON API calls of one signed-in person (the offline app)
    "API_LIMIT_PER_ACCOUNT": "600 per minute",
    # JSON API calls from one address without a token or a session (the public endpoints)
    "API_LIMIT_PER_ADDRESS": "600 per minute",
    # refused access tokens from one address (guessing), past which the address waits
    "API_LIMIT_WRONG_TOKEN_PER_ADDRESS": "20 per 10 minutes",
}
DEVICE_DAYS = 180
_DEVICE_ACCOUNTS = 5  # a shared family computer: a few accounts per device cookie
_DEVICE_SALT = "portal-device"
# Seconds the per-process counters stand in after Redis failed, before Redis is tried again:
# an unreachable host must not cost every sign-in a connection time-out.
_RETRY_AFTER = 15.0


class Throttle:
    """The counters of one app (apps never share them: each has its own storage)."""

    def __init__(self, app: Flask, limiter: Limiter):
        self.storage = limiter.storage
        self.window = MovingWindowRateLimiter(self.storage)
        # Stand-in counters while the shared storage is down: per process, but still limits.
        self.fallback = MemoryStorage()
        self.fallback_window = MovingWindowRateLimiter(self.fallback)
        self.down_until: float | None = None  # monotonic time of the next try, during an outage
        self.prefix = f"{app.config['RQ_QUEUE_PREFIX']}-throttle"
        self.limits: dict[str, RateLimitItem] = {
            name: parse(app.config.get(name, default)) for name, default in LIMITS.items()
        }

    def _outage(self) -> None:
        if self.down_until is None:
            log.warning(
                "sign-in limit storage failed; counting per process until it is back",
                exc_info=True,
            )
        self.down_until = time.monotonic() + _RETRY_AFTER

    def _safely(self, action: Callable[[Storage, MovingWindowRateLimiter], object]):
        """Run ``action`` on the shared counters, or on this process's while they are down."""
        if self.down_until is None or time.monotonic() >= self.down_until:
            try:
                result = action(self.storage, self.window)
            except Exception:  # Redis down or confused: count here, no 500
                self._outage()
            else:
                if self.down_until is not None:
                    log.warning("sign-in limit storage is back; counting there again")
                    self.down_until = None
                return result
        return action(self.fallback, self.fallback_window)

    def degraded(self) -> bool:
        """Tell whether the shared counters are down (this process counts on its own)."""
        if self.down_until is not None and time.monotonic() < self.down_until:
            return True
        try:
            healthy = self.storage.check()
        except Exception:
            healthy = False
        if not healthy:
            # Seen by a scrape or the operations page before any sign-in: same outage.
            self._outage()
        elif self.down_until is not None:
            log.warning("sign-in limit storage is back; counting there again")
            self.down_until = None
        return not healthy

    # ---- moving windows --------------------------------------------------------------------
    def wait(self, name: str, *key: str) -> int | None:
        """Return the seconds until ``key`` may try again under limit ``name``, or None."""
        item = self.limits[name]

        def look(_storage, window):
            if window.test(item, self.prefix, *key):
                return None
            reset = window.get_window_stats(item, self.prefix, *key).reset_time
            return max(1, math.ceil(reset - time.time()))

        return self._safely(look)

    def hit(self, name: str, *key: str) -> bool:
        """Count one for ``key``; False when the limit had no room left."""
        return self._safely(lambda _s, window: window.hit(self.limits[name], self.prefix, *key))

    def clear(self, name: str, *key: str) -> None:
        self._safely(lambda _s, window: window.clear(self.limits[name], self.prefix, *key))

    # ---- accounts failed from an address and not signed in since ----------------------------
    def _spray_keys(self, scope: str, address: str, account: str) -> tuple[str, str]:
        return (
            f"{self.prefix}/{scope}/spray/{address}",
            f"{self.prefix}/{scope}/spray/{address}/{account}",
        )

    def spray_wait(self, scope: str, address: str) -> int | None:
        item = self.limits["LOGIN_LIMIT_PER_ADDRESS"]
        counter, _ = self._spray_keys(scope, address, "")

        def look(storage, _window):
            if storage.get(counter) < item.amount:
                return None
            return max(1, math.ceil(storage.get_expiry(counter) - time.time()))

        return self._safely(look)

    def spray_failed(self, scope: str, address: str, account: str) -> None:
        window = self.limits["LOGIN_LIMIT_PER_ADDRESS"].get_expiry()
        counter, mark = self._spray_keys(scope, address, account)

        def count(storage, _window):
            # The account's mark never outlives the counter, so a later success cannot take
            # off a failure the counter has already forgotten.
            left = window
            if storage.get(counter) > 0:
                left = max(1, math.ceil(storage.get_expiry(counter) - time.time()))
            if storage.incr(mark, left) == 1:
                storage.incr(counter, window)

        self._safely(count)

    def spray_succeeded(self, scope: str, address: str, account: str) -> None:
        window = self.limits["LOGIN_LIMIT_PER_ADDRESS"].get_expiry()
        counter, mark = self._spray_keys(scope, address, account)

        def resolve(storage, _window):
            if storage.get(mark) > 0:
                storage.clear(mark)
                if storage.get(counter) > 0:
                    storage.incr(counter, window, amount=-1)

        self._safely(resolve)


def _throttle() -> Throttle:
    return current_app.extensions["portal_throttle"]


def api_wait(name: str, key: str) -> int | None:
    """Count one JSON API call for ``key`` under limit ``name``; the seconds to wait, or None."""
    throttle = _throttle()
    if throttle.hit(name, key) is False:
        return throttle.wait(name, key) or 1
    return None


def api_refused_tokens(key: str) -> int | None:
    """The seconds ``key`` must wait after too many refused access tokens, or None."""
    return _throttle().wait("API_LIMIT_WRONG_TOKEN_PER_ADDRESS", key)


def api_wrong_token(key: str) -> None:
    """Count one refused access token for ``key``."""
    _throttle().hit("API_LIMIT_WRONG_TOKEN_PER_ADDRESS", key)


def degraded(app: Flask) -> bool:
    """Tell whether ``app``'s sign-in limits count per process because Redis is down."""
    return app.extensions["portal_throttle"].degraded()


def _digest(account: str) -> str:
    # Counter keys name no e-mail or phone: storage is not a place for personal data.
    key = str(current_app.secret_key).encode()
    return hmac.new(key, account.encode(), hashlib.sha256).hexdigest()[:32]


# ---- the device cookie ---------------------------------------------------------------------
def _device_cookie_name() -> str:
    secure = current_app.config.get("SESSION_COOKIE_SECURE")
    return "__Host-device" if secure else "portal-device"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_DEVICE_SALT)


def _device() -> dict | None:
    raw = request.cookies.get(_device_cookie_name())
    if not raw:
        return None
    try:
        found = _serializer().loads(raw, max_age=DEVICE_DAYS * 86400)
    except BadSignature:
        return None
    if not isinstance(found, dict) or not isinstance(found.get("u"), list):
        return None
    return found


def trusted_device(user_id: int | None) -> str | None:
    """Return this browser's device id if ``user_id`` signed in on it before, else None."""
    found = _device()
    if user_id is None or found is None or user_id not in found["u"]:
        return None
    return str(found.get("n", ""))


def trust_device(user_id: int) -> None:
    """Remember on this browser that ``user_id`` signed in here (after the whole sign-in)."""
    found = _device() or {"u": [], "n": secrets.token_urlsafe(12)}
    users = [user_id] + [u for u in found["u"] if u != user_id]
    value = _serializer().dumps({"u": users[:_DEVICE_ACCOUNTS], "n": found["n"]})

    @after_this_request
    def _set(response):
        response.set_cookie(
            _device_cookie_name(),
            value,
            max_age=DEVICE_DAYS * 86400,
            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
            httponly=True,
            samesite="Lax",
            path="/",
        )
        return response


# ---- the answer ----------------------------------------------------------------------------
def too_many(seconds: int):
    """Answer 429 saying in words when to try again."""
    minutes = max(1, math.ceil(seconds / 60))
    text = ngettext(
        "Too many attempts. Try again in %(num)d minute.",
        "Too many attempts. Try again in %(num)d minutes.",
        minutes,
    )
    body, status = render_error(429, text)
    return body, status, {"Retry-After": str(seconds)}


# ---- gates ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Gate:
    """How one endpoint's attempts are counted: whose account, and what counts as a failure."""

    scope: str
    account: Callable[[], str]
    user_id: Callable[[], int | None]


def _login_account() -> str:
    return "login:" + accounts.login_key(request.form.get("login"))


def _login_user_id() -> int | None:
    if _device() is None:  # no device cookie: no need to look the account up
        return None
    user = accounts.find_by_login(db.session, request.form.get("login") or "")
    return user.id if user else None


def _pending_user_id() -> int | None:
    pending = session.get("mfa_pending") or [None]
    try:
        return int(pending[0])
    except (TypeError, ValueError):
        return None


def _signed_in_user_id() -> int | None:
    return current_user.id if current_user.is_authenticated else None


GATES = {
    "auth.login": Gate("login", _login_account, _login_user_id),
    "auth.mfa_verify": Gate("code", lambda: f"user:{_pending_user_id()}", _pending_user_id),
    # Re-entered passwords (and codes) before sensitive steps are guessed the same way.
    "auth.confirm": Gate("reauth", lambda: f"user:{_signed_in_user_id()}", _signed_in_user_id),
    "oversight.reveal": Gate("reauth", lambda: f"user:{_signed_in_user_id()}", _signed_in_user_id),
}


def _refusal(gate: Gate, account: str, address: str, device: str | None) -> int | None:
    """Return the seconds this attempt must wait, or None when it may go ahead."""
    t = _throttle()
    where = f"device:{device}" if device else address
    wait = t.wait("LOGIN_LIMIT_PER_ACCOUNT", gate.scope, account, where)
    if wait or device:
        return wait
    wait = t.spray_wait(gate.scope, address)
    if wait:
        return wait
    if t.wait("LOGIN_LIMIT_PER_ACCOUNT_ALL_ADDRESSES", gate.scope, account) is None:
        return None
    # Under attack from many addresses: an untrusted browser takes a turn, once a minute.
    if t.hit("LOGIN_LIMIT_SLOWED_ACCOUNT", gate.scope, account):
        return None
    return t.wait("LOGIN_LIMIT_SLOWED_ACCOUNT", gate.scope, account) or 1


def _count(gate: Gate, account: str, address: str, device: str | None, status: int) -> None:
    t = _throttle()
    where = f"device:{device}" if device else address
    if status == 401:
        t.hit("LOGIN_LIMIT_PER_ACCOUNT", gate.scope, account, where)
        t.hit("LOGIN_LIMIT_PER_ACCOUNT_ALL_ADDRESSES", gate.scope, account)
        t.spray_failed(gate.scope, address, account)
    elif status < 400:
        t.clear("LOGIN_LIMIT_PER_ACCOUNT", gate.scope, account, where)
        t.spray_succeeded(gate.scope, address, account)


def _answer(view, args, kwargs):
    """Return the view's response, also one carried by an ``abort`` (``on_refusal``'s 401)."""
    try:
        return current_app.make_response(view(*args, **kwargs))
    except HTTPException as exc:
        if exc.response is None:
            raise
        return exc.response


def _guarded(view, gate: Gate):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if request.method != "POST":
            return view(*args, **kwargs)
        account = _digest(gate.account())
        address = get_remote_address() or "-"
        device = trusted_device(gate.user_id())
        wait = _refusal(gate, account, address, device)
        if wait:
            return too_many(wait)
        response = _answer(view, args, kwargs)
        _count(gate, account, address, device, response.status_code)
        return response

    return wrapper


def _per_address(view, name: str, counts: Callable[[int], bool]):
    """Limit ``view``'s POSTs from one address; ``counts`` tells which answers are counted."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if request.method != "POST":
            return view(*args, **kwargs)
        address = get_remote_address() or "-"
        wait = _throttle().wait(name, view.__name__, address)
        if wait:
            return too_many(wait)
        response = _answer(view, args, kwargs)
        if counts(response.status_code):
            _throttle().hit(name, view.__name__, address)
        return response

    return wrapper


def install(app: Flask) -> None:
    """Put the limits on the sign-in, code, re-confirmation, reveal and sign-up endpoints.

    One limiter per app (not a module-level one) so that apps never share counters.
    """
    limiter = Limiter(
        key_func=get_remote_address,
        app=app,
        storage_uri=app.config.get("REDIS_URL") or "memory://",
        key_prefix=f"{app.config['RQ_QUEUE_PREFIX']}-limits",
        strategy="moving-window",
        headers_enabled=False,
        swallow_errors=True,
    )
    app.extensions["portal_limiter"] = limiter
    app.extensions["portal_throttle"] = Throttle(app, limiter)
    for endpoint, gate in GATES.items():
        app.view_functions[endpoint] = _guarded(app.view_functions[endpoint], gate)
    # Every well-formed sign-up sends a message: count those; count wrong codes.
    app.view_functions["volunteers.signup"] = _per_address(
        app.view_functions["volunteers.signup"],
        "LOGIN_LIMIT_SIGNUP_PER_ADDRESS",
        lambda status: status in (302, 303),
    )
    app.view_functions["volunteers.signup_code"] = _per_address(
        app.view_functions["volunteers.signup_code"],
        "LOGIN_LIMIT_SIGNUP_CODE_PER_ADDRESS",
        lambda status: status in (401, 410),
    )
    # Password resets the same way: every request that may send a message, every wrong code.
    app.view_functions["auth.forgot_password"] = _per_address(
        app.view_functions["auth.forgot_password"],
        "LOGIN_LIMIT_RESET_PER_ADDRESS",
        lambda status: status in (302, 303),
    )
    app.view_functions["auth.reset_password"] = _per_address(
        app.view_functions["auth.reset_password"],
        "LOGIN_LIMIT_RESET_CODE_PER_ADDRESS",
        lambda status: status in (401, 410),
    )
