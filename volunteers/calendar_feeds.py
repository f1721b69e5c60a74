"""A member's shift calendar at a secret address: the link, kept hashed, and its shifts."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import ForeignKey, String, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import audit
from core.db import Base, UTCDateTime, utcnow
from core.errors import N_, Conflict, NotFound
from core.one_time_codes import token_hash
from volunteers.activity_models import Shift, Signup
from volunteers.models import Member

# How far back the feed reaches: a phone keeps showing last month's shifts, no older ones.
PAST_DAYS = 31
TOKEN_BYTES = 32


class CalendarFeed(Base):
    """The one live calendar link of a member; only the hash of its token is kept."""

    __tablename__ = "calendar_feed"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


def feed_of(session: Session, member_id: int) -> CalendarFeed | None:
    """Return the member's live calendar link, if they made one."""
    return session.scalar(select(CalendarFeed).where(CalendarFeed.member_id == member_id))


def _own_member(session: Session, member_id: int, user_id: int) -> Member:
    member = session.get(Member, member_id)
    if member is None or member.user_id != user_id:
        raise NotFound(N_("No such membership."))
    return member


def issue_link(
    session: Session,
    *,
    member_id: int,
    user_id: int,
    replacing: dt.datetime | None,
    now: dt.datetime | None = None,
) -> str:
    """Make the member's calendar link, or a new one in place of the old; return its token.

    ``replacing`` is when the link the person saw was made (None: they saw none). The token
    is shown once and kept only as a hash; a new link ends the old one at once. Of requests
    sent from the same page at once (a double tap), one makes the link, the others get 409.
    """
    _own_member(session, member_id, user_id)
    now = now or utcnow()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    stale = Conflict(N_("The calendar link was just made: reload the page."))
    current = feed_of(session, member_id)
    if current is None:
        if replacing is not None:
            raise stale
        try:
            with session.begin_nested():
                session.add(
                    CalendarFeed(member_id=member_id, token_hash=token_hash(token), created_at=now)
                )
        except IntegrityError:
            raise stale from None
        action = "calendar_feed.created"
    else:
        if replacing is None:
            raise stale
        # Guarded on the link the person saw: of two resets at once only one replaces it.
        replaced = session.execute(
            update(CalendarFeed)
            .where(CalendarFeed.id == current.id, CalendarFeed.created_at == replacing)
            .values(token_hash=token_hash(token), created_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not replaced:
            raise stale
        session.expire(current)
        action = "calendar_feed.reset"
    audit.record(
        session,
        action=action,
        object_type="member",
        object_id=member_id,
        actor_id=user_id,
        now=now,
    )
    return token


def member_of_token(session: Session, token: str) -> Member | None:
    """Return the member whose live link carries ``token``, or None."""
    if not token or len(token) > 100:
        return None
    return session.scalar(
        select(Member)
        .join(CalendarFeed, CalendarFeed.member_id == Member.id)
        .where(CalendarFeed.token_hash == token_hash(token))
    )


def feed_signups(
    session: Session, member_id: int, now: dt.datetime | None = None
) -> list[tuple[Signup, Shift]]:
    """Return the member's sign-ups with their shifts: every coming one and last month's."""
    since = (now or utcnow()) - dt.timedelta(days=PAST_DAYS)
    rows = session.execute(
        select(Signup, Shift)
        .join(Shift, Shift.id == Signup.shift_id)
        .where(Signup.member_id == member_id, Shift.ends_at >= since)
        .order_by(Shift.starts_at, Signup.id)
    )
    return [(signup, shift) for signup, shift in rows]
