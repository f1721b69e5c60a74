"""Outgoing notifications: messages written in the same transaction, sent by a job after it."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, UTCDateTime, utcnow

STATUSES = ("pending", "sent", "failed", "kept")


class Notification(Base):
    """One message to one person, stored as a kind and parameters.

    The portal renders subject and body in the recipient's language when it sends the
    message. ``kept`` means no mail server is configured: the message stays in the
    development outbox instead of being sent.
    """

    __tablename__ = "notification"
    __table_args__ = (CheckConstraint(f"status IN {STATUSES!r}", name="status_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(60))
    params: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    language: Mapped[str] = mapped_column(String(2), default="kk")
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


def queue_message(
    session: Session,
    *,
    user_id: int | None,
    email: str | None,
    kind: str,
    params: dict,
    language: str,
) -> Notification:
    """Write a pending message; the portal renders and sends it after the commit."""
    note = Notification(
        user_id=user_id,
        email=email,
        kind=kind,
        params=json.dumps(params, sort_keys=True),
        language=language,
        status="pending",
    )
    session.add(note)
    session.flush()
    return note


def mark(
    session: Session,
    note_id: int,
    status: str,
    *,
    subject: str,
    body: str,
    error: str | None = None,
) -> bool:
    """Move a pending message to ``status``; False if another delivery already did."""
    result = session.execute(
        update(Notification)
        .where(Notification.id == note_id, Notification.status == "pending")
        .values(status=status, error=error, sent_at=utcnow(), subject=subject, body=body)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
