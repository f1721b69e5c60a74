"""Complaints against acts, inaction and police refusals: filing, granting, forwarding, review."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from appeals import effects, numbers, settings, terms
from appeals.complaint_rules import (
    LATE_FIRST,
    LIVE,
    MAX_FILE_BYTES,
    MAX_FILES,
    POLICE_ROLES,
    InactionCandidate,
    Upload,
    authors,
    can_review,
    check_files,
    clean_text,
    filed_late,
    inaction_candidates,
    is_complainant,
    is_own_case,
    is_reviewer,
    issuing_roles,
    local_day,
    not_done_yet,
    outcome_given,
    reasons_given,
    require_staff,
    subject_of,
)
from appeals.complaint_steps import put_returned_on_agenda, restore_term
from appeals.models import OVERTURNING, Complaint, ComplaintAttachment
from appeals.workflow import COMPLAINT
from core import accounts, audit, notifications, uploads
from core.db import utcnow
from core.errors import N_, Conflict, DomainError, NotFound, PermissionDenied, refuse_all
from core.iin import parse_iin
from core.scope import Scope
from core.transitions import advance
from volunteers import persons

# The complaint API: the steps here and in complaint_steps, the rules from complaint_rules.
__all__ = [
    "LIVE",
    "MAX_FILES",
    "MAX_FILE_BYTES",
    "POLICE_ROLES",
    "InactionCandidate",
    "Upload",
    "authors",
    "can_review",
    "decide",
    "file",
    "forward",
    "get_complaint",
    "grant_in_full",
    "inaction_candidates",
    "put_returned_on_agenda",
    "record_police_outcome",
    "restore_term",
]


def get_complaint(session: Session, complaint_id: int) -> Complaint:
    """Return the complaint or raise NotFound."""
    complaint = session.get(Complaint, complaint_id)
    if complaint is None:
        raise NotFound(N_("No such complaint."))
    return complaint


def _event(session, complaint: Complaint, action: str, actor_id, now, **extra) -> None:
    audit.record(
        session,
        action=action,
        object_type="complaint",
        object_id=complaint.id,
        actor_id=actor_id,
        now=now,
        # Ids, codes and dates only: never the IIN, the address or the complaint's text.
        payload={"number": complaint.number, "status": complaint.status, **extra},
    )


def _notify(session: Session, complaint: Complaint, kind: str, **params) -> None:
    """Tell the complainant, in their account (with its e-mail and SMS) or at the e-mail given."""
    user_id = complaint.person_user_id
    user = session.get(accounts.User, user_id) if user_id else None
    contact = complaint.complainant_contact or ""
    email = (user.email if user else None) or (contact if "@" in contact else None)
    if user is None and email is None:
        return
    notifications.queue_message(
        session,
        user_id=user.id if user else None,
        email=email,
        kind=kind,
        params={"complaint_id": complaint.id, "number": complaint.number, **params},
        language=user.preferred_language if user else "kk",
    )


def file(
    session: Session,
    *,
    actor_id: int,
    channel: str,
    hearing_id: int | None = None,
    kind: str = "act",
    subject_type: str | None = None,
    subject_id: int | None = None,
    name: str,
    iin: str,
    address: str,
    contact: str | None,
    act_challenged: str,
    grounds: str,
    request: str,
    attachments: Sequence[Upload] = (),
    restored_reason: str | None = None,
    now: dt.datetime | None = None,
    scope: Scope | None = None,
) -> Complaint:
    """Register a complaint: by the person on the portal, or entered by staff from paper.

    The content of Art. 93 is required (name, IIN, address, the act, grounds, request; the
    date is the filing, the signature the signed-in person or, on paper, the attached scan).
    A complaint after its term is registered all the same, late (``filed_late``), with the
    person's reason if given: the issuing or the reviewing body restores the term
    (``restore_term``) or leaves it unconsidered (Arts. 92(2), 95). It stays nothing meanwhile.
    One live complaint per person, subject and kind: a second (a double submit) is a 409.
    """
    now = now or utcnow()
    today = local_day(now)
    if channel not in ("portal", "paper"):
        raise DomainError(N_("Choose how the complaint was received."))
    subject = subject_of(
        session,
        kind=kind,
        hearing_id=hearing_id,
        subject_type=subject_type,
        subject_id=subject_id,
        today=today,
    )
    if channel == "portal":
        if not is_own_case(session, subject, actor_id):
            raise PermissionDenied(N_("You can complain only about your own case."))
    else:
        require_staff(
            session, actor_id, subject.unit_id, issuing_roles(kind, subject.act_kind), scope
        )
    errors: list[DomainError] = []
    name = " ".join(clean_text(name, "name", N_("Enter the full name."), errors, 300).split())
    address = clean_text(address, "address", N_("Enter the address."), errors, 400)
    act_challenged = clean_text(
        act_challenged, "act_challenged", N_("Name the act or inaction complained of."), errors
    )
    grounds = clean_text(grounds, "grounds", N_("Write why the act or inaction is wrong."), errors)
    request = clean_text(request, "request", N_("Write what you ask the body to do."), errors)
    contact = clean_text(contact, "contact", None, errors, 200) or None
    key = None
    try:
        parsed = parse_iin(iin or "", today=today)
        key = persons.key_of(parsed.value)
        if subject.person_key is not None and key != subject.person_key:
            errors.append(
                DomainError(N_("This IIN is not that of the person the case concerns.")).at("iin")
            )
    except DomainError as exc:
        errors.append(exc.at("iin"))
    files = list(attachments)
    check_files(files, errors)
    if channel == "paper" and not files:
        errors.append(
            DomainError(N_("Attach the scan of the signed paper complaint.")).at("attachments")
        )
    term_ends_on = terms.months_term_ends(session, subject.term_from, subject.term_months)
    restored_reason = clean_text(restored_reason, "restored_reason", None, errors) or None
    refuse_all(errors)
    # The audit chain first: it serializes filings, so a second submission sees the first.
    audit.take_append_lock(session)
    person_key = subject.person_key or key
    live = session.scalar(
        select(Complaint.number).where(
            Complaint.person_key == person_key,
            Complaint.kind == kind,
            Complaint.subject_type == subject.subject_type,
            Complaint.subject_id == subject.subject_id,
            Complaint.status.in_(LIVE),
        )
    )
    if live is not None:
        raise Conflict(
            N_("Complaint No. %(number)s about this is already registered and not decided yet."),
            number=live,
        )
    registered_on = terms.registration_day(session, now)
    complaint = Complaint(
        number=numbers.next_number(session, "complaint", registered_on.year),
        kind=kind,
        hearing_id=subject.hearing.id if subject.hearing else None,
        subject_type=subject.subject_type,
        subject_id=subject.subject_id,
        act_kind=subject.act_kind,
        unit_id=subject.unit_id,
        person_key=person_key,
        person_user_id=subject.person_user_id or (actor_id if channel == "portal" else None),
        complainant_name=name,
        complainant_iin=parsed.value,
        complainant_address=address,
        complainant_contact=contact,
        act_challenged=act_challenged,
        grounds=grounds,
        request=request,
        channel=channel,
        entered_by_id=actor_id if channel == "paper" else None,
        filed_at=now,
        registered_on=registered_on,
        term_ends_on=term_ends_on,
        late_restored_reason=restored_reason if today > term_ends_on else None,
        status="registered",
        forward_due_on=terms.working_day_after(session, registered_on, terms.FORWARD_WD),
        execution_stayed=False,
    )
    session.add(complaint)
    session.flush()
    for upload in files:
        stored = uploads.store(
            session,
            filename=upload.filename or "attachment",
            content_type=upload.content_type or "application/octet-stream",
            content=upload.content,
            owner_id=actor_id,
        )
        session.add(
            ComplaintAttachment(
                complaint_id=complaint.id, stored_file_id=stored.id, label=upload.label[:200]
            )
        )
    session.flush()
    _event(
        session,
        complaint,
        "complaint.file",
        actor_id,
        now,
        kind=kind,
        channel=channel,
        hearing_id=complaint.hearing_id,
        subject_type=complaint.subject_type,
        subject_id=complaint.subject_id,
        registered_on=registered_on.isoformat(),
        term_ends_on=term_ends_on.isoformat(),
        forward_due_on=complaint.forward_due_on.isoformat(),
        late=today > term_ends_on,
        restored=complaint.late_restored_reason is not None,
        files=len(files),
    )
    if subject.hearing is not None and today <= term_ends_on:
        # Art. 96: a suspension or expulsion waits, unless the act gave reasons to execute it.
        effects.stay_execution(session, complaint, actor_id)
    _notify(
        session,
        complaint,
        "complaint_registered",
        registered_on=registered_on.isoformat(),
        forward_due_on=complaint.forward_due_on.isoformat(),
    )
    return complaint


def _for_issuing_body(session: Session, complaint_id: int, actor_id: int, scope: Scope):
    """The complaint, for a step of the body whose act or inaction it is about (not police)."""
    complaint = get_complaint(session, complaint_id)
    if complaint.kind == "police":
        raise Conflict(N_("A complaint about the police is decided by the police hierarchy."))
    roles = issuing_roles(complaint.kind, complaint.act_kind)
    require_staff(session, actor_id, complaint.unit_id, roles, scope)
    return complaint


def grant_in_full(
    session: Session,
    *,
    complaint_id: int,
    reasons: str,
    actor_id: int,
    scope: Scope,
    now: dt.datetime | None = None,
) -> Complaint:
    """The issuing body grants the complaint in full itself, before forwarding it (Art. 91(4))."""
    now = now or utcnow()
    complaint = _for_issuing_body(session, complaint_id, actor_id, scope)
    reasons = reasons_given(reasons)
    not_done_yet(session, complaint, "grant")
    if local_day(now) > complaint.forward_due_on:
        raise Conflict(
            N_(
                "The issuing body could grant the complaint itself only until %(date)s: "
                "forward it to the body that reviews it."
            ),
            date=complaint.forward_due_on.isoformat(),
        )
    if filed_late(complaint):
        raise Conflict(LATE_FIRST)
    audit.take_append_lock(session)
    advance(
        session,
        COMPLAINT,
        complaint,
        "grant",
        values={"outcome_reasons": reasons, "decided_by_id": actor_id, "decided_at": now},
    )
    _event(session, complaint, "complaint.grant", actor_id, now)
    effects.overturn(session, complaint, actor_id)
    _notify(session, complaint, "complaint_decided", outcome="granted")
    return complaint


def forward(
    session: Session,
    *,
    complaint_id: int,
    actor_id: int,
    scope: Scope,
    now: dt.datetime | None = None,
) -> Complaint:
    """Send the complaint with the case file to the body that reviews it (Art. 91(4))."""
    now = now or utcnow()
    complaint = _for_issuing_body(session, complaint_id, actor_id, scope)
    not_done_yet(session, complaint, "forward")
    body = settings.review_body(session, complaint.unit_id)
    if body is None:
        raise Conflict(
            N_("No body reviews complaints for this jurisdiction yet: the administrator sets it.")
        )
    if body.unit_id is None and body.reviewer_id in authors(session, complaint):
        # Art. 97(2): the named official drafted or adopted the act and could never decide.
        raise Conflict(
            N_(
                "The official named to review complaints here is the author of this act: "
                "the administrator names another reviewing body first."
            )
        )
    # Sent on the evening or the day off it came in, it still leaves on its registration day;
    # the 20 working days run from the registration at the reviewing body (Art. 98(1)).
    forwarded_on = max(local_day(now), complaint.registered_on)
    review_registered_on = max(terms.registration_day(session, now), complaint.registered_on)
    audit.take_append_lock(session)  # lock order: the audit chain before the complaint's row
    advance(
        session,
        COMPLAINT,
        complaint,
        "forward",
        values={
            "forwarded_on": forwarded_on,
            "review_due_on": terms.working_day_after(
                session, review_registered_on, terms.REVIEW_WD
            ),
            "review_unit_id": body.unit_id,
            "reviewer_id": body.reviewer_id,
        },
    )
    _event(
        session,
        complaint,
        "complaint.forward",
        actor_id,
        now,
        review_unit_id=complaint.review_unit_id,
        reviewer_id=complaint.reviewer_id,
        review_due_on=complaint.review_due_on.isoformat(),
    )
    _notify(
        session,
        complaint,
        "complaint_forwarded",
        forwarded_on=forwarded_on.isoformat(),
        review_due_on=complaint.review_due_on.isoformat(),
    )
    return complaint


def decide(
    session: Session,
    *,
    complaint_id: int,
    outcome: str,
    reasons: str,
    actor_id: int,
    to_fix: str | None = None,
    now: dt.datetime | None = None,
) -> Complaint:
    """The review body decides with one of the outcomes of Art. 100(1), with reasons.

    Overturning outcomes send the subject back through its own workflow; the others resume a
    stayed execution. Nothing here adopts a harsher act (Art. 98(6)).
    """
    now = now or utcnow()
    complaint = get_complaint(session, complaint_id)
    actor = accounts.get_user(session, actor_id)
    if complaint.kind == "police":
        raise Conflict(N_("A complaint about the police is decided by the police hierarchy."))
    # Who may decide comes first, whatever the status: nobody else learns how far it got. Not
    # forwarded yet, the body that will review it is the one configured for its jurisdiction.
    reviews = (
        is_reviewer(session, complaint, actor)
        if complaint.status != "registered"
        else settings.is_reviewer(session, settings.review_body(session, complaint.unit_id), actor)
    )
    if not reviews or is_complainant(session, complaint, actor_id):
        raise PermissionDenied(
            N_("Only the body that reviews complaints for this jurisdiction decides them.")
        )
    if actor_id in authors(session, complaint):
        raise PermissionDenied(
            N_("The official whose act is challenged cannot review the complaint against it.")
        )
    reasons, to_fix = outcome_given(outcome, reasons, to_fix)
    not_done_yet(session, complaint, "decide")
    if filed_late(complaint) and outcome != "unconsidered":
        raise Conflict(LATE_FIRST)
    audit.take_append_lock(session)
    advance(
        session,
        COMPLAINT,
        complaint,
        "decide",
        values={
            "outcome": outcome,
            "outcome_reasons": reasons,
            "to_fix": to_fix,
            "decided_by_id": actor_id,
            "decided_at": now,
        },
    )
    _event(session, complaint, "complaint.decide", actor_id, now, outcome=outcome)
    _apply_outcome(session, complaint, actor_id)
    _notify(session, complaint, "complaint_decided", outcome=outcome)
    return complaint


def _apply_outcome(session: Session, complaint: Complaint, actor_id: int) -> None:
    if complaint.outcome in OVERTURNING:
        effects.overturn(session, complaint, actor_id)
    elif complaint.execution_stayed:
        effects.resume_execution(session, complaint, actor_id)


def record_police_outcome(
    session: Session,
    *,
    complaint_id: int,
    outcome: str,
    reasons: str,
    actor_id: int,
    scope: Scope,
    to_fix: str | None = None,
    now: dt.datetime | None = None,
) -> Complaint:
    """Record what the police hierarchy decided on a police-stage complaint (no akimat review)."""
    now = now or utcnow()
    complaint = get_complaint(session, complaint_id)
    if complaint.kind != "police":
        raise Conflict(N_("Only the outcome of a complaint about the police is recorded here."))
    require_staff(session, actor_id, complaint.unit_id, POLICE_ROLES, scope)
    reasons, to_fix = outcome_given(outcome, reasons, to_fix)
    not_done_yet(session, complaint, "record_police_outcome")
    audit.take_append_lock(session)
    advance(
        session,
        COMPLAINT,
        complaint,
        "record_police_outcome",
        values={
            "outcome": outcome,
            "outcome_reasons": reasons,
            "to_fix": to_fix,
            "decided_by_id": actor_id,
            "decided_at": now,
        },
    )
    _event(session, complaint, "complaint.police_outcome", actor_id, now, outcome=outcome)
    _apply_outcome(session, complaint, actor_id)
    _notify(session, complaint, "complaint_decided", outcome=outcome)
    return complaint
