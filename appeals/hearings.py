"""The hearing before a burdensome act (APPK Arts. 73-74) and the act's adoption (Arts. 79-80)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from appeals import effects, grounds, numbers, settings, terms
from appeals.effects import SUBJECT_OF
from appeals.hearing_common import (
    ACT_ROLES,
    ALLOWED_EXCEPTIONS,
    clean_text,
    get_hearing,
    in_scope,
    is_author,
    is_person,
    notify_person,
)
from appeals.hearing_replies import (
    add_remarks,
    object,
    record_act_receipt,
    record_delivery,
    record_protocol,
    request_oral,
)
from appeals.models import LIVE_HEARING, Hearing, HearingProtocol
from appeals.workflow import HEARING
from core import audit, clock
from core.db import utcnow
from core.errors import N_, Conflict, DomainError, NotFound, refuse_all
from core.scope import Scope
from core.transitions import advance

# The one entry point of the hearing steps: the person's replies (objections, an oral hearing
# and its protocol, remarks) live in appeals.hearing_replies and the hearings of a commission's
# sitting in appeals.sitting_hearings; both are exported from here.
__all__ = [
    "ACT_ROLES",
    "ALLOWED_EXCEPTIONS",
    "SUBJECT_OF",
    "add_remarks",
    "adopt",
    "adopt_for_sitting",
    "draft",
    "draft_for_sitting",
    "get_hearing",
    "is_author",
    "is_person",
    "notify",
    "object",
    "record_act_receipt",
    "record_delivery",
    "record_protocol",
    "request_oral",
    "set_sitting_hearing_reasons",
    "sitting_act_blockers",
    "withdraw",
]


def _event(session, hearing, action, actor_id, now, **payload) -> None:
    audit.record(
        session,
        action=action,
        object_type="hearing",
        object_id=hearing.id,
        actor_id=actor_id,
        now=now,
        payload={"status": hearing.status, **payload},
    )


def draft(
    session: Session,
    *,
    act_kind: str,
    subject_id: int,
    grounds: list[str],
    grounds_text: str,
    actor_id: int,
    scope: Scope,
    now: dt.datetime | None = None,
    sitting_id: int | None = None,
) -> Hearing:
    """Draft the preliminary decision of a burdensome act on a record in the actor's scope."""
    if act_kind not in ACT_ROLES:
        raise DomainError(N_("Choose the kind of act.")).at("act_kind")
    now = now or utcnow()
    subject = effects.subject(session, act_kind, subject_id)
    if not scope.contains(session, subject.unit_id):
        raise NotFound(N_("No such record."))
    if subject.record.status not in effects.ACT_NEEDS[act_kind]:
        raise Conflict(
            N_("This act is not possible while the record is “%(status)s”."),
            status=subject.record.status,
        )
    if subject.person_user_id is None and subject.person_key is None:
        raise Conflict(N_("The record names no person to hear: no hearing is held."))
    errors: list[DomainError] = []
    try:
        codes = _grounds_codes(session, act_kind, grounds)
    except DomainError as exc:
        errors.append(exc)
    try:
        grounds_text = clean_text(grounds_text, "grounds_text", "", required=False)
    except DomainError as exc:
        errors.append(exc)
    refuse_all(errors)
    hearing = Hearing(
        act_kind=act_kind,
        subject_type=SUBJECT_OF[act_kind],
        subject_id=subject_id,
        unit_id=subject.unit_id,
        sitting_id=sitting_id,
        person_key=subject.person_key,
        person_user_id=subject.person_user_id,
        person_name=subject.person_name[:300],
        grounds=codes,
        grounds_text=grounds_text,
        status="drafted",
        drafted_by_id=actor_id,
        drafted_at=now,
    )
    try:
        with session.begin_nested():
            session.add(hearing)
            session.flush()
    except IntegrityError:
        raise Conflict(N_("A hearing on this act is already under way for this record.")) from None
    _event(
        session,
        hearing,
        "hearing.draft",
        actor_id,
        now,
        act_kind=act_kind,
        subject_type=hearing.subject_type,
        subject_id=subject_id,
        grounds=codes,
    )
    return hearing


def _grounds_codes(session: Session, act_kind: str, codes: list[str]) -> list[str]:
    cleaned = grounds.check_codes(session, act_kind, codes)
    if not cleaned:
        raise DomainError(N_("Choose at least one legal ground.")).at("grounds")
    return cleaned


def notify(
    session: Session,
    *,
    hearing_id: int,
    actor_id: int,
    scope: Scope,
    now: dt.datetime | None = None,
) -> Hearing:
    """Tell the person the preliminary decision; the objection and act terms start (Art. 73).

    The terms run from receipt (Art. 73(1)): the day of an electronic notice (the account's
    inbox, e-mail, SMS). Without such a channel the notice goes on paper and both terms stay
    empty until ``record_delivery`` records its receipt; the act waits for them.
    """
    now = now or utcnow()
    hearing = in_scope(session, hearing_id, scope)
    notice_day = clock.local_date(now)
    objection_due = terms.working_day_after(session, notice_day, terms.OBJECTION_WD)
    earliest = terms.working_day_after(session, notice_day, terms.NOTICE_BEFORE_ACT_WD)
    advance(session, HEARING, hearing, "notify", values={"notified_at": now})
    sent = notify_person(
        session,
        hearing,
        "hearing_notice",
        objection_due_on=objection_due.isoformat(),
        earliest_act_on=earliest.isoformat(),
    )
    if sent:
        advance(
            session,
            HEARING,
            hearing,
            "record_delivery",
            values={"objection_due_on": objection_due, "earliest_act_on": earliest},
        )
    _event(
        session,
        hearing,
        "hearing.notify",
        actor_id,
        now,
        electronic=sent,
        objection_due_on=objection_due.isoformat() if sent else None,
        earliest_act_on=earliest.isoformat() if sent else None,
    )
    return hearing


def adoption_blockers(session: Session, hearing: Hearing, today: dt.date) -> list[DomainError]:
    """Return why the act cannot be adopted today, absent an exception (empty: it can)."""
    blockers: list[DomainError] = []
    if hearing.status == "drafted":
        blockers.append(
            Conflict(N_("The person has not been notified: the act needs a recorded exception."))
        )
    elif hearing.earliest_act_on is None:
        blockers.append(
            Conflict(
                N_(
                    "The notice went on paper: record the day the person received it; the "
                    "act may be adopted 3 working days later."
                )
            )
        )
    elif today < hearing.earliest_act_on:
        blockers.append(
            Conflict(
                N_("The act may be adopted from %(day)s (3 working days after the notice)."),
                day=hearing.earliest_act_on.isoformat(),
            )
        )
    protocol = session.scalar(
        select(HearingProtocol).where(HearingProtocol.hearing_id == hearing.id)
    )
    if protocol is not None and protocol.remarks_at is None and today <= protocol.remarks_due_on:
        blockers.append(
            Conflict(
                N_("The person may remark on the protocol until %(day)s: the act waits."),
                day=protocol.remarks_due_on.isoformat(),
            )
        )
    return blockers


def oral_pending(session: Session, hearing: Hearing) -> bool:
    """Tell whether the person asked for an oral hearing that has no protocol yet."""
    if hearing.oral_requested_at is None:
        return False
    return (
        session.scalar(select(HearingProtocol.id).where(HearingProtocol.hearing_id == hearing.id))
        is None
    )


def adopt(
    session: Session,
    *,
    hearing_id: int,
    act_reasons: str,
    actor_id: int,
    scope: Scope,
    exception_kind: str | None = None,
    exception_reason: str | None = None,
    execution_exception: str | None = None,
    now: dt.datetime | None = None,
) -> Hearing:
    """Adopt the act, with its reasons, and execute it on its record (Arts. 73, 79-80).

    Refused (409) before ``earliest_act_on`` or without a notice unless an exception of Art.
    73(2) is recorded with its reason, and while an oral hearing was asked for and has no
    protocol. A reward act is adopted by the akimat's act on its sitting (adopt_for_sitting).
    """
    now = now or utcnow()
    hearing = in_scope(session, hearing_id, scope)
    if hearing.sitting_id is not None:
        raise Conflict(
            N_("This decision is adopted by the akimat's act on the commission's sitting.")
        )
    return _adopt(
        session,
        hearing,
        act_reasons=act_reasons,
        actor_id=actor_id,
        exception_kind=exception_kind,
        exception_reason=exception_reason,
        execution_exception=execution_exception,
        now=now,
    )


def _adopt(
    session: Session,
    hearing: Hearing,
    *,
    act_reasons,
    actor_id,
    exception_kind,
    exception_reason,
    execution_exception,
    now,
    act_number=None,
    act_on=None,
) -> Hearing:
    today = clock.local_date(now)
    errors: list[DomainError] = []
    try:
        reasons = clean_text(act_reasons, "act_reasons", N_("Give the reasons of the act."))
    except DomainError as exc:
        errors.append(exc)
    if exception_kind:
        if exception_kind not in ALLOWED_EXCEPTIONS[hearing.act_kind]:
            errors.append(DomainError(N_("Choose the exception.")).at("exception_kind"))
        try:
            exception_reason = clean_text(
                exception_reason, "exception_reason", N_("Say why no hearing was held.")
            )
        except DomainError as exc:
            errors.append(exc)
    else:
        exception_kind, exception_reason = None, None
    try:
        execution_exception = clean_text(execution_exception, "execution_exception", "", False)
    except DomainError as exc:
        errors.append(exc)
    refuse_all(errors)
    if hearing.status not in LIVE_HEARING:
        # The step below would say who moved it; say it before the checks of the terms.
        advance(session, HEARING, hearing, "adopt")
    if oral_pending(session, hearing):
        raise Conflict(N_("An oral hearing was asked for: record its protocol before the act."))
    if not exception_kind:
        refuse_all(adoption_blockers(session, hearing, today))
    number = act_number or numbers.next_number(session, "act", today.year)
    # What the act says about appealing it is fixed now (Arts. 80, 92(1-1)).
    review = settings.review_body(session, hearing.unit_id)
    heard = exists().where(HearingProtocol.hearing_id == Hearing.id)
    advance(
        session,
        HEARING,
        hearing,
        "adopt",
        where=[or_(Hearing.oral_requested_at.is_(None), heard)],
        refused=Conflict(N_("An oral hearing was asked for: record its protocol before the act.")),
        values={
            "appeal_notice_given": review is not None,
            "review_body_kk": review.name_kk[:300] if review else None,
            "review_body_ru": review.name_ru[:300] if review else None,
            "review_how_kk": (review.how_kk or None) if review else None,
            "review_how_ru": (review.how_ru or None) if review else None,
            "act_number": number,
            "act_on": act_on or today,
            "act_reasons": reasons,
            "adopted_by_id": actor_id,
            "adopted_at": now,
            "exception_kind": exception_kind,
            "exception_reason": exception_reason,
            "execution_exception": execution_exception or None,
        },
    )
    effects.apply_act(session, hearing, actor_id)
    notify_person(
        session,
        hearing,
        "hearing_adopted",
        act_number=number,
        act_on=hearing.act_on.isoformat(),
    )
    _event(
        session,
        hearing,
        "hearing.adopt",
        actor_id,
        now,
        act_number=number,
        act_on=hearing.act_on.isoformat(),
        exception_kind=exception_kind,
        grounds=list(hearing.grounds or []),
        objections=len(hearing.objections),
        execution_exception=bool(execution_exception),
    )
    return hearing


def adopt_with_act(
    session: Session,
    hearing: Hearing,
    *,
    act_number: str,
    act_on: dt.date,
    act_reasons: str,
    actor_id: int,
    now: dt.datetime,
) -> Hearing:
    """Adopt a sitting's hearing with the akimat's act on the sitting (its number and date)."""
    return _adopt(
        session,
        hearing,
        act_reasons=act_reasons,
        actor_id=actor_id,
        exception_kind=None,
        exception_reason=None,
        execution_exception=None,
        now=now,
        act_number=act_number,
        act_on=act_on,
    )


def withdraw(
    session: Session,
    *,
    hearing_id: int,
    reason: str,
    actor_id: int,
    scope: Scope,
    now: dt.datetime | None = None,
) -> Hearing:
    """Withdraw the preliminary decision: no act is adopted, the record stays as it is."""
    now = now or utcnow()
    hearing = in_scope(session, hearing_id, scope)
    reason = clean_text(reason, "reason", N_("Say why the preliminary decision is withdrawn."))
    advance(
        session,
        HEARING,
        hearing,
        "withdraw",
        values={"withdrawn_reason": reason, "withdrawn_at": now},
    )
    _event(session, hearing, "hearing.withdraw", actor_id, now)
    return hearing


# ---- hearings of a commission's sitting (appeals.sitting_hearings) ----------------------------


def draft_for_sitting(
    session: Session, *, sitting_id: int, actor_id: int, now=None
) -> list[Hearing]:
    """After the sitting closed: one notified hearing per refused or deferred person's reward."""
    from appeals import sitting_hearings

    return sitting_hearings.draft_for_sitting(
        session, sitting_id=sitting_id, actor_id=actor_id, now=now
    )


def sitting_act_blockers(session: Session, *, sitting_id: int, today: dt.date) -> list[Hearing]:
    """Return the sitting's hearings whose term has not ended (the akimat's act must wait)."""
    from appeals import sitting_hearings

    return sitting_hearings.sitting_act_blockers(session, sitting_id=sitting_id, today=today)


def adopt_for_sitting(
    session: Session, *, sitting_id: int, actor_id: int, now=None
) -> list[Hearing]:
    """Right after the akimat's act on the sitting: adopt its open hearings with that act."""
    from appeals import sitting_hearings

    return sitting_hearings.adopt_for_sitting(
        session, sitting_id=sitting_id, actor_id=actor_id, now=now
    )


def set_sitting_hearing_reasons(
    session: Session, *, hearing_id: int, reasons: str, actor_id: int, scope: Scope, now=None
) -> Hearing:
    """The secretary states how a sitting's hearing's objections were considered (the act's
    reasons, with the commission's vote and reason)."""
    from appeals import sitting_hearings

    return sitting_hearings.set_sitting_hearing_reasons(
        session, hearing_id=hearing_id, reasons=reasons, actor_id=actor_id, scope=scope, now=now
    )
