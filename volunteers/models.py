"""Tables of enrolment and the register: applications, consents, members, units, counters."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from core.db import Base, UTCDateTime, utcnow
from core.places import AdminUnit
from core.sealing import Sealed, blind_index
from core.search_text import KEY_LENGTH, key_default, search_key

KINDS = ("public_assistant", "patrol_member")
APPLICATION_STATUSES = (
    "submitted",
    "police_check",
    "refused",
    "petitioned",
    "registered",
    "withdrawn",
)
MEMBER_STATUSES = ("active", "suspended", "expelled", "withdrawn", "expired")
CHANNELS = ("web", "walk_in", "import")
CHECK_OUTCOMES = ("passed", "refused")
# Who refused an application: the police check, or the akimat after a hearing (appeals).
REFUSERS = ("police", "akimat")


class ConsentText(Base):
    """A version of the consent to personal-data processing, in the three languages."""

    __tablename__ = "consent_text"

    version: Mapped[str] = mapped_column(String(20), primary_key=True)
    effective_from: Mapped[dt.date] = mapped_column(Date)
    text_kk: Mapped[str] = mapped_column(Text)
    text_ru: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)

    def text(self, locale: str) -> str:
        """Return the text in ``locale``."""
        return {"ru": self.text_ru, "en": self.text_en}.get(locale, self.text_kk)


class PatrolUnit(Base):
    """A volunteer patrol or public-assistant formation working in a jurisdiction."""

    __tablename__ = "patrol_unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    leader_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", use_alter=True, name="fk_patrol_unit_leader_member_id_member")
    )
    coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    unit: Mapped[AdminUnit] = relationship(lazy="joined")


class Application(Base):
    """A citizen's application to become a public assistant or patrol member.

    ``live`` is true while the application or the membership it led to is current; the
    partial unique index on (iin, kind) over live rows makes "one at a time" a database rule.
    """

    __tablename__ = "application"
    __table_args__ = (
        CheckConstraint(f"kind IN {KINDS!r}", name="kind_known"),
        CheckConstraint(f"status IN {APPLICATION_STATUSES!r}", name="status_known"),
        # The IIN itself is sealed (core.sealing); its blind index is an HMAC-SHA256 in hex.
        CheckConstraint("length(iin_index) = 64", name="iin_index_length"),
        CheckConstraint(
            "is_citizen AND no_criminal_record AND not_on_register", name="declarations_made"
        ),
        CheckConstraint(
            "status <> 'refused' OR length(coalesce(refusal_reason, '')) > 0",
            name="refusal_has_reason",
        ),
        CheckConstraint(
            "check_outcome IS NULL OR check_outcome IN ('passed', 'refused')",
            name="outcome_known",
        ),
        # The legal order as constraints (migration 0012): the akimat is petitioned and
        # registers only after a passed check; only the check refuses; a closed one is not live.
        CheckConstraint(
            "status NOT IN ('petitioned', 'registered') OR coalesce(check_outcome, '') = 'passed'",
            name="passed_before_petition",
        ),
        CheckConstraint(
            "status <> 'refused' OR coalesce(check_outcome, '') = 'refused'"
            " OR coalesce(refused_by, '') = 'akimat'",
            name="refused_by_check",
        ),
        CheckConstraint(
            "refused_by IS NULL OR refused_by IN ('police', 'akimat')", name="refused_by_known"
        ),
        CheckConstraint(
            "status NOT IN ('refused', 'withdrawn') OR NOT live", name="closed_not_live"
        ),
        Index(
            "uq_application_live_iin_kind",
            "iin_index",
            "kind",
            unique=True,
            postgresql_where=text("live"),
            sqlite_where=text("live"),
        ),
        # The closed rows whose personal data retention has not treated yet (volunteers.erasure).
        Index(
            "ix_application_retention_pending",
            "id",
            postgresql_where=text("erased_at IS NULL AND NOT live"),
            sqlite_where=text("erased_at IS NULL AND NOT live"),
        ),
        Index(
            "ix_application_search_name",
            "search_name",
            postgresql_using="gin",
            postgresql_ops={"search_name": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="submitted", index=True)
    live: Mapped[bool] = mapped_column(Boolean, default=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    patrol_unit_id: Mapped[int | None] = mapped_column(ForeignKey("patrol_unit.id"))
    applicant_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    channel: Mapped[str] = mapped_column(String(10), default="web")
    # Sealed at rest; ``iin_index`` (a keyed hash) is what SQL compares (core.sealing).
    iin: Mapped[str] = mapped_column(Sealed("iin", 120))
    iin_index: Mapped[str] = mapped_column(String(64), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    # The name's search key (core.search_text), kept by ``_key_name``; "" once erased.
    search_name: Mapped[str | None] = mapped_column(String(KEY_LENGTH), default=key_default)
    birth_date: Mapped[dt.date] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(Sealed("phone", 120))
    email: Mapped[str | None] = mapped_column(Sealed("email", 440))
    # 400 characters of Kazakh or Russian are up to 800 bytes: sealed, 1,100 characters.
    address: Mapped[str] = mapped_column(Sealed("address", 1200))
    is_citizen: Mapped[bool] = mapped_column(Boolean)
    no_criminal_record: Mapped[bool] = mapped_column(Boolean)
    not_on_register: Mapped[bool] = mapped_column(Boolean)
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    police_due_on: Mapped[dt.date] = mapped_column(Date)
    check_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    check_outcome: Mapped[str | None] = mapped_column(String(10))
    checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    refused_by: Mapped[str | None] = mapped_column(String(10))
    petitioned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    registration_due_on: Mapped[dt.date | None] = mapped_column(Date)
    registered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Set when retention erased or anonymised the personal fields (volunteers.erasure).
    erased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    unit: Mapped[AdminUnit] = relationship(lazy="joined")
    patrol_unit: Mapped[PatrolUnit | None] = relationship()
    consents: Mapped[list[Consent]] = relationship(
        back_populates="application", order_by="Consent.id"
    )

    @validates("iin")
    def _index_iin(self, _key, value):
        self.iin_index = blind_index(value, "iin")
        return value

    @validates("full_name")
    def _key_name(self, _key, value):
        self.search_name = search_key(value)
        return value

    def overdue(self, today: dt.date) -> bool:
        """Tell whether a legal deadline of the current step has passed."""
        if self.status in ("submitted", "police_check"):
            return today > self.police_due_on
        if self.status == "petitioned" and self.registration_due_on:
            return today > self.registration_due_on
        return False


class Consent(Base):
    """Consent to personal-data processing: version, time and channel, and its withdrawal."""

    __tablename__ = "consent"
    __table_args__ = (
        CheckConstraint(f"channel IN {CHANNELS!r}", name="channel_known"),
        CheckConstraint(
            "withdrawn_at IS NULL OR withdrawal_channel IS NOT NULL", name="withdrawal_channel"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    version: Mapped[str] = mapped_column(ForeignKey("consent_text.version"))
    given_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    channel: Mapped[str] = mapped_column(String(10))
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    withdrawal_channel: Mapped[str | None] = mapped_column(String(10))

    application: Mapped[Application] = relationship(back_populates="consents")


class Member(Base):
    """An entry of the akimat's register, with its certificate."""

    __tablename__ = "member"
    __table_args__ = (
        CheckConstraint(f"kind IN {KINDS!r}", name="kind_known"),
        CheckConstraint(f"status IN {MEMBER_STATUSES!r}", name="status_known"),
        CheckConstraint("expires_on > issued_on", name="validity_positive"),
        # The register lists members by name: a region's first page is read in this index's
        # order (83 -> 0.4 ms at 50,000 members, issue 16), not by sorting the region.
        Index("ix_member_name", "full_name", "id"),
        Index(
            "ix_member_search_name",
            "search_name",
            postgresql_using="gin",
            postgresql_ops={"search_name": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    iin: Mapped[str] = mapped_column(Sealed("iin", 120))
    iin_index: Mapped[str] = mapped_column(String(64), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    # The name's search key (core.search_text), kept by ``_key_name``; "" once erased.
    search_name: Mapped[str | None] = mapped_column(String(KEY_LENGTH), default=key_default)
    unit_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    patrol_unit_id: Mapped[int | None] = mapped_column(ForeignKey("patrol_unit.id"), index=True)
    coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    certificate_no: Mapped[str] = mapped_column(String(30), unique=True)
    verify_token: Mapped[str] = mapped_column(String(40), unique=True)
    issued_on: Mapped[dt.date] = mapped_column(Date)
    expires_on: Mapped[dt.date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(12), default="active", index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    erased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    unit: Mapped[AdminUnit] = relationship(lazy="joined")
    patrol_unit: Mapped[PatrolUnit | None] = relationship(foreign_keys=[patrol_unit_id])
    application: Mapped[Application] = relationship()
    history: Mapped[list[MemberStatusChange]] = relationship(
        order_by="MemberStatusChange.id.desc()"
    )

    @validates("iin")
    def _index_iin(self, _key, value):
        self.iin_index = blind_index(value, "iin")
        return value

    @validates("full_name")
    def _key_name(self, _key, value):
        self.search_name = search_key(value)
        return value


class MemberStatusChange(Base):
    """One change of a member's status, with the reason and who decided."""

    __tablename__ = "member_status_change"
    __table_args__ = (
        CheckConstraint(f"to_status IN {MEMBER_STATUSES!r}", name="to_status_known"),
        CheckConstraint(
            f"from_status IS NULL OR from_status IN {MEMBER_STATUSES!r}",
            name="from_status_known",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AttendanceSetting(Base):
    """Per-jurisdiction attendance settings, inherited down the tree like the register's.

    ``offline_limit_minutes``: how old a check-in or check-out tapped offline may be when it
    reaches the portal (0: only live taps are accepted). [I] data the akimat sets.
    """

    __tablename__ = "attendance_setting"
    __table_args__ = (
        CheckConstraint("offline_limit_minutes BETWEEN 0 AND 4320", name="offline_limit"),
    )

    unit_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), primary_key=True)
    offline_limit_minutes: Mapped[int] = mapped_column(Integer)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CertificateCounter(Base):
    """The last certificate sequence used per issuing unit and year."""

    __tablename__ = "certificate_counter"
    __table_args__ = (
        PrimaryKeyConstraint("unit_id", "year", name="pk_certificate_counter"),
        CheckConstraint("last >= 0", name="last_nonneg"),
    )

    unit_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"))
    year: Mapped[int] = mapped_column(Integer)
    last: Mapped[int] = mapped_column(Integer, default=0)


class MembershipSetting(Base):
    """Per-jurisdiction settings of the register (validity of a certificate), inherited down."""

    __tablename__ = "membership_setting"
    __table_args__ = (CheckConstraint("validity_months BETWEEN 1 AND 120", name="validity"),)

    unit_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), primary_key=True)
    validity_months: Mapped[int] = mapped_column(Integer)
