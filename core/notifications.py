"""Notifications: written in the same transaction, read in the inbox, sent by a job after it."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    bindparam,
    event,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import audit
from core.account_models import User
from core.db import Base, UTCDateTime, utcnow
from core.errors import N_, NotFound

# The e-mail channel: ``kept`` means no mail server is configured (the message stays in the
# development outbox); ``no_address`` means the person has no e-mail, so none is attempted.
STATUSES = ("pending", "sent", "failed", "kept", "no_address")
# The SMS channel (NULL: the person has no phone); ``off`` means no SMS gateway is configured.
SMS_STATUSES = ("pending", "sent", "failed", "off")
# Tries of one SMS before it counts as failed (the outbox job and RQ retry the rest).
SMS_MAX_ATTEMPTS = 3
# One-time codes are for the sign-in screens: a signed-in session must not read them.
HIDDEN_FROM_INBOX = ("password.reset_code", "signup.code")


class Notification(Base):
    """One message to one person, stored as a kind and parameters.

    The portal renders it in the recipient's language: in the inbox when they read it, and
    as e-mail and SMS when it sends it. Each channel keeps its own delivery state.
    """

    __tablename__ = "notification"
    __table_args__ = (
        CheckConstraint(f"status IN {STATUSES!r}", name="status_known"),
        CheckConstraint(
            f"sms_status IS NULL OR sms_status IN {SMS_STATUSES!r}", name="sms_status_known"
        ),
        CheckConstraint("sms_attempts >= 0", name="sms_attempts_nonneg"),
        Index("ix_notification_inbox", "user_id", "read_at"),
    )

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
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    sms_status: Mapped[str | None] = mapped_column(String(10))
    sms_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sms_id: Mapped[str | None] = mapped_column(String(64))
    sms_error: Mapped[str | None] = mapped_column(Text)
    sms_sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    def values(self) -> dict:
        """Return the parameters the message is rendered with."""
        return json.loads(self.params or "{}")


def canonical(params: dict) -> str:
    """Return ``params`` as stored (sorted JSON), to find a message by its parameters."""
    return json.dumps(params, sort_keys=True)


def queue_message(
    session: Session,
    *,
    user_id: int | None,
    email: str | None,
    kind: str,
    params: dict,
    language: str,
) -> Notification:
    """Write a pending message; the portal renders and sends it after the commit.

    E-mail goes only to an address; SMS is pending when the account has a phone (the portal
    turns it off when no gateway is configured). An account's message is in its inbox too.
    """
    user = session.get(User, user_id) if user_id else None
    note = Notification(
        user_id=user_id,
        email=email or None,
        kind=kind,
        params=canonical(params),
        language=language,
        status="pending" if email else "no_address",
        sms_status="pending" if user is not None and user.phone else None,
        sms_attempts=0,
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


def record_render(session: Session, note_id: int, *, subject: str, body: str) -> None:
    """Keep what was rendered for a message no e-mail carries (the outbox shows it)."""
    session.execute(
        update(Notification)
        .where(Notification.id == note_id, Notification.subject.is_(None))
        .values(subject=subject, body=body)
        .execution_options(synchronize_session=False)
    )


# ---- the SMS channel --------------------------------------------------------------------------


def claim_sms(session: Session, note_id: int, attempts: int) -> bool:
    """Count one try of a pending SMS; False if another delivery counted it first."""
    result = session.execute(
        update(Notification)
        .where(
            Notification.id == note_id,
            Notification.sms_status == "pending",
            Notification.sms_attempts == attempts,
        )
        .values(sms_attempts=attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def finish_sms(
    session: Session,
    note_id: int,
    status: str,
    *,
    message_id: str | None = None,
    error: str | None = None,
) -> bool:
    """Move a pending SMS to ``status`` (sent, failed or off)."""
    result = session.execute(
        update(Notification)
        .where(Notification.id == note_id, Notification.sms_status == "pending")
        .values(
            sms_status=status,
            sms_id=message_id,
            sms_error=error,
            sms_sent_at=utcnow() if status == "sent" else None,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


# ---- the inbox --------------------------------------------------------------------------------


def inbox(user_id: int):
    """Return the query of ``user_id``'s inbox, newest first."""
    return (
        select(Notification)
        .where(Notification.user_id == user_id, Notification.kind.not_in(HIDDEN_FROM_INBOX))
        .order_by(Notification.id.desc())
    )


# Every page's menu shows the count: the statement is built once, not per request (issue 16).
_UNREAD = (
    select(func.count())
    .select_from(Notification)
    .where(
        Notification.user_id == bindparam("user_id"),
        Notification.read_at.is_(None),
        Notification.kind.not_in(HIDDEN_FROM_INBOX),
    )
)


# The same count as a column of a statement that loads users: the portal reads it with the
# signed-in user, in the statement every request runs anyway, instead of one more per page.
UNREAD_OF_USER = (
    select(func.count())
    .select_from(Notification)
    .where(
        Notification.user_id == User.id,
        Notification.read_at.is_(None),
        Notification.kind.not_in(HIDDEN_FROM_INBOX),
    )
    .correlate(User)
    .scalar_subquery()
    .label("unread_notifications")
)
# ``Session.info`` key of the counts read that way: {user id: count}.
_KNOWN_UNREAD = "core.notifications.unread"


def remember_unread(session: Session, user_id: int, count: int) -> None:
    """Keep the count that ``UNREAD_OF_USER`` read for ``user_id`` until the session writes.

    Any flush, insert, update or delete, and the end of the transaction, forget it: a page that
    marks messages read, or a step that notifies its own actor, counts again.
    """
    session.info.setdefault(_KNOWN_UNREAD, {})[user_id] = count


def unread_count(session: Session, user_id: int) -> int:
    """Return how many messages in ``user_id``'s inbox are unread."""
    known = session.info.get(_KNOWN_UNREAD)
    if known is not None and user_id in known:
        return known[user_id]
    return session.scalar(_UNREAD, {"user_id": user_id})


def _forget_unread(session: Session, *_args) -> None:
    session.info.pop(_KNOWN_UNREAD, None)


event.listen(Session, "after_flush", _forget_unread)
event.listen(Session, "after_transaction_end", _forget_unread)


@event.listens_for(Session, "do_orm_execute")
def _forget_unread_on_write(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        _forget_unread(state.session)


def mark_read(
    session: Session, *, note_id: int, user_id: int, now: dt.datetime | None = None
) -> bool:
    """Mark one of ``user_id``'s messages read; False when it already was (nothing changes).

    Someone else's message is "not found": its existence is not revealed.
    """
    note = session.get(Notification, note_id)
    if note is None or note.user_id != user_id or note.kind in HIDDEN_FROM_INBOX:
        raise NotFound(N_("No such notification."))
    changed = session.execute(
        update(Notification)
        .where(Notification.id == note_id, Notification.read_at.is_(None))
        .values(read_at=now or utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed:
        audit.record(
            session,
            action="notification.read",
            object_type="notification",
            object_id=note_id,
            actor_id=user_id,
        )
    return bool(changed)


def mark_all_read(session: Session, *, user_id: int, now: dt.datetime | None = None) -> int:
    """Mark every unread message of ``user_id`` read; return how many were unread."""
    changed = session.execute(
        update(Notification)
        .where(
            Notification.user_id == user_id,
            Notification.read_at.is_(None),
            Notification.kind.not_in(HIDDEN_FROM_INBOX),
        )
        .values(read_at=now or utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed:
        audit.record(
            session,
            action="notification.read_all",
            object_type="user",
            object_id=user_id,
            actor_id=user_id,
            payload={"count": changed},
        )
    return changed
