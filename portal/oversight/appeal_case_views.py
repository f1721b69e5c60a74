"""Deputies' read-only pages of one hearing or complaint: its terms, stages and outcome."""

from __future__ import annotations

import datetime as dt

from flask import render_template
from flask_login import current_user
from sqlalchemy import func, select

from appeals import documents, waiting
from appeals.models import (
    Complaint,
    ComplaintAttachment,
    Hearing,
    HearingObjection,
    HearingProtocol,
    LegalGround,
)
from core import clock, places
from core.accounts import users_by_id
from core.iin import mask_iin
from incentives.models import Nomination
from portal.appeals.hearing_views import complaint_documents, hearing_documents
from portal.extensions import db
from portal.i18n import translated
from portal.labels import (
    ACT_KIND_LABELS,
    APPEAL_OUTCOME_LABELS,
    AUDIT_OBJECT_LABELS,
    COMPLAINT_KIND_LABELS,
    COMPLAINT_STATUS_LABELS,
    EXCEPTION_KIND_LABELS,
    HEARING_STATUS_LABELS,
)
from portal.oversight.blueprint import bp
from portal.oversight.record_links import described
from portal.oversight.views import READERS, scope, trail
from portal.security import allow, get_in_scope
from volunteers.models import Application, Member

_LABELS = translated(
    CASE_ACT_KINDS=ACT_KIND_LABELS,
    CASE_HEARING_STATUSES=HEARING_STATUS_LABELS,
    CASE_COMPLAINT_STATUSES=COMPLAINT_STATUS_LABELS,
    CASE_COMPLAINT_KINDS=COMPLAINT_KIND_LABELS,
    CASE_OUTCOMES=APPEAL_OUTCOME_LABELS,
    CASE_EXCEPTIONS=EXCEPTION_KIND_LABELS,
    CASE_SUBJECTS=AUDIT_OBJECT_LABELS,
)


def _late(model, record_id: int, **conditions) -> dict[str, bool]:
    """Evaluate appeals.waiting's overdue conditions on one record, in one query."""
    row = db.session.execute(
        select(*(cond.label(name) for name, cond in conditions.items())).where(
            model.id == record_id
        )
    ).one()
    return {name: bool(value) for name, value in row._mapping.items()}


def _person_iin(subject_type: str, subject_id: int) -> str | None:
    """The masked IIN of the person an act concerns, where the subject's record holds one."""
    if subject_type == "application":
        iin = db.session.scalar(select(Application.iin).where(Application.id == subject_id))
    elif subject_type == "member":
        iin = db.session.scalar(select(Member.iin).where(Member.id == subject_id))
    elif subject_type == "nomination":
        iin = db.session.scalar(
            select(Member.iin)
            .join(Nomination, Nomination.member_id == Member.id)
            .where(Nomination.id == subject_id)
        )
    else:
        iin = None
    return mask_iin(iin) if iin else None


def _subject_link(subject_type: str, subject_id: int) -> str | None:
    """The oversight page of the record the act concerns, if the reader may open it."""
    found = described([(subject_type, subject_id)]).get((subject_type, str(subject_id)))
    return found[1] if found else None


def _grounds(hearing: Hearing) -> list[tuple[str, str]]:
    """The legal grounds' codes with their articles (data, not the person's facts)."""
    codes = list(hearing.grounds or [])
    articles = (
        dict(
            db.session.execute(
                select(LegalGround.code, LegalGround.article).where(LegalGround.code.in_(codes))
            ).all()
        )
        if codes
        else {}
    )
    return [(code, articles.get(code, "")) for code in codes]


@bp.route("/hearings/<int:hearing_id>")
@allow(*READERS)
def appeal_hearing(hearing_id: int):
    found = get_in_scope(Hearing, hearing_id, *READERS)
    today = clock.today()
    late = _late(
        Hearing,
        found.id,
        notice=waiting.late_notice(db.session, today),
        oral=waiting.late_oral_hearing(today),
        act=waiting.late_act(db.session, today),
    )
    objections = db.session.execute(
        select(
            func.count(HearingObjection.id),
            func.count(HearingObjection.id).filter(HearingObjection.late.is_(True)),
            func.min(HearingObjection.received_at),
        ).where(HearingObjection.hearing_id == found.id)
    ).one()
    protocol = db.session.execute(
        select(
            HearingProtocol.held_at,
            HearingProtocol.mode,
            HearingProtocol.signed_on,
            HearingProtocol.remarks_due_on,
            HearingProtocol.remarks_at,
        ).where(HearingProtocol.hearing_id == found.id)
    ).first()
    complaints = db.session.execute(
        select(Complaint.id, Complaint.number, Complaint.status, Complaint.outcome)
        .where(Complaint.hearing_id == found.id, scope().clause(Complaint.unit_id))
        .order_by(Complaint.id)
    ).all()
    return render_template(
        "oversight/appeal_case.html",
        h=found,
        c=None,
        late=late,
        today=today,
        objections=objections,
        protocol=protocol,
        complaints=complaints,
        grounds=_grounds(found),
        person_iin=_person_iin(found.subject_type, found.subject_id),
        subject_link=_subject_link(found.subject_type, found.subject_id),
        people=users_by_id(db.session, [found.drafted_by_id, found.adopted_by_id]),
        documents=_hearing_documents(found),
        trail=trail(("hearing", found.id)),
        **_LABELS,
    )


def _decided_on(complaint: Complaint) -> dt.date | None:
    return clock.local_date(complaint.decided_at) if complaint.decided_at else None


@bp.route("/complaints/<int:complaint_id>")
@allow(*READERS)
def appeal_complaint(complaint_id: int):
    found = get_in_scope(Complaint, complaint_id, *READERS)
    today = clock.today()
    late = _late(
        Complaint,
        found.id,
        forwarding=waiting.late_forwarding(today),
        review=waiting.late_review(today),
    )
    decided_on = _decided_on(found)
    # Done, but after its term: the statistics' own on-time rule (appeals.reports).
    late["forwarded_after"] = bool(found.forwarded_on and found.forwarded_on > found.forward_due_on)
    late["decided_after"] = bool(
        decided_on and found.review_due_on and decided_on > found.review_due_on
    )
    attachments = db.session.scalar(
        select(func.count(ComplaintAttachment.id)).where(
            ComplaintAttachment.complaint_id == found.id
        )
    )
    hearing = None
    if found.hearing_id is not None:
        hearing = db.session.execute(
            select(Hearing.id, Hearing.act_number, Hearing.act_on, Hearing.status).where(
                Hearing.id == found.hearing_id, scope().clause(Hearing.unit_id)
            )
        ).first()
    return render_template(
        "oversight/appeal_case.html",
        h=None,
        c=found,
        late=late,
        today=today,
        decided_on=decided_on,
        attachments=attachments or 0,
        hearing=hearing,
        person_iin=mask_iin(found.complainant_iin) if found.complainant_iin else None,
        subject_link=_subject_link(found.subject_type, found.subject_id),
        people=users_by_id(db.session, [found.reviewer_id, found.decided_by_id]),
        review_unit=db.session.get(places.AdminUnit, found.review_unit_id)
        if found.review_unit_id
        else None,
        documents=_complaint_documents(found),
        trail=trail(("complaint", found.id)),
        **_LABELS,
    )


def _hearing_documents(found: Hearing) -> list[tuple[str, str]]:
    """The notice's and act's pages, only where portal.appeals.document_views lets the reader
    open them (deputies as such do not: the documents hold the person's facts)."""
    if not documents.may_read_hearing(db.session, found, current_user):
        return []
    return hearing_documents(found)


def _complaint_documents(found: Complaint) -> list[tuple[str, str]]:
    """The decision's pages, only where the document views let the reader open them."""
    if not documents.may_read_complaint(db.session, found, current_user):
        return []
    return complaint_documents(found)
