"""Retention of hearings and complaints: the personal data of treated people goes, rows stay."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from appeals.complaint_rules import LIVE
from appeals.models import (
    LIVE_HEARING,
    Complaint,
    ComplaintAttachment,
    Hearing,
    HearingObjection,
    HearingProtocol,
)
from core import audit, uploads
from core.sealing import blind_index
from volunteers import erasure

ERASED = erasure.ERASED_NAME
ERASED_FILE = b""


def erased_complainant_iin(complaint_id: int) -> str:
    """Return the stand-in of an erased complainant's IIN: never a valid IIN, one per row."""
    return f"C{complaint_id:011d}"


def _event(session: Session, object_type: str, object_id: int, at: dt.datetime) -> None:
    audit.record(
        session,
        action=f"{object_type}.erase",
        object_type=object_type,
        object_id=object_id,
        actor_id=None,
        payload={"rule": "person_treated"},
        now=at,
    )


def erase_cases(
    session: Session, application_ids: list[int], member_ids: list[int], at: dt.datetime
) -> int:
    """Erase the names, IINs, addresses, contacts and free texts of the hearings and complaints
    about the applications and register entries the retention job has just treated.

    Their retention ended years after the complaint and court terms; a case still under way
    (a live hearing or complaint) keeps its data until a later treatment. The act's reasons and
    the decision's reasons stay (they are the public acts); ids, dates and outcomes stay. Each
    row is one guarded UPDATE (``person_name``/``complainant_name`` not yet erased), so a
    repeated run treats and audits it once. Return how many rows were treated.
    """
    subject = or_(
        (Hearing.subject_type == "application") & Hearing.subject_id.in_(application_ids),
        (Hearing.subject_type == "member") & Hearing.subject_id.in_(member_ids or [-1]),
    )
    hearing_ids = list(
        session.scalars(
            select(Hearing.id).where(
                subject, Hearing.status.not_in(LIVE_HEARING), Hearing.person_name != ERASED
            )
        )
    )
    treated = 0
    for hearing_id in hearing_ids:
        done = session.execute(
            update(Hearing)
            .where(Hearing.id == hearing_id, Hearing.person_name != ERASED)
            .values(person_name=ERASED, person_key=None, grounds_text="")
            .execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:
            continue
        session.execute(
            update(HearingObjection)
            .where(HearingObjection.hearing_id == hearing_id)
            .values(body="")
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(HearingProtocol)
            .where(HearingProtocol.hearing_id == hearing_id)
            .values(attendees="", body="", remarks=None)
            .execution_options(synchronize_session=False)
        )
        _event(session, "hearing", hearing_id, at)
        treated += 1
    complaint_subject = or_(
        (Complaint.subject_type == "application") & Complaint.subject_id.in_(application_ids),
        (Complaint.subject_type == "member") & Complaint.subject_id.in_(member_ids or [-1]),
        Complaint.hearing_id.in_(hearing_ids or [-1]),
    )
    complaint_ids = list(
        session.scalars(
            select(Complaint.id).where(
                complaint_subject,
                Complaint.status.not_in(LIVE),
                Complaint.complainant_name != ERASED,
            )
        )
    )
    for complaint_id in complaint_ids:
        stand_in = erased_complainant_iin(complaint_id)
        done = session.execute(
            update(Complaint)
            .where(Complaint.id == complaint_id, Complaint.complainant_name != ERASED)
            .values(
                complainant_name=ERASED,
                # A bulk UPDATE bypasses the model's validator: the blind indexes are set here.
                complainant_iin=stand_in,
                complainant_iin_index=blind_index(stand_in, "iin"),
                person_key=blind_index(stand_in, "iin"),
                complainant_address="",
                complainant_contact=None,
                act_challenged="",
                grounds="",
                request="",
                late_restored_reason=None,
            )
            .execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:
            continue
        # The scans of the signed paper and the evidence: the files stay as rows, emptied.
        files = select(ComplaintAttachment.stored_file_id).where(
            ComplaintAttachment.complaint_id == complaint_id
        )
        session.execute(
            update(uploads.StoredFile)
            .where(uploads.StoredFile.id.in_(files))
            .values(content=ERASED_FILE, filename="erased")
            .execution_options(synchronize_session=False)
        )
        _event(session, "complaint", complaint_id, at)
        treated += 1
    return treated


if erase_cases not in erasure.ERASERS:
    erasure.ERASERS.append(erase_cases)
