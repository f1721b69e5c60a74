"""Tables of patrol work: shifts, sign-ups, contribution kinds and contributions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime, utcnow
from core.places import AdminUnit
from volunteers.models import Member, PatrolUnit

SHIFT_STATUSES = ("planned", "cancelled")
SIGNUP_STATUSES = ("signed_up", "checked_in", "completed", "no_show", "cancelled")
# A sign-up still ahead of its member or under way: the shift counts on them.
OPEN_SIGNUP_STATUSES = ("signed_up", "checked_in")
CONTRIBUTION_STATUSES = ("logged", "confirmed", "rejected", "superseded")
MEASURES = ("hours", "count")


class Shift(Base):
    """A planned patrol shift; ``taken`` counts live sign-ups and never exceeds ``capacity``."""

    __tablename__ = "shift"
    __table_args__ = (
        CheckConstraint(f"status IN {SHIFT_STATUSES!r}", name="status_known"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint("taken >= 0 AND taken <= capacity", name="taken_within_capacity"),
        Index("ix_shift_unit_starts", "unit_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"))
    patrol_unit_id: Mapped[int | None] = mapped_column(ForeignKey("patrol_unit.id"), index=True)
    place: Mapped[str] = mapped_column(String(300))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    capacity: Mapped[int] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0)
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    status: Mapped[str] = mapped_column(String(12), default="planned")
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    series: Mapped[str | None] = mapped_column(String(40), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    unit: Mapped[AdminUnit] = relationship(lazy="joined")
    # Joined: every list of shifts shows the unit, and a lazy load per row is an N+1.
    patrol_unit: Mapped[PatrolUnit | None] = relationship(lazy="joined")


class Signup(Base):
    """A member's place on a shift and their attendance.

    The shift's times are copied here so that the database itself can refuse two overlapping
    live sign-ups of one member (an exclusion constraint on PostgreSQL, a trigger on SQLite).
    """

    __tablename__ = "signup"
    __table_args__ = (
        CheckConstraint(f"status IN {SIGNUP_STATUSES!r}", name="status_known"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("checked_out_at IS NULL OR checked_in_at IS NOT NULL", name="out_after_in"),
        Index(
            "uq_signup_live_shift_member",
            "shift_id",
            "member_id",
            unique=True,
            postgresql_where=text("status <> 'cancelled'"),
            sqlite_where=text("status <> 'cancelled'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("shift.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="signed_up")
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    signed_up_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    checked_in_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    checked_out_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Who recorded the attendance: the member themself, or the supervisor for the whole shift.
    attendance_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Only when the member allowed the browser to share it; millionths of a degree (exact
    # integers: no floating-point column anywhere in the schema).
    # The member tapped "Check in" / "Check out" offline; the time is the tap's (within the
    # akimat's limit, ``AttendanceSetting``), and the coordinator sees the mark.
    checked_in_offline: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    checked_out_offline: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    latitude_e6: Mapped[int | None] = mapped_column(Integer)
    longitude_e6: Mapped[int | None] = mapped_column(Integer)
    reminded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    # Joined: sign-up lists show the shift and the member on every row.
    shift: Mapped[Shift] = relationship(lazy="joined")
    member: Mapped[Member] = relationship(lazy="joined")


class ContributionKind(Base):
    """A kind of contribution (data, editable by admins) with its names and default points."""

    __tablename__ = "contribution_kind"
    __table_args__ = (
        CheckConstraint(f"measure IN {MEASURES!r}", name="measure_known"),
        CheckConstraint("points >= 0", name="points_nonneg"),
    )

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_kk: Mapped[str] = mapped_column(String(200))
    name_ru: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    # "hours": the quantity is minutes of patrol; "count": one event per record.
    measure: Mapped[str] = mapped_column(String(8), default="count")
    # Points per hour or per event until a reward policy in force sets its own.
    points: Mapped[int] = mapped_column(Integer, default=1)
    needs_reference: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    def name(self, locale: str) -> str:
        """Return the name in ``locale``."""
        return {"ru": self.name_ru, "en": self.name_en}.get(locale, self.name_kk)


class Contribution(Base):
    """A member's contribution: the evidence behind every reward.

    Once confirmed or rejected a record is frozen (database triggers refuse changes); a
    correction is a new record that ``corrects_id`` the old one and supersedes it when confirmed.
    """

    __tablename__ = "contribution"
    __table_args__ = (
        CheckConstraint(f"status IN {CONTRIBUTION_STATUSES!r}", name="status_known"),
        CheckConstraint("minutes IS NULL OR (minutes > 0 AND minutes <= 960)", name="minutes"),
        CheckConstraint(
            "status <> 'rejected' OR length(coalesce(rejection_reason, '')) > 0",
            name="rejection_has_reason",
        ),
        CheckConstraint(
            "decided_by_id IS NULL OR logged_by_id IS NULL OR decided_by_id <> logged_by_id",
            name="four_eyes",
        ),
        CheckConstraint(
            "(status IN ('logged')) = (decided_at IS NULL)", name="decided_when_not_logged"
        ),
        Index("ix_contribution_unit_status", "unit_id", "status"),
        # The weekly summary sums a jurisdiction's contributions by day and kind over the last
        # weeks: a range of this index per unit, read from the index alone on PostgreSQL (57
        # -> 20 ms of database time at 50,000 members, issue 16).
        Index(
            "ix_contribution_unit_date",
            "unit_id",
            "occurred_on",
            postgresql_include=["kind", "status", "minutes", "points"],
        ),
        Index("ix_contribution_member_date", "member_id", "occurred_on"),
        # The deputies' dashboard sums the contributions behind a region's approved rewards by
        # kind, some 10,000 looked up by id: read from this index alone on PostgreSQL. Without
        # it the planner, at the default random_page_cost, scans the whole table instead
        # (216-380 -> 108-116 ms at 50,000 members, issue 16).
        Index("ix_contribution_backing", "id", postgresql_include=["kind", "points", "member_id"]),
        # The candidates' ranking sums confirmed points per member over a quarter: read from
        # this index alone (PostgreSQL), not from the table's pages, one member at a time.
        Index(
            "ix_contribution_confirmed_member_date",
            "member_id",
            "occurred_on",
            postgresql_include=["id", "points"],
            postgresql_where=text("status = 'confirmed'"),
            sqlite_where=text("status = 'confirmed'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    # The member's settlement, copied for scoping queues and summaries by jurisdiction.
    unit_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"))
    kind: Mapped[str] = mapped_column(ForeignKey("contribution_kind.code"))
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    minutes: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(12), default="logged", index=True)
    points: Mapped[int | None] = mapped_column(Integer)
    signup_id: Mapped[int | None] = mapped_column(ForeignKey("signup.id"), unique=True)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("contribution.id"), index=True)
    logged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    logged_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    rejection_reason: Mapped[str | None] = mapped_column(Text)

    member: Mapped[Member] = relationship()
    kind_ref: Mapped[ContributionKind] = relationship(lazy="joined")
