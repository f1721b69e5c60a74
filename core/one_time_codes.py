"""One-time codes sent to an address (sign-up, password reset): issued, counted and claimed once.

The table keeps only hashes: of the browser's token, and of the code salted with that token,
which the table does not hold, so a stolen copy cannot be searched through the million
six-digit codes. Attempts are counted and the request claimed by guarded updates, so a wrong
code counts once and a right one is used once, however many requests arrive together.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from sqlalchemy import update
from sqlalchemy.orm import Session

from core.errors import DomainError

CODE_MINUTES = 15
MAX_ATTEMPTS = 5


class CodeRefused(DomainError):
    """A wrong code; the attempt is counted."""

    status = 401


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(now: dt.datetime) -> tuple[str, str, dict]:
    """Return a browser token, a six-digit code, and the columns a request row keeps of them."""
    token = secrets.token_urlsafe(32)
    code = f"{secrets.randbelow(10**6):06d}"
    kept = {
        "token_hash": token_hash(token),
        "code_hash": token_hash(f"{token}:{code}"),
        "attempts": 0,
        "created_at": now,
        "expires_at": now + dt.timedelta(minutes=CODE_MINUTES),
    }
    return token, code, kept


def matches(code_hash: str, token: str, code: str) -> bool:
    """Tell whether ``code`` (spaces and dashes ignored) is the one issued with ``token``."""
    digits = "".join(ch for ch in (code or "") if ch in "0123456789")
    return hmac.compare_digest(code_hash, token_hash(f"{token}:{digits}"))


def count_attempt(session: Session, model, request_id: int) -> bool:
    """Count one attempt on a live request; False when its attempts are used up or it is used."""
    counted = session.execute(
        update(model)
        .where(model.id == request_id, model.attempts < MAX_ATTEMPTS, model.used_at.is_(None))
        .values(attempts=model.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return counted.rowcount == 1


def claim(session: Session, model, request_id: int, now: dt.datetime) -> bool:
    """Mark the request used; False when another request used it first."""
    claimed = session.execute(
        update(model)
        .where(model.id == request_id, model.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1
