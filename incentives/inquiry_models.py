"""Deputies' inquiries: a question on a financial record, the akimat's answers, the history."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime, utcnow

OBJECT_TYPES = ("budget_line", "maslikhat_decision", "commission_session", "payout")
INQUIRY_STATUSES = ("open", "answered", "closed")
MESSAGE_KINDS = ("question", "answer", "follow_up")


class Inquiry(Base):
    """A deputy's question on one record of their jurisdiction, with its deadline and status.

    ``object_id`` is the id the record's page is addressed by (for a payout: the approved
    agenda item). ``unit_id`` is the record's jurisdiction, copied so queues filter by scope.
    """

    __tablename__ = "inquiry"
    __table_args__ = (
        CheckConstraint(f"object_type IN {OBJECT_TYPES!r}", name="object_type_known"),
        CheckConstraint(f"status IN {INQUIRY_STATUSES!r}", name="status_known"),
        CheckConstraint(
            "(status = 'closed') = (closed_at IS NOT NULL)", name="closed_when_closed_at"
        ),
        Index("ix_inquiry_object", "object_type", "object_id"),
        # The akimat's queue reads the inquiries still waiting for an answer by deadline.
        Index(
            "ix_inquiry_waiting",
            "unit_id",
            "deadline",
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    object_type: Mapped[str] = mapped_column(String(30))
    object_id: Mapped[int] = mapped_column(Integer)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="open")
    deadline: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    messages: Mapped[list[InquiryMessage]] = relationship(
        back_populates="inquiry", order_by="InquiryMessage.id"
    )

    def overdue(self, today: dt.date) -> bool:
        """Tell whether the akimat still owes an answer after the deadline."""
        return self.status == "open" and today > self.deadline


class InquiryMessage(Base):
    """One message of an inquiry: the question, an answer or a deputy's follow-up."""

    __tablename__ = "inquiry_message"
    __table_args__ = (
        CheckConstraint(f"kind IN {MESSAGE_KINDS!r}", name="kind_known"),
        CheckConstraint("length(trim(body)) > 0", name="body_not_blank"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiry.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    inquiry: Mapped[Inquiry] = relationship(back_populates="messages")
