"""One-time tokens for showing a full IIN or IBAN: granted after an audited reveal, used once.

The browser holds only the token; the grant lives here. Showing the value claims the token
with a guarded ``UPDATE … WHERE used_at IS NULL``, so a replayed cookie or a second tab
shows nothing more: a claim that finds the token spent is refused.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import ForeignKey, Integer, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, UTCDateTime, utcnow
from core.errors import N_, Conflict
from core.one_time_codes import token_hash

# A granted reveal not used within this long lapses (the page is opened right after).
SHOWN_FOR = dt.timedelta(seconds=120)


class RevealToken(Base):
    """A granted reveal of one field of one record, to one user, usable once."""

    __tablename__ = "reveal_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    object_type: Mapped[str] = mapped_column(String(20))
    object_id: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class AlreadyShown(Conflict):
    """The token was used before: a replayed cookie or a repeated request."""


def grant(
    session: Session,
    *,
    user_id: int,
    object_type: str,
    object_id: int,
    field: str,
    now: dt.datetime | None = None,
) -> str:
    """Store a one-time grant and return its token (the caller has audited the reveal)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(
        RevealToken(
            token_hash=token_hash(token),
            user_id=user_id,
            object_type=object_type,
            object_id=object_id,
            field=field,
            created_at=now,
            expires_at=now + SHOWN_FOR,
        )
    )
    session.flush()
    return token


def claim(
    session: Session,
    *,
    token: str,
    user_id: int,
    object_type: str,
    object_id: int,
    field: str,
    now: dt.datetime | None = None,
) -> bool:
    """Use the token to show the field once; False if it lapsed or names something else.

    Raises ``AlreadyShown`` when the token was used before.
    """
    now = now or utcnow()
    mine = (
        RevealToken.token_hash == token_hash(token),
        RevealToken.user_id == user_id,
        RevealToken.object_type == object_type,
        RevealToken.object_id == object_id,
        RevealToken.field == field,
    )
    claimed = session.execute(
        update(RevealToken)
        .where(*mine, RevealToken.used_at.is_(None), RevealToken.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount == 1:
        return True
    if session.scalar(select(RevealToken.used_at).where(*mine)) is not None:
        raise AlreadyShown(
            N_("This reveal was already shown once. Reveal it again if you need to see it.")
        )
    return False
