"""Tables of the budget: MCI rates, programs, maslikhat decisions, lines, amendments, ledger."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow

PURPOSES = ("citizen_rewards", "sober_settlement_incentives")
DECISION_KINDS = ("adoption", "clarification")
# A decision is entered by one finance officer and verified by another; only then do its
# amendments change the lines (budget.workflow.DECISION, applied by core.transitions.advance).
DECISION_STATUSES = ("entered", "verified")
ENTRY_KINDS = ("commit", "release", "disburse")


class MCIRate(Base):
    """The monthly calculation index of a year, in tiyn."""

    __tablename__ = "mci_rate"
    __table_args__ = (CheckConstraint("amount_tiyn > 0", name="positive"),)

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    amount_tiyn: Mapped[int] = mapped_column(BigInteger)


class BudgetProgram(Base):
    """A local budget program with its classification code parts (data, never constants)."""

    __tablename__ = "budget_program"
    __table_args__ = (
        UniqueConstraint(
            "unit_id",
            "fiscal_year",
            "functional_group",
            "sub_function",
            "administrator",
            "program",
            "sub_program",
            name="uq_budget_program_code",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    functional_group: Mapped[str] = mapped_column(String(4))
    sub_function: Mapped[str] = mapped_column(String(4))
    administrator: Mapped[str] = mapped_column(String(6))
    program: Mapped[str] = mapped_column(String(6))
    sub_program: Mapped[str] = mapped_column(String(6), default="")
    name_kk: Mapped[str] = mapped_column(String(400))
    name_ru: Mapped[str] = mapped_column(String(400))
    administrator_body: Mapped[str] = mapped_column(String(400))


class FiscalYearClosure(Base):
    """A jurisdiction's closed fiscal year: its lines take no new commitments."""

    __tablename__ = "fiscal_year_closure"

    unit_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    closed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class MaslikhatDecision(Base):
    """A decision of the maslikhat that adopts or clarifies budget lines; four eyes to apply."""

    __tablename__ = "maslikhat_decision"
    __table_args__ = (
        CheckConstraint(f"kind IN {DECISION_KINDS!r}", name="kind_known"),
        CheckConstraint(
            "verified_by_id IS NULL OR verified_by_id <> entered_by_id", name="four_eyes"
        ),
        CheckConstraint(f"status IN {DECISION_STATUSES!r}", name="status_known"),
        # The state and its record agree: a verified decision names who verified it and when.
        CheckConstraint(
            "(status = 'entered' AND verified_by_id IS NULL AND verified_at IS NULL)"
            " OR (status = 'verified' AND verified_by_id IS NOT NULL AND verified_at IS NOT NULL)",
            name="verification_recorded",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    number: Mapped[str] = mapped_column(String(40))
    decided_on: Mapped[dt.date] = mapped_column(Date)
    session_number: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(15))
    reference: Mapped[str] = mapped_column(String(400))
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    entered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status: Mapped[str] = mapped_column(String(10), default="entered")
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class BudgetLine(Base):
    """Money approved for one purpose of a program; counters move only through the ledger."""

    __tablename__ = "budget_line"
    __table_args__ = (
        CheckConstraint(f"purpose IN {PURPOSES!r}", name="purpose_known"),
        CheckConstraint("approved_tiyn >= 0", name="approved_nonneg"),
        CheckConstraint("committed_tiyn >= 0", name="committed_nonneg"),
        CheckConstraint("disbursed_tiyn >= 0", name="disbursed_nonneg"),
        CheckConstraint("committed_tiyn + disbursed_tiyn <= approved_tiyn", name="within_approved"),
        UniqueConstraint("program_id", "purpose", name="uq_budget_line_program_purpose"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("budget_program.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(40))
    approved_tiyn: Mapped[int] = mapped_column(BigInteger, default=0)
    committed_tiyn: Mapped[int] = mapped_column(BigInteger, default=0)
    disbursed_tiyn: Mapped[int] = mapped_column(BigInteger, default=0)


class Amendment(Base):
    """A change of a line's approved amount by a decision; applied when the decision is verified."""

    __tablename__ = "amendment"
    __table_args__ = (CheckConstraint("delta_tiyn <> 0", name="nonzero"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("maslikhat_decision.id"), index=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("budget_line.id"), index=True)
    delta_tiyn: Mapped[int] = mapped_column(BigInteger)


class LedgerEntry(Base):
    """An append-only movement of money on a line, with the idempotency key that made it."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        CheckConstraint(f"kind IN {ENTRY_KINDS!r}", name="kind_known"),
        CheckConstraint("amount_tiyn > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("budget_line.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    amount_tiyn: Mapped[int] = mapped_column(BigInteger)
    reference_type: Mapped[str] = mapped_column(String(40))
    reference_id: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
