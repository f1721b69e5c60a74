"""Tables of rewards: policy, commission, nominations, sessions, votes, minutes and payouts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
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
from incentives.sober_models import Initiative
from volunteers.models import Member

FORMS = ("thanks", "certificate", "valuable_gift", "cash")
MONEY_FORMS = ("valuable_gift", "cash")
COMMISSION_ROLES = ("chair", "deputy_chair", "secretary", "member")
NOMINATION_STATUSES = ("draft", "submitted", "on_agenda", "approved", "rejected", "deferred")
SESSION_STATUSES = ("planned", "open", "closed", "minutes_final")
CHOICES = ("for", "against", "abstain", "recused")
OUTCOMES = ("approved", "rejected", "deferred")
PAYOUT_STATUSES = ("pending", "paid", "failed", "voided", "handed_over")


class RewardPolicy(Base):
    """The akimat's reward rules in force from a date, as its resolution sets them.

    Points per contribution kind are JSON {kind: points}; kinds it omits keep their default.
    """

    __tablename__ = "reward_policy"
    __table_args__ = (
        UniqueConstraint("unit_id", "effective_from", name="one_per_day"),
        CheckConstraint("cash_cap_mci > 0", name="cash_cap_positive"),
        CheckConstraint("annual_cap_mci >= cash_cap_mci", name="annual_cap_covers_one"),
        CheckConstraint(
            "quorum_numerator > 0 AND quorum_numerator <= quorum_denominator", name="quorum"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    effective_from: Mapped[dt.date] = mapped_column(Date)
    resolution: Mapped[str] = mapped_column(String(300))
    forms: Mapped[str] = mapped_column(String(100))  # comma-separated FORMS
    cash_cap_mci: Mapped[int] = mapped_column(Integer, default=15)
    annual_cap_mci: Mapped[int] = mapped_column(Integer, default=30)
    points: Mapped[str] = mapped_column(Text, default="{}")
    quorum_numerator: Mapped[int] = mapped_column(Integer, default=2)
    quorum_denominator: Mapped[int] = mapped_column(Integer, default=3)
    chair_breaks_tie: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def allowed_forms(self) -> list[str]:
        """Return the forms of reward this policy allows."""
        return [f for f in self.forms.split(",") if f]


class Commission(Base):
    """The reward commission under an akimat (one per jurisdiction)."""

    __tablename__ = "commission"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    members: Mapped[list[CommissionMember]] = relationship(
        back_populates="commission", order_by="CommissionMember.id"
    )


class CommissionMember(Base):
    """A person on the commission, with their role and term."""

    __tablename__ = "commission_member"
    __table_args__ = (
        CheckConstraint(f"role IN {COMMISSION_ROLES!r}", name="role_known"),
        CheckConstraint("term_to IS NULL OR term_to >= term_from", name="term_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    commission_id: Mapped[int] = mapped_column(ForeignKey("commission.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    role: Mapped[str] = mapped_column(String(15))
    position: Mapped[str] = mapped_column(String(300), default="")  # office held, e.g. deputy akim
    term_from: Mapped[dt.date] = mapped_column(Date)
    term_to: Mapped[dt.date | None] = mapped_column(Date)

    commission: Mapped[Commission] = relationship(back_populates="members")
    user = relationship("User", lazy="joined", viewonly=True)

    def serves_on(self, day: dt.date) -> bool:
        """Tell whether the member's term covers ``day``."""
        return self.term_from <= day and (self.term_to is None or day <= self.term_to)


class Nomination(Base):
    """A proposal to reward a member, backed by their confirmed contributions."""

    __tablename__ = "nomination"
    __table_args__ = (
        CheckConstraint(f"status IN {NOMINATION_STATUSES!r}", name="status_known"),
        CheckConstraint(f"form IN {FORMS!r}", name="form_known"),
        CheckConstraint(
            "(form IN ('valuable_gift', 'cash')) = (amount_tiyn > 0)", name="amount_for_money_forms"
        ),
        CheckConstraint("amount_tiyn >= 0", name="amount_nonneg"),
        CheckConstraint(
            "member_id IS NOT NULL OR (initiative_id IS NOT NULL AND recipient_name IS NOT NULL)",
            name="has_recipient",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    commission_id: Mapped[int] = mapped_column(ForeignKey("commission.id"), index=True)
    # A member of the register; or, for a sober-settlement initiative, whoever it names:
    # the activist (``recipient_user_id``) or the team / local administration collectively.
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"), index=True)
    initiative_id: Mapped[int | None] = mapped_column(ForeignKey("sober_initiative.id"), index=True)
    recipient_name: Mapped[str | None] = mapped_column(String(300))
    recipient_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    nominator_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    justification: Mapped[str] = mapped_column(Text)
    form: Mapped[str] = mapped_column(String(15))
    amount_tiyn: Mapped[int] = mapped_column(BigInteger, default=0)
    # What the nominator typed, for the record: "mci" or "tenge".
    entered_in: Mapped[str] = mapped_column(String(5), default="tenge")
    year: Mapped[int] = mapped_column(Integer)
    # Which budget line pays: citizen rewards, or sober-settlement incentives.
    purpose: Mapped[str] = mapped_column(String(40), default="citizen_rewards")
    status: Mapped[str] = mapped_column(String(12), default="draft", index=True)
    # JSON {"msg": English msgid, "params": {...}}: the portal shows it translated.
    outcome_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    member: Mapped[Member | None] = relationship(lazy="joined")
    commission: Mapped[Commission] = relationship()
    initiative: Mapped[Initiative | None] = relationship(lazy="joined", viewonly=True)

    @property
    def recipient(self) -> str:
        """Who is to be rewarded, as the minutes and lists name them."""
        return self.member.full_name if self.member else self.recipient_name

    @property
    def recipient_unit_id(self) -> int:
        """The jurisdiction of the person or initiative rewarded (for access checks)."""
        return self.member.unit_id if self.member else self.initiative.unit_id

    @property
    def recipient_user(self) -> int | None:
        """The account told about the outcome, if any."""
        return self.member.user_id if self.member else self.recipient_user_id


class NominationContribution(Base):
    """A confirmed contribution that supports a nomination.

    ``approved`` turns true when the nomination is approved; the partial unique index lets a
    contribution back only one approved nomination.
    """

    __tablename__ = "nomination_contribution"
    __table_args__ = (
        UniqueConstraint("nomination_id", "contribution_id", name="once_per_nomination"),
        Index(
            "uq_nomination_contribution_approved",
            "contribution_id",
            unique=True,
            postgresql_where=text("approved"),
            sqlite_where=text("approved"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(ForeignKey("nomination.id"), index=True)
    contribution_id: Mapped[int] = mapped_column(ForeignKey("contribution.id"), index=True)
    approved: Mapped[bool] = mapped_column(Boolean, default=False)


class CommissionSession(Base):
    """A sitting of the commission, its agenda, outcome, minutes and the akimat's act."""

    __tablename__ = "commission_session"
    __table_args__ = (
        CheckConstraint(f"status IN {SESSION_STATUSES!r}", name="status_known"),
        CheckConstraint(
            "status <> 'minutes_final' OR (minutes_hash IS NOT NULL AND minutes_kk IS NOT NULL"
            " AND minutes_ru IS NOT NULL)",
            name="final_minutes_complete",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    commission_id: Mapped[int] = mapped_column(ForeignKey("commission.id"), index=True)
    held_on: Mapped[dt.date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(300))
    on_paper: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(14), default="planned", index=True)
    opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    quorum_met: Mapped[bool | None] = mapped_column(Boolean)
    minutes_kk: Mapped[str | None] = mapped_column(Text)
    minutes_ru: Mapped[str | None] = mapped_column(Text)
    minutes_hash: Mapped[str | None] = mapped_column(String(64))
    minutes_final_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    scan_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))
    act_number: Mapped[str | None] = mapped_column(String(60))
    act_date: Mapped[dt.date | None] = mapped_column(Date)
    planned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    commission: Mapped[Commission] = relationship()
    items: Mapped[list[AgendaItem]] = relationship(
        back_populates="session", order_by="AgendaItem.position"
    )


class Attendance(Base):
    """Whether a commission member was present at a session."""

    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("session_id", "commission_member_id", name="once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("commission_session.id"), index=True)
    commission_member_id: Mapped[int] = mapped_column(ForeignKey("commission_member.id"))
    present: Mapped[bool] = mapped_column(Boolean)

    commission_member: Mapped[CommissionMember] = relationship(lazy="joined")


class AgendaItem(Base):
    """One nomination on a session's agenda, and what the session decided on it."""

    __tablename__ = "agenda_item"
    __table_args__ = (
        UniqueConstraint("session_id", "nomination_id", name="once_per_session"),
        CheckConstraint(f"outcome IS NULL OR outcome IN {OUTCOMES!r}", name="outcome_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("commission_session.id"), index=True)
    nomination_id: Mapped[int] = mapped_column(ForeignKey("nomination.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str | None] = mapped_column(String(10))
    outcome_reason: Mapped[str | None] = mapped_column(Text)  # JSON, as on Nomination
    votes_for: Mapped[int | None] = mapped_column(Integer)
    votes_against: Mapped[int | None] = mapped_column(Integer)
    abstained: Mapped[int | None] = mapped_column(Integer)
    recused: Mapped[int | None] = mapped_column(Integer)
    ledger_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"))
    line_id: Mapped[int | None] = mapped_column(ForeignKey("budget_line.id"))

    session: Mapped[CommissionSession] = relationship(back_populates="items")
    nomination: Mapped[Nomination] = relationship(lazy="joined")
    votes: Mapped[list[Vote]] = relationship(order_by="Vote.id")


class Vote(Base):
    """A present member's vote on an item, or their recusal with the reason."""

    __tablename__ = "vote"
    __table_args__ = (
        UniqueConstraint("item_id", "commission_member_id", name="one_per_member"),
        CheckConstraint(f"choice IN {CHOICES!r}", name="choice_known"),
        CheckConstraint(
            "choice <> 'recused' OR length(coalesce(reason, '')) > 0", name="recusal_has_reason"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("agenda_item.id"), index=True)
    commission_member_id: Mapped[int] = mapped_column(ForeignKey("commission_member.id"))
    choice: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str | None] = mapped_column(Text)
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)
    # The secretary, when the session was held on paper; else the member themself.
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    commission_member: Mapped[CommissionMember] = relationship(lazy="joined")


class Payout(Base):
    """Paying (or handing over) an approved reward; money moves only through the ledger."""

    __tablename__ = "payout"
    __table_args__ = (
        CheckConstraint(f"status IN {PAYOUT_STATUSES!r}", name="status_known"),
        CheckConstraint("amount_tiyn >= 0", name="amount_nonneg"),
        # One settled outcome per item: paid, handed over or voided (failures may repeat).
        Index(
            "uq_payout_live_item",
            "item_id",
            unique=True,
            postgresql_where=text("status IN ('pending', 'paid', 'handed_over', 'voided')"),
            sqlite_where=text("status IN ('pending', 'paid', 'handed_over', 'voided')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("agenda_item.id"), index=True)
    amount_tiyn: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    iban: Mapped[str | None] = mapped_column(String(34))
    order_number: Mapped[str | None] = mapped_column(String(40))
    order_date: Mapped[dt.date | None] = mapped_column(Date)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    ledger_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    item: Mapped[AgendaItem] = relationship()
