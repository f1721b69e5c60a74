"""Authentication: sign-in, re-authentication before sensitive steps and sign-out, audited."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core import audit
from core.account_models import User, find_by_login, get_user
from core.db import utcnow
from core.errors import N_, DomainError
from core.passwords import dummy_hash, hash_password, needs_rehash, verify_password


class AuthenticationFailed(DomainError):
    """Wrong login or password, or an inactive account: deliberately one message for all."""

    status = 401


def authenticate(session: Session, *, login: str, password: str, ip: str | None) -> User:
    """Return the active user with this login and password, or raise AuthenticationFailed.

    Every outcome is audited; the caller commits even on failure so the attempt is kept.
    For an account with a second factor the password step is ``auth.password_ok``; the
    sign-in itself (``auth.login``) is recorded once the code is given.
    """
    user = find_by_login(session, login)
    ok = verify_password(user.password_hash if user else dummy_hash(), password)
    if user is None or not ok or not user.is_active:
        reason = "unknown_login" if user is None else ("bad_password" if not ok else "inactive")
        audit.record(
            session,
            action="auth.login_failed",
            object_type="user",
            object_id=user.id if user else None,
            actor_id=None,
            payload={"reason": reason, "ip": ip or ""},
        )
        raise AuthenticationFailed(N_("Wrong login or password, or the account is not active."))
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    if _has_second_factor(session, user.id):
        # Not signed in yet: the sign-in is recorded after the code (``record_login``).
        audit.record(
            session,
            action="auth.password_ok",
            object_type="user",
            object_id=user.id,
            actor_id=user.id,
            payload={"ip": ip or ""},
        )
    else:
        record_login(session, user_id=user.id, ip=ip)
    return user


def _has_second_factor(session: Session, user_id: int) -> bool:
    # Imported here: core.mfa builds on core.accounts, which re-exports this module.
    from core.mfa import factor_of

    return factor_of(session, user_id) is not None


def record_login(session: Session, *, user_id: int, ip: str | None) -> None:
    """Record a completed sign-in: after the password, or after the code when one is owed."""
    get_user(session, user_id).last_login_at = utcnow()
    audit.record(
        session,
        action="auth.login",
        object_type="user",
        object_id=user_id,
        actor_id=user_id,
        payload={"ip": ip or ""},
    )


def reauthenticate(session: Session, *, user_id: int, password: str, ip: str | None) -> None:
    """Check the signed-in user's password again before a sensitive step; audit the outcome."""
    user = get_user(session, user_id)
    ok = verify_password(user.password_hash, password)
    audit.record(
        session,
        action="auth.reauth" if ok else "auth.reauth_failed",
        object_type="user",
        object_id=user.id,
        actor_id=user.id,
        payload={"ip": ip or ""},
    )
    if not ok:
        raise AuthenticationFailed(N_("The password is wrong."))


def record_logout(session: Session, *, user_id: int) -> None:
    """End every session of the user (a replayed old cookie is refused too) and audit it."""
    get_user(session, user_id).session_epoch += 1
    audit.record(
        session, action="auth.logout", object_type="user", object_id=user_id, actor_id=user_id
    )
