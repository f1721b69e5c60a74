"""Tables of hearings, complaints, legal grounds, review bodies and their document counters."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
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

# The burdensome acts preceded by a hearing (APPK Art. 73), and what each one concerns.
ACT_KINDS = (
    "refuse_registration",
    "suspend",
    "expel",
    "refuse_reward",
    "defer_reward",
    "decline_initiative",
)
SUBJECT_TYPES = ("application", "member", "nomination", "sober_initiative")
HEARING_STATUSES = ("drafted", "notified", "heard", "adopted", "withdrawn")
LIVE_HEARING = ("drafted", "notified", "heard")
# Art. 73(4): no hearing when the person waived it, in urgency, or for a short-term measure.
EXCEPTION_KINDS = ("person_waived", "urgency", "short_term")
OBJECTION_CHANNELS = ("portal", "paper", "oral")
PROTOCOL_MODES = ("in_person", "video")
COMPLAINT_KINDS = ("act", "inaction", "police")
COMPLAINT_CHANNELS = ("portal", "paper")
COMPLAINT_STATUSES = ("registered", "granted", "forwarded", "decided")
# Art. 100(1): what the body reviewing the complaint decides.
OUTCOMES = ("cancel", "cancel_new_act", "perform_action", "unsatisfied", "returned", "unconsidered")
# The outcomes that send the subject back to the issuing body to decide again.
OVERTURNING = ("cancel", "cancel_new_act", "perform_action", "returned")
COUNTER_KINDS = ("complaint", "act")
# How a notice reached a person without an electronic channel (Art. 66), recorded by staff.
DELIVERY_WAYS = ("by_hand", "post", "courier", "in_office")
# A person's free text (at most appeals.hearing_common.MAX_TEXT = 4000 characters), sealed:
# 4 bytes a character at worst, the AES-GCM nonce and tag, base64url and the key prefix.
SEALED_TEXT = 21400
# A complainant's text (appeals.complaint_rules.MAX_TEXT = 10000 characters), sealed likewise.
SEALED_COMPLAINT_TEXT = 53400


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class LegalGround(Base):
    """A legal ground an act may rest on, with its article: data the akimat edits."""

    __tablename__ = "legal_ground"
    __table_args__ = (CheckConstraint(_in("act_kind", ACT_KINDS), name="act_kind_known"),)

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    act_kind: Mapped[str] = mapped_column(String(30), index=True)
    article: Mapped[str] = mapped_column(String(300))
    text_kk: Mapped[str] = mapped_column(Text)
    text_ru: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def text(self, locale: str) -> str:
        """Return the text in ``locale``."""
        return {"ru": self.text_ru, "en": self.text_en}.get(locale, self.text_kk)


class AppealSetting(Base):
    """Which body reviews complaints against a jurisdiction's acts (the nearest ancestor's row)."""

    __tablename__ = "appeal_setting"
    __table_args__ = (
        CheckConstraint(
            "review_unit_id IS NOT NULL OR reviewer_id IS NOT NULL", name="has_reviewer"
        ),
    )

    unit_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), primary_key=True)
    review_unit_id: Mapped[int | None] = mapped_column(ForeignKey("admin_unit.id"))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    body_kk: Mapped[str] = mapped_column(String(300))
    body_ru: Mapped[str] = mapped_column(String(300))
    how_kk: Mapped[str] = mapped_column(Text, default="")
    how_ru: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AppealCounter(Base):
    """The last number given per kind (complaint, act) and year, taken under a row lock."""

    __tablename__ = "appeal_counter"
    __table_args__ = (
        PrimaryKeyConstraint("kind", "year", name="pk_appeal_counter"),
        CheckConstraint(_in("kind", COUNTER_KINDS), name="kind_known"),
        CheckConstraint("last >= 0", name="last_nonneg"),
    )

    kind: Mapped[str] = mapped_column(String(10))
    year: Mapped[int] = mapped_column(Integer)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Hearing(Base):
    """The hearing of a person before a burdensome act (Arts. 73-74), and the act adopted."""

    __tablename__ = "hearing"
    __table_args__ = (
        CheckConstraint(_in("status", HEARING_STATUSES), name="status_known"),
        CheckConstraint(_in("act_kind", ACT_KINDS), name="act_kind_known"),
        CheckConstraint(_in("subject_type", SUBJECT_TYPES), name="subject_type_known"),
        CheckConstraint(
            "delivery_way IS NULL OR " + _in("delivery_way", DELIVERY_WAYS),
            name="delivery_way_known",
        ),
        CheckConstraint(
            "exception_kind IS NULL OR " + _in("exception_kind", EXCEPTION_KINDS),
            name="exception_kind_known",
        ),
        CheckConstraint(
            "exception_kind IS NULL OR length(coalesce(exception_reason, '')) > 0",
            name="exception_has_reason",
        ),
        CheckConstraint(
            "status <> 'adopted' OR (act_number IS NOT NULL AND adopted_at IS NOT NULL"
            " AND length(coalesce(act_reasons, '')) > 0)",
            name="adopted_complete",
        ),
        CheckConstraint(
            "status <> 'withdrawn' OR length(coalesce(withdrawn_reason, '')) > 0",
            name="withdrawn_has_reason",
        ),
        Index(
            "uq_hearing_live_subject",
            "subject_type",
            "subject_id",
            "act_kind",
            unique=True,
            postgresql_where=text("status IN ('drafted', 'notified', 'heard')"),
            sqlite_where=text("status IN ('drafted', 'notified', 'heard')"),
        ),
        Index("ix_hearing_subject", "subject_type", "subject_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    act_kind: Mapped[str] = mapped_column(String(30))
    subject_type: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    sitting_id: Mapped[int | None] = mapped_column(ForeignKey("commission_session.id"), index=True)
    # The volunteers person key (the IIN's blind index), never the IIN itself.
    person_key: Mapped[str | None] = mapped_column(String(64), index=True)
    person_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    person_name: Mapped[str] = mapped_column(String(300))
    grounds: Mapped[list] = mapped_column(JSON, default=list)
    grounds_text: Mapped[str] = mapped_column(Sealed("grounds_text", SEALED_TEXT), default="")
    status: Mapped[str] = mapped_column(String(12), default="drafted", index=True)
    drafted_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    drafted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    notified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Art. 66: without an electronic channel the terms run from the recorded paper delivery.
    delivered_on: Mapped[dt.date | None] = mapped_column(Date)
    delivery_way: Mapped[str | None] = mapped_column(String(20))
    objection_due_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    earliest_act_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    oral_requested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    exception_kind: Mapped[str | None] = mapped_column(String(20))
    exception_reason: Mapped[str | None] = mapped_column(Text)
    act_number: Mapped[str | None] = mapped_column(String(60))
    act_on: Mapped[dt.date | None] = mapped_column(Date)
    act_reasons: Mapped[str | None] = mapped_column(Text)
    adopted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    adopted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Art. 96: why the act is executed although a complaint is filed against it.
    execution_exception: Mapped[str | None] = mapped_column(Text)
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # What the act said on adoption about how to appeal (Arts. 80, 92(1-1)): a later change of
    # appeals.settings changes neither the act's text nor its complaint term.
    appeal_notice_given: Mapped[bool | None] = mapped_column(Boolean)
    # The day a paper copy of the act reached the person: the complaint term runs from it.
    act_received_on: Mapped[dt.date | None] = mapped_column(Date)
    review_body_kk: Mapped[str | None] = mapped_column(String(300))
    review_body_ru: Mapped[str | None] = mapped_column(String(300))
    review_how_kk: Mapped[str | None] = mapped_column(Text)
    review_how_ru: Mapped[str | None] = mapped_column(Text)
    # A sitting's hearing: how the secretary says the objections were considered (the reasons).
    stated_reasons: Mapped[str | None] = mapped_column(Text)

    unit: Mapped[AdminUnit] = relationship(lazy="joined")
    objections: Mapped[list[HearingObjection]] = relationship(
        order_by="HearingObjection.id", viewonly=True
    )
    protocol: Mapped[HearingProtocol | None] = relationship(viewonly=True, uselist=False)


class HearingObjection(Base):
    """An objection of the person to the drafted act, entered by them or by staff."""

    __tablename__ = "hearing_objection"
    __table_args__ = (CheckConstraint(_in("channel", OBJECTION_CHANNELS), name="channel_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hearing_id: Mapped[int] = mapped_column(ForeignKey("hearing.id"), index=True)
    body: Mapped[str] = mapped_column(Sealed("objection", SEALED_TEXT))
    channel: Mapped[str] = mapped_column(String(10))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    late: Mapped[bool] = mapped_column(Boolean, default=False)


class HearingProtocol(Base):
    """The protocol of an oral hearing (Art. 74), with the person's remarks on it."""

    __tablename__ = "hearing_protocol"
    __table_args__ = (CheckConstraint(_in("mode", PROTOCOL_MODES), name="mode_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hearing_id: Mapped[int] = mapped_column(ForeignKey("hearing.id"), unique=True)
    held_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    mode: Mapped[str] = mapped_column(String(12))
    attendees: Mapped[str] = mapped_column(Sealed("attendees", SEALED_TEXT))
    body: Mapped[str] = mapped_column(Sealed("protocol", SEALED_TEXT))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    signed_on: Mapped[dt.date] = mapped_column(Date)
    # Art. 74(4): signed within 2 working days of the hearing; a later signing is kept, flagged.
    signed_late: Mapped[bool] = mapped_column(Boolean, default=False)
    remarks_due_on: Mapped[dt.date] = mapped_column(Date)
    remarks: Mapped[str | None] = mapped_column(Sealed("remarks", SEALED_TEXT))
    remarks_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Complaint(Base):
    """A complaint against an act, an inaction or a police refusal (Arts. 91-101)."""

    __tablename__ = "complaint"
    __table_args__ = (
        CheckConstraint(_in("status", COMPLAINT_STATUSES), name="status_known"),
        CheckConstraint(_in("kind", COMPLAINT_KINDS), name="kind_known"),
        CheckConstraint(_in("channel", COMPLAINT_CHANNELS), name="channel_known"),
        CheckConstraint(_in("subject_type", SUBJECT_TYPES), name="subject_type_known"),
        CheckConstraint("act_kind IS NULL OR " + _in("act_kind", ACT_KINDS), name="act_kind_known"),
        CheckConstraint("outcome IS NULL OR " + _in("outcome", OUTCOMES), name="outcome_known"),
        CheckConstraint("kind <> 'act' OR hearing_id IS NOT NULL", name="act_has_hearing"),
        CheckConstraint(
            "status <> 'decided' OR (outcome IS NOT NULL AND decided_at IS NOT NULL)",
            name="decided_complete",
        ),
        CheckConstraint("length(complainant_iin_index) = 64", name="iin_index_length"),
        # One complaint under way per person, kind and subject (a double submit is a 409).
        Index(
            "uq_complaint_live_subject",
            "person_key",
            "kind",
            "subject_type",
            "subject_id",
            unique=True,
            postgresql_where=text("status IN ('registered', 'forwarded')"),
            sqlite_where=text("status IN ('registered', 'forwarded')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    kind: Mapped[str] = mapped_column(String(12))
    hearing_id: Mapped[int | None] = mapped_column(ForeignKey("hearing.id"), index=True)
    subject_type: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[int] = mapped_column(Integer)
    act_kind: Mapped[str | None] = mapped_column(String(30))
    unit_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    person_key: Mapped[str] = mapped_column(String(64), index=True)
    person_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    complainant_name: Mapped[str] = mapped_column(String(300))
    complainant_iin: Mapped[str] = mapped_column(Sealed("iin", 120))
    complainant_iin_index: Mapped[str] = mapped_column(String(64))
    complainant_address: Mapped[str] = mapped_column(Sealed("address", 1200))
    complainant_contact: Mapped[str | None] = mapped_column(Sealed("contact", 440))
    act_challenged: Mapped[str] = mapped_column(Sealed("complaint_text", SEALED_COMPLAINT_TEXT))
    grounds: Mapped[str] = mapped_column(Sealed("complaint_text", SEALED_COMPLAINT_TEXT))
    request: Mapped[str] = mapped_column(Sealed("complaint_text", SEALED_COMPLAINT_TEXT))
    channel: Mapped[str] = mapped_column(String(10))
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    filed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    registered_on: Mapped[dt.date] = mapped_column(Date)
    term_ends_on: Mapped[dt.date] = mapped_column(Date)
    late_restored_reason: Mapped[str | None] = mapped_column(Text)
    # Art. 92(2): the body's reasons for restoring a missed term of complaint.
    term_restored_reasons: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="registered", index=True)
    forward_due_on: Mapped[dt.date] = mapped_column(Date, index=True)
    forwarded_on: Mapped[dt.date | None] = mapped_column(Date)
    review_due_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    review_unit_id: Mapped[int | None] = mapped_column(ForeignKey("admin_unit.id"))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    execution_stayed: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[str | None] = mapped_column(String(20))
    outcome_reasons: Mapped[str | None] = mapped_column(Text)
    to_fix: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    unit: Mapped[AdminUnit] = relationship(lazy="joined", foreign_keys=[unit_id])
    hearing: Mapped[Hearing | None] = relationship(viewonly=True)
    attachments: Mapped[list[ComplaintAttachment]] = relationship(
        order_by="ComplaintAttachment.id", viewonly=True
    )

    @validates("complainant_iin")
    def _index_iin(self, _key, value):
        self.complainant_iin_index = blind_index(value, "iin")
        return value


class ComplaintAttachment(Base):
    """A file attached to a complaint (a scan of the signed paper, evidence)."""

    __tablename__ = "complaint_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"), index=True)
    stored_file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id"))
    label: Mapped[str] = mapped_column(String(200), default="")
