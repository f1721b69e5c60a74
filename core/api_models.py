"""Tables of the JSON API: access tokens with their grants, the answers kept per Idempotency-Key."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    delete,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from core.db import Base, UTCDateTime, utcnow


class ApiToken(Base):
    """A personal or service access token: only its SHA-256 is kept, the secret is shown once.

    The token acts as ``user_id`` but only with its own grants (a subset of the user's, checked
    on every use, so a revoked role or a moved account narrows the token too).
    """

    __tablename__ = "api_token"
    __table_args__ = (
        CheckConstraint("expires_at > created_at", name="expires_after_creation"),
        CheckConstraint("revoked_at IS NULL OR revoked_by_id IS NOT NULL", name="revoker_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    # sha256 hex of the whole secret; the secret has 256 bits of entropy, so no slow hash.
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The secret's first characters, shown in lists so that a holder recognises their token.
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    grants: Mapped[list[ApiTokenGrant]] = relationship(
        back_populates="token", cascade="all, delete-orphan", lazy="selectin"
    )


class ApiTokenGrant(Base):
    """One role over one administrative unit (and every unit below it) that a token may use."""

    __tablename__ = "api_token_grant"
    __table_args__ = (UniqueConstraint("token_id", "role", "unit_id", name="uq_api_token_grant"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_token.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"))

    token: Mapped[ApiToken] = relationship(back_populates="grants")


class IdempotencyRecord(Base):
    """The first answer to a POST sent with an Idempotency-Key, per account and key.

    The row is inserted in the same transaction as the write it guards: a concurrent request
    with the same key waits on the unique index and then finds it. ``status_code`` is NULL
    while the first request is still being answered.
    """

    __tablename__ = "api_idempotency"
    __table_args__ = (
        UniqueConstraint("user_id", "key", name="uq_api_idempotency_key"),
        Index("ix_api_idempotency_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    key: Mapped[str] = mapped_column(String(255))
    # sha256 hex of method, path and body: the same key with other content is refused.
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(100))
    response_body: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


# How long an Idempotency-Key is remembered (clients retry within minutes; a day covers a phone
# that was offline overnight). The nightly retention run forgets older answers.
IDEMPOTENCY_KEEP = dt.timedelta(hours=24)


def forget_old_answers(session: Session, now: dt.datetime) -> int:
    """Delete the kept answers older than ``IDEMPOTENCY_KEEP``; return how many."""
    result = session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - IDEMPOTENCY_KEEP)
    )
    return result.rowcount or 0
