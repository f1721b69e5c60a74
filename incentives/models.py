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
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, synonym

from core.db import Base, UTCDateTime, utcnow
from core.sealing import Sealed
from incentives.sober_models import Initiative
from volunteers.models import Member

FORMS = ("thanks", "certificate", "valuable_gift", "cash")
MONEY_FORMS = ("valuable_gift", "cash")
COMMISSION_ROLES = ("chair", "deputy_chair", "secretary", "member")
NOMINATION_STATUSES = ("draft", "submitted", "on_agenda", "approved", "rejected", "deferred")
SESSION_STATUSES = ("planned", "open", "closed", "minutes_final")
CHOICES = ("for", "against", "abstain", "recused")
OUTCOMES = ("approved", "rejected", "deferred")
# Who presides and casts the deciding vote of a tie when the chair is absent.
STAND_INS = ("deputy_chair", "nobody")
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
    # The act that sets the annual cap per person (it may differ from ``resolution``).
    annual_cap_basis: Mapped[str] = mapped_column(String(300), default="", server_default="")
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
    """The reward commission under an akimat (one per jurisdiction), with its rules of procedure.

    ``secretary_votes``: whether the secretary is a voting member (if not, the secretary counts
    neither for the quorum nor among the voters). ``chair_stand_in``: who presides and casts
    the deciding vote of a tie when the chair is absent.
    """

    __tablename__ = "commission"
    __table_args__ = (CheckConstraint(f"chair_stand_in IN {STAND_INS!r}", name="stand_in_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), unique=True)
    # Every official document is wholly in one language: names in Kazakh and in Russian.
    name_kk: Mapped[str] = mapped_column(String(300))
    name_ru: Mapped[str] = mapped_column(String(300))
    # The akimat that issues the commission's documents and the register's certificates,
    # as its letterhead names it ("Бұқар жырау ауданының әкімдігі").
    body_kk: Mapped[str] = mapped_column(String(300), default="")
    body_ru: Mapped[str] = mapped_column(String(300), default="")
    secretary_votes: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    chair_stand_in: Mapped[str] = mapped_column(
        String(15), default="deputy_chair", server_default="deputy_chair"
    )
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
    # The office held, e.g. deputy akim, in Kazakh and in Russian (both or neither).
    position_kk: Mapped[str] = mapped_column(String(300), default="")
    position_ru: Mapped[str] = mapped_column(String(300), default="")
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
        # The order of a reward: the akimat's act and the signed scan only on final minutes.
        CheckConstraint(
            "(act_number IS NULL AND act_date IS NULL) OR (status = 'minutes_final'"
            " AND act_number IS NOT NULL AND act_date IS NOT NULL)",
            name="act_on_final_minutes",
        ),
        CheckConstraint(
            "scan_file_id IS NULL OR status = 'minutes_final'", name="scan_on_final_minutes"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    commission_id: Mapped[int] = mapped_column(ForeignKey("commission.id"), index=True)
    held_on: Mapped[dt.date] = mapped_column(Date)
    place_kk: Mapped[str] = mapped_column(String(300))
    place_ru: Mapped[str] = mapped_column(String(300))
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
        # Only an approved item holds a commitment, and a nomination is approved at most once.
        CheckConstraint(
            "ledger_entry_id IS NULL OR outcome = 'approved'", name="commitment_only_approved"
        ),
        Index(
            "uq_agenda_item_approved_nomination",
            "nomination_id",
            unique=True,
            postgresql_where=text("outcome = 'approved'"),
            sqlite_where=text("outcome = 'approved'"),
        ),
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
    declarations: Mapped[list[ConflictDeclaration]] = relationship(
        order_by="ConflictDeclaration.id", viewonly=True
    )


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


class ConflictDeclaration(Base):
    """A member's declared conflict of interest on an agenda item: they are recused from it."""

    __tablename__ = "conflict_declaration"
    __table_args__ = (
        UniqueConstraint("item_id", "commission_member_id", name="once_per_item"),
        CheckConstraint("length(reason) > 0", name="has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("agenda_item.id"), index=True)
    commission_member_id: Mapped[int] = mapped_column(ForeignKey("commission_member.id"))
    reason: Mapped[str] = mapped_column(Text)
    declared_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    commission_member: Mapped[CommissionMember] = relationship(lazy="joined")


class Payout(Base):
    """Paying (or handing over) an approved reward; money moves only through the ledger."""

    __tablename__ = "payout"
    __table_args__ = (
        CheckConstraint(f"status IN {PAYOUT_STATUSES!r}", name="status_known"),
        # Gross is what the commission's decision costs the line; the tax withheld from it is
        # spent too (paid to the budget by the finance department), the recipient gets net.
        CheckConstraint(
            "withheld_tiyn >= 0 AND net_tiyn >= 0 AND gross_tiyn = withheld_tiyn + net_tiyn",
            name="gross_is_withheld_plus_net",  # and so all three >= 0
        ),
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
    gross_tiyn: Mapped[int] = mapped_column(BigInteger)
    withheld_tiyn: Mapped[int] = mapped_column(BigInteger, default=0)
    net_tiyn: Mapped[int] = mapped_column(BigInteger)
    # The amount that left the line, under the name reports, flags and exports have read.
    amount_tiyn = synonym("gross_tiyn")
    # The rate the withholding was computed with (none entered: nothing withheld).
    tax_rate_id: Mapped[int | None] = mapped_column(ForeignKey("payout_tax_rate.id"))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    # The form's key and the fingerprint of what it asked for: a re-sent form with the same
    # details is the same payout, with other details it is refused (see incentives.payouts).
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    request_hash: Mapped[str | None] = mapped_column(String(64))
    iban: Mapped[str | None] = mapped_column(Sealed("iban", 120))
    order_number: Mapped[str | None] = mapped_column(String(40))
    order_date: Mapped[dt.date | None] = mapped_column(Date)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    ledger_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    item: Mapped[AgendaItem] = relationship()


class PayoutTaxRate(Base):
    """A rate of tax withheld from rewards of one form, from a date, in a jurisdiction.

    Entered by the jurisdiction's finance officer with its legal basis; the portal never
    assumes a rate. ``exempt_tiyn`` of every payout is free of tax (0: none). The rate of the
    nearest jurisdiction up the tree with the latest ``effective_from`` on the payment date
    applies.
    """

    __tablename__ = "payout_tax_rate"
    __table_args__ = (
        UniqueConstraint("unit_id", "form", "effective_from", name="once_per_day"),
        CheckConstraint(f"form IN {MONEY_FORMS!r}", name="form_known"),
        CheckConstraint("rate_bp >= 0 AND rate_bp <= 10000", name="rate_in_range"),
        CheckConstraint("exempt_tiyn >= 0", name="exempt_nonneg"),
        CheckConstraint("length(legal_basis) > 0", name="has_legal_basis"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    form: Mapped[str] = mapped_column(String(14))
    effective_from: Mapped[dt.date] = mapped_column(Date)
    rate_bp: Mapped[int] = mapped_column(Integer)  # basis points: 1000 = 10 %
    exempt_tiyn: Mapped[int] = mapped_column(BigInteger, default=0)
    legal_basis: Mapped[str] = mapped_column(Text)
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    entered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
