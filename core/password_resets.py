"""Password resets: a one-time code by e-mail, an administrator's forced reset, break-glass.

Asking for a code answers the same whether or not the address has an account, as sign-up
does (``core.signups``): a pending request is stored either way and the browser is asked
for the code, but only an active account's address is sent one. Code and browser token are
kept hashed only; a request expires and allows a few attempts. There is no SMS channel, so
a code goes to the e-mail address only.

A new password never signs anyone in: the person signs in with it afterwards, giving their
second factor as before.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import audit, mfa, notifications
from core import one_time_codes as codes
from core.account_models import User, get_user, normalize_email
from core.accounts import require_administers
from core.db import Base, UTCDateTime, utcnow
from core.errors import N_, Conflict, DomainError, NotFound
from core.one_time_codes import CodeRefused
from core.passwords import check_password_policy, hash_password, verify_password

CODE_MINUTES, MAX_ATTEMPTS = codes.CODE_MINUTES, codes.MAX_ATTEMPTS
# Codes sent to one account per hour: more requests are stored and answered alike, but send
# nothing, so that nobody can flood a mailbox through the form.
CODES_PER_HOUR = 3


class PasswordResetRequest(Base):
    """A reset waiting for the one-time code; ``user_id`` is None for an unknown address."""

    __tablename__ = "password_reset_request"
    __table_args__ = (CheckConstraint("attempts >= 0", name="attempts_nonneg"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class ResetLapsed(DomainError):
    """The request expired, used up its attempts, or never existed: ask again."""

    status = 410


class NotAnAdministrator(DomainError):
    """Break-glass is only for administrators."""

    status = 403


def purge_lapsed(session: Session, now: dt.datetime) -> int:
    """Delete reset requests whose code lapsed; each new request does it."""
    return session.execute(
        delete(PasswordResetRequest).where(PasswordResetRequest.expires_at < now)
    ).rowcount


def begin_reset(session: Session, *, email: str, now: dt.datetime | None = None) -> str:
    """Store a pending reset and send its code to an active account; return the browser token.

    A malformed address is refused; an unknown one is not (that answer would tell who is
    registered): its request simply never matches a code.
    """
    now = now or utcnow()
    email = normalize_email(email)
    if not email:
        raise DomainError(N_("Enter your e-mail address: the one-time code is sent there."))
    purge_lapsed(session, now)
    user = session.scalar(select(User).where(User.email == email))
    if user is not None and not user.is_active:
        user = None
    token, code, kept = codes.issue(now)
    request = PasswordResetRequest(**kept, user_id=user.id if user else None)
    session.add(request)
    session.flush()
    if user is not None and _recent_requests(session, user.id, now) <= CODES_PER_HOUR:
        notifications.queue_message(
            session,
            user_id=user.id,
            email=user.email,
            kind="password.reset_code",
            params={"code": code, "minutes": CODE_MINUTES},
            language=user.preferred_language,
        )
    audit.record(
        session,
        action="auth.password_reset_start",
        object_type="password_reset_request",
        object_id=request.id,
        actor_id=None,
    )
    return token


def _recent_requests(session: Session, user_id: int, now: dt.datetime) -> int:
    return session.scalar(
        select(func.count(PasswordResetRequest.id)).where(
            PasswordResetRequest.user_id == user_id,
            PasswordResetRequest.created_at > now - dt.timedelta(hours=1),
        )
    )


def is_pending(session: Session, token: str, now: dt.datetime | None = None) -> bool:
    """Tell whether the browser's request can still take a code."""
    now = now or utcnow()
    request = session.scalar(
        select(PasswordResetRequest).where(
            PasswordResetRequest.token_hash == codes.token_hash(token)
        )
    )
    return (
        request is not None
        and request.used_at is None
        and request.expires_at > now
        and request.attempts < MAX_ATTEMPTS
    )


def complete_reset(
    session: Session, *, token: str, code: str, new_password: str, now: dt.datetime | None = None
) -> User:
    """Set the new password if ``code`` is the request's code; count a wrong one.

    The policy is checked first (a too-short password costs no attempt). Every session of
    the account ends, a forced reset is satisfied, and nobody is signed in. Raises
    ``CodeRefused`` (the caller commits so the attempt stays counted) or ``ResetLapsed``.
    """
    now = now or utcnow()
    check_password_policy(new_password)
    request = session.scalar(
        select(PasswordResetRequest)
        .where(PasswordResetRequest.token_hash == codes.token_hash(token))
        .with_for_update()
    )
    if request is None or request.used_at is not None or request.expires_at <= now:
        raise ResetLapsed(N_("This code has expired. Ask for a new one."))
    if not codes.count_attempt(session, PasswordResetRequest, request.id):
        raise ResetLapsed(N_("Too many wrong codes. Ask for a new one."))
    right = codes.matches(request.code_hash, token, code)
    user = session.get(User, request.user_id) if request.user_id else None
    if not right or user is None or not user.is_active:
        raise CodeRefused(N_("The code is wrong. Enter the code from the latest message."))
    if not codes.claim(session, PasswordResetRequest, request.id, now):
        raise ResetLapsed(N_("This code has expired. Ask for a new one."))
    _set_password(session, user, new_password)
    # Every other code sent to the account is void now.
    session.execute(delete(PasswordResetRequest).where(PasswordResetRequest.user_id == user.id))
    audit.record(
        session,
        action="auth.password_reset",
        object_type="user",
        object_id=user.id,
        actor_id=user.id,
        payload={"via": "email_code"},
    )
    return user


def _set_password(session: Session, user: User, new_password: str) -> None:
    user.password_hash = hash_password(new_password)
    user.must_reset = False
    user.session_epoch += 1  # every session issued before ends


def force_reset(session: Session, *, user_id: int, actor_id: int) -> User:
    """Make the account choose a new password at its next sign-in; its sessions end now."""
    user = get_user(session, user_id)
    require_administers(session, actor_id, user)
    if user.id == actor_id:
        raise Conflict(N_("Change your own password on your account page instead."))
    if user.must_reset:
        raise Conflict(N_("This account must already choose a new password at its next sign-in."))
    user.must_reset = True
    user.session_epoch += 1
    audit.record(
        session, action="user.force_reset", object_type="user", object_id=user.id, actor_id=actor_id
    )
    return user


def set_required_password(session: Session, *, user_id: int, new_password: str) -> User:
    """Set the new password an account marked ``must_reset`` chooses at sign-in."""
    user = get_user(session, user_id)
    if not user.must_reset or not user.is_active:
        raise Conflict(N_("Sign in again: this step has expired."))
    check_password_policy(new_password)
    if verify_password(user.password_hash, new_password):
        raise DomainError(N_("The new password must differ from the current one."))
    _set_password(session, user, new_password)
    audit.record(
        session,
        action="auth.password_reset",
        object_type="user",
        object_id=user.id,
        actor_id=user.id,
        payload={"via": "required_at_sign_in"},
    )
    return user


def break_glass(session: Session, *, email: str, operator: str, host: str) -> tuple[User, str]:
    """Give a locked-out administrator a one-time password; return it with the account.

    The password must be changed at the next sign-in, and the second factor is removed so
    that it is enrolled again (the lost phone is the usual lock-out). Only administrators
    qualify: the command is no back door into other accounts. ``operator`` and ``host`` (the
    OS user and machine that ran it) are recorded in the audit event.
    """
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        raise NotFound(N_("No such user."))
    if not user.is_active or "admin" not in user.roles():
        raise NotAnAdministrator(N_("Break-glass is only for active administrator accounts."))
    password = secrets.token_urlsafe(18)
    factor = mfa.factor_of(session, user.id)
    if factor is not None:
        session.delete(factor)
    session.execute(delete(mfa.RecoveryCode).where(mfa.RecoveryCode.user_id == user.id))
    _set_password(session, user, password)
    user.must_reset = True
    audit.record(
        session,
        action="auth.break_glass",
        object_type="user",
        object_id=user.id,
        actor_id=None,
        payload={
            "operator": operator[:64],
            "host": host[:128],
            "factor_removed": factor is not None,
        },
    )
    return user, password
