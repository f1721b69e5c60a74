"""Tables of sober settlements: declarations, their history, indicators and initiatives.

A sober-settlement status is a voluntary commitment of a community, declared at a gathering
of its residents; it is a record kept by the akimat and the police, not a legal ban.
"""

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
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime, utcnow
from core.places import AdminUnit

DECLARATION_STATUSES = ("declared", "confirmed", "revoked")
SIGNATORY_ROLES = ("rural_akim", "police_inspector", "elders_council", "other")
INITIATIVE_STATUSES = ("submitted", "under_review", "supported", "declined")
PROPOSER_ROLES = ("activist", "rural_akim")
VALUE_SOURCES = ("manual", "import")


class SoberDeclaration(Base):
    """A settlement's declaration, made at a gathering of its residents, and its status.

    At most one live (declared or confirmed) declaration per settlement; after a revocation
    the community may declare again, which starts a new record.
    """

    __tablename__ = "sober_declaration"
    __table_args__ = (
        CheckConstraint(f"status IN {DECLARATION_STATUSES!r}", name="status_known"),
        CheckConstraint("attendance > 0", name="attendance_positive"),
        CheckConstraint(
            "record_reference IS NOT NULL OR record_file_id IS NOT NULL", name="has_record"
        ),
        CheckConstraint(
            "status <> 'revoked' OR length(coalesce(revoke_reason, '')) > 0",
            name="revoke_has_reason",
        ),
        CheckConstraint("status = 'declared' OR decided_at IS NOT NULL", name="decided_known"),
        Index(
            "uq_sober_declaration_live_unit",
            "unit_id",
            unique=True,
            postgresql_where=text("status <> 'revoked'"),
            sqlite_where=text("status <> 'revoked'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    gathered_on: Mapped[dt.date] = mapped_column(Date)
    attendance: Mapped[int] = mapped_column(Integer)
    record_reference: Mapped[str | None] = mapped_column(String(300))
    record_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))
    status: Mapped[str] = mapped_column(String(10), default="declared", index=True)
    declared_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    declared_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The latest decision (confirmation or revocation); the full story is in the history.
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoke_reason: Mapped[str | None] = mapped_column(Text)

    unit: Mapped[AdminUnit] = relationship(lazy="joined")
    signatories: Mapped[list[SoberSignatory]] = relationship(
        order_by="SoberSignatory.position", lazy="selectin", viewonly=True
    )
    outlets: Mapped[list[SoberOutlet]] = relationship(
        order_by="SoberOutlet.stopped_on", lazy="selectin", viewonly=True
    )
    history: Mapped[list[SoberStatusChange]] = relationship(
        order_by="SoberStatusChange.id", lazy="selectin", viewonly=True
    )


class SoberSignatory(Base):
    """A person who signed the record of the gathering: name and role only."""

    __tablename__ = "sober_signatory"
    __table_args__ = (CheckConstraint(f"role IN {SIGNATORY_ROLES!r}", name="role_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    declaration_id: Mapped[int] = mapped_column(ForeignKey("sober_declaration.id"), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer, default=0)


class SoberOutlet(Base):
    """A local retail outlet and the date it voluntarily stopped selling alcohol."""

    __tablename__ = "sober_outlet"

    id: Mapped[int] = mapped_column(primary_key=True)
    declaration_id: Mapped[int] = mapped_column(ForeignKey("sober_declaration.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    stopped_on: Mapped[dt.date] = mapped_column(Date)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SoberStatusChange(Base):
    """One step of a declaration's status: who, when and why."""

    __tablename__ = "sober_status_change"
    __table_args__ = (
        CheckConstraint(f"to_status IN {DECLARATION_STATUSES!r}", name="to_status_known"),
        CheckConstraint(
            f"from_status IS NULL OR from_status IN {DECLARATION_STATUSES!r}",
            name="from_status_known",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    declaration_id: Mapped[int] = mapped_column(ForeignKey("sober_declaration.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(10))
    to_status: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    actor = relationship("User", lazy="joined", viewonly=True)


class IndicatorKind(Base):
    """A kind of outcome indicator (data, editable by admins) with its names."""

    __tablename__ = "sober_indicator_kind"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_kk: Mapped[str] = mapped_column(String(200))
    name_ru: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    def name(self, locale: str) -> str:
        """Return the name in ``locale``."""
        return {"ru": self.name_ru, "en": self.name_en}.get(locale, self.name_kk)


class IndicatorValue(Base):
    """The figure of one indicator for one settlement and one quarter (a count, never negative)."""

    __tablename__ = "sober_indicator_value"
    __table_args__ = (
        UniqueConstraint("unit_id", "kind", "year", "quarter", name="one_per_quarter"),
        CheckConstraint("quarter BETWEEN 1 AND 4", name="quarter_known"),
        CheckConstraint("value >= 0", name="value_nonneg"),
        CheckConstraint(f"source IN {VALUE_SOURCES!r}", name="source_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    kind: Mapped[str] = mapped_column(ForeignKey("sober_indicator_kind.code"))
    year: Mapped[int] = mapped_column(Integer)
    quarter: Mapped[int] = mapped_column(Integer)
    value: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(8), default="manual")
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    entered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Initiative(Base):
    """An initiative of activists or the rural akim for their settlement.

    ``status`` is what the coordinators decided; a supported initiative is what the reward
    commission may be asked to reward.
    """

    __tablename__ = "sober_initiative"
    __table_args__ = (
        CheckConstraint(f"status IN {INITIATIVE_STATUSES!r}", name="status_known"),
        CheckConstraint(f"proposer_role IN {PROPOSER_ROLES!r}", name="proposer_role_known"),
        CheckConstraint(
            "status NOT IN ('supported', 'declined') OR decided_at IS NOT NULL",
            name="decided_known",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    measures: Mapped[str] = mapped_column(Text)
    team: Mapped[str] = mapped_column(Text)
    requested_incentive: Mapped[str] = mapped_column(Text)
    proposer_role: Mapped[str] = mapped_column(String(12), default="activist")
    status: Mapped[str] = mapped_column(String(12), default="submitted", index=True)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    unit: Mapped[AdminUnit] = relationship(lazy="joined")
    submitted_by = relationship("User", foreign_keys=[submitted_by_id], viewonly=True)
    comments: Mapped[list[InitiativeComment]] = relationship(
        order_by="InitiativeComment.id", lazy="selectin", viewonly=True
    )


class InitiativeComment(Base):
    """A comment on an initiative; a review step also records the status it moved to."""

    __tablename__ = "sober_initiative_comment"
    __table_args__ = (
        CheckConstraint(
            f"to_status IS NULL OR to_status IN {INITIATIVE_STATUSES!r}", name="to_status_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("sober_initiative.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    body: Mapped[str] = mapped_column(Text)
    to_status: Mapped[str | None] = mapped_column(String(12))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author = relationship("User", lazy="joined", viewonly=True)
