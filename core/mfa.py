"""Two-factor sign-in: TOTP secrets, one-time recovery codes, and which roles must use them."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import time

import pyotp
from sqlalchemy import ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import audit
from core.accounts import User, get_user, require_administers
from core.db import Base, UTCDateTime, utcnow
from core.errors import N_, Conflict, DomainError
from core.sealing import Sealed

# Officials who decide on people and money must sign in with a second factor (issue 9).
MFA_ROLES = frozenset({"registrar", "secretary", "member", "chair", "finance", "reviewer", "admin"})
ISSUER = "Citizen incentive portal"
RECOVERY_CODES = 10
# One step either side absorbs a phone clock that is up to 30 s off.
VALID_WINDOW = 1
_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud from paper


class SecondFactorFailed(DomainError):
    """A wrong, reused or malformed code."""

    status = 401


class TotpFactor(Base):
    """A user's enrolled authenticator app; ``last_step`` refuses a code used before."""

    __tablename__ = "totp_factor"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    secret: Mapped[str] = mapped_column(Sealed("totp", 140))
    enabled_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_step: Mapped[int] = mapped_column(Integer, default=0)


class RecoveryCode(Base):
    """A one-time code for when the phone is lost; only its SHA-256 is kept."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


def required_for(user: User) -> bool:
    """Tell whether the user's roles oblige them to sign in with a second factor."""
    return bool(user.roles() & MFA_ROLES)


def factor_of(session: Session, user_id: int) -> TotpFactor | None:
    """Return the user's enrolled factor, if any."""
    return session.get(TotpFactor, user_id)


def new_secret() -> str:
    """Return a fresh base32 secret for enrolment (160 bits, as RFC 4226 recommends)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, account: str) -> str:
    """Return the otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=ISSUER)


def _hash_code(code: str) -> str:
    return hashlib.sha256(_normal_code(code).encode()).hexdigest()


def _normal_code(code: str) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


def _matching_step(secret: str, code: str, now: float) -> int | None:
    """Return the time step whose code equals ``code`` within the window, or None."""
    totp = pyotp.TOTP(secret)
    current = int(now) // totp.interval
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _new_recovery_codes(session: Session, user_id: int) -> list[str]:
    for old in session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user_id)):
        session.delete(old)
    session.flush()
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        session.add(RecoveryCode(user_id=user_id, code_hash=_hash_code(raw)))
    return codes


def enable(session: Session, *, user_id: int, secret: str, code: str) -> list[str]:
    """Enrol the authenticator showing ``code`` for ``secret``; return new recovery codes."""
    get_user(session, user_id)
    if factor_of(session, user_id) is not None:
        raise Conflict(N_("Two-factor sign-in is already set up for this account."))
    step = _matching_step(secret, _digits(code), time.time())
    if step is None:
        raise SecondFactorFailed(N_("The code is wrong or has expired. Enter the current code."))
    session.add(TotpFactor(user_id=user_id, secret=secret, last_step=step))
    codes = _new_recovery_codes(session, user_id)
    audit.record(
        session, action="mfa.enable", object_type="user", object_id=user_id, actor_id=user_id
    )
    return codes


def _digits(code: str) -> str:
    # ASCII digits only: "١٢٣" passed str.isdigit and then hmac.compare_digest refused the
    # non-ASCII text with TypeError, a 500 (found by fuzzing, S13).
    return "".join(ch for ch in (code or "") if ch in "0123456789")


def verify(session: Session, *, user_id: int, code: str, ip: str | None) -> str:
    """Check a second factor; return ``"totp"`` or ``"recovery"``, or raise SecondFactorFailed.

    A TOTP code is accepted once: its step must be later than the last one used. A recovery
    code is used up. Every outcome is audited (a success as ``auth.second_factor``); the
    caller commits even on failure.
    """
    factor = session.get(TotpFactor, user_id, with_for_update=True)
    kind = None
    if factor is not None and len(_digits(code)) == 6 and _digits(code) == code.strip():
        step = _matching_step(factor.secret, _digits(code), time.time())
        if step is not None and step > factor.last_step:
            factor.last_step = step
            kind = "totp"
    elif factor is not None and len(_normal_code(code)) == 10:
        row = session.scalars(
            select(RecoveryCode)
            .where(
                RecoveryCode.user_id == user_id,
                RecoveryCode.code_hash == _hash_code(code),
                RecoveryCode.used_at.is_(None),
            )
            .with_for_update()
        ).first()
        if row is not None:
            row.used_at = utcnow()
            kind = "recovery"
    if kind is None:
        audit.record(
            session,
            action="auth.mfa_failed",
            object_type="user",
            object_id=user_id,
            actor_id=None,
            payload={"ip": ip or ""},
        )
        raise SecondFactorFailed(N_("The code is wrong or has expired. Enter the current code."))
    audit.record(
        session,
        action="auth.second_factor",
        object_type="user",
        object_id=user_id,
        actor_id=user_id,
        payload={"kind": kind, "ip": ip or ""},
    )
    if kind == "recovery":
        audit.record(
            session,
            action="mfa.recovery_used",
            object_type="user",
            object_id=user_id,
            actor_id=user_id,
            payload={"left": recovery_codes_left(session, user_id)},
        )
    return kind


def recovery_codes_left(session: Session, user_id: int) -> int:
    """Return how many unused recovery codes the user has."""
    return len(
        session.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )


def regenerate_recovery_codes(session: Session, *, user_id: int) -> list[str]:
    """Replace the user's recovery codes (the old ones stop working)."""
    if factor_of(session, user_id) is None:
        raise Conflict(N_("Set up two-factor sign-in first."))
    codes = _new_recovery_codes(session, user_id)
    audit.record(
        session,
        action="mfa.recovery_regenerated",
        object_type="user",
        object_id=user_id,
        actor_id=user_id,
    )
    return codes


def reset(session: Session, *, user_id: int, actor_id: int) -> None:
    """Remove a user's second factor (a lost phone); their sessions end and they enrol again.

    Only an administrator over the user's jurisdiction may do it, and not for themselves:
    an attacker holding one admin password must not be able to drop that admin's own factor.
    """
    user = get_user(session, user_id)
    require_administers(session, actor_id, user)
    if user_id == actor_id:
        raise Conflict(N_("Another administrator must reset your two-factor sign-in."))
    factor = factor_of(session, user_id)
    if factor is None:
        raise Conflict(N_("This account has no two-factor sign-in to reset."))
    session.delete(factor)
    for row in session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user_id)):
        session.delete(row)
    user.session_epoch += 1
    audit.record(
        session, action="mfa.reset", object_type="user", object_id=user_id, actor_id=actor_id
    )
