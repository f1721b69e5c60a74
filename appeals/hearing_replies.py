"""The hearing after the notice: its delivery, objections, an oral hearing, protocol, remarks."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from appeals import terms
from appeals.hearing_common import (
    clean_text,
    get_hearing,
    in_scope,
    is_person,
    is_staff,
    notify_person,
)
from appeals.models import (
    DELIVERY_WAYS,
    OBJECTION_CHANNELS,
    PROTOCOL_MODES,
    Hearing,
    HearingObjection,
    HearingProtocol,
)
from appeals.workflow import HEARING
from core import audit, clock
from core.db import utcnow
from core.errors import N_, Conflict, DomainError, NotFound, PermissionDenied, refuse_all
from core.scope import Scope
from core.transitions import advance


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


def record_delivery(
    session: Session,
    *,
    hearing_id: int,
    received_on: dt.date,
    how: str,
    actor_id: int,
    scope: Scope,
    now: dt.datetime | None = None,
) -> Hearing:
    """Record the day a paper notice reached the person (Art. 66); the terms run from it."""
    now = now or utcnow()
    hearing = in_scope(session, hearing_id, scope)
    errors: list[DomainError] = []
    if how not in DELIVERY_WAYS:
        errors.append(DomainError(N_("Choose how the notice was delivered.")).at("how"))
    sent_on = clock.local_date(hearing.notified_at) if hearing.notified_at else None
    if not isinstance(received_on, dt.date) or received_on > clock.local_date(now):
        errors.append(
            DomainError(
                N_("Give the day the person received the notice (not later than today).")
            ).at("received_on")
        )
    elif sent_on is not None and received_on < sent_on:
        errors.append(
            DomainError(N_("The notice cannot be received before it was sent.")).at("received_on")
        )
    refuse_all(errors)
    objection_due = terms.working_day_after(session, received_on, terms.OBJECTION_WD)
    earliest = terms.working_day_after(session, received_on, terms.NOTICE_BEFORE_ACT_WD)
    advance(
        session,
        HEARING,
        hearing,
        "record_delivery",
        values={
            "delivered_on": received_on,
            "delivery_way": how,
            "objection_due_on": objection_due,
            "earliest_act_on": earliest,
        },
        where=[Hearing.earliest_act_on.is_(None)],
        refused=Conflict(N_("The notice's receipt is already recorded: its terms run.")),
    )
    _event(
        session,
        hearing,
        "hearing.delivery",
        actor_id,
        now,
        received_on=received_on.isoformat(),
        how=how,
        objection_due_on=objection_due.isoformat(),
        earliest_act_on=earliest.isoformat(),
    )
    return hearing


def record_act_receipt(
    session: Session,
    *,
    hearing_id: int,
    received_on: dt.date,
    actor_id: int,
    scope: Scope,
    now: dt.datetime | None = None,
) -> Hearing:
    """Record the day a paper copy of the adopted act reached the person (the complaint term
    runs from it, Art. 92(1)); once."""
    now = now or utcnow()
    hearing = in_scope(session, hearing_id, scope)
    if (
        not isinstance(received_on, dt.date)
        or received_on > clock.local_date(now)
        or (hearing.act_on is not None and received_on < hearing.act_on)
    ):
        raise DomainError(
            N_("Give the day the person received the act (from its date, not after today).")
        ).at("received_on")
    advance(
        session,
        HEARING,
        hearing,
        "record_act_receipt",
        values={"act_received_on": received_on},
        where=[Hearing.act_received_on.is_(None)],
        refused=Conflict(N_("The act's receipt is already recorded.")),
    )
    _event(
        session, hearing, "hearing.act_receipt", actor_id, now, received_on=received_on.isoformat()
    )
    return hearing


def object(
    session: Session,
    *,
    hearing_id: int,
    body: str,
    channel: str,
    actor_id: int,
    now: dt.datetime | None = None,
) -> HearingObjection:
    """Record an objection: the person on the portal, or staff entering a paper or oral one.

    One after the term is kept and marked late (it is still read before the act).
    """
    now = now or utcnow()
    hearing = get_hearing(session, hearing_id)
    person = is_person(session, hearing, actor_id)
    if not person and not is_staff(session, hearing, actor_id):
        raise NotFound(N_("No such hearing."))
    if channel not in OBJECTION_CHANNELS:
        raise DomainError(N_("Choose how the objection was received.")).at("channel")
    if person and channel != "portal" and not is_staff(session, hearing, actor_id):
        raise PermissionDenied(N_("Paper and oral objections are entered by the staff."))
    body = clean_text(body, "body", N_("Write the objection."))
    if hearing.status not in ("notified", "heard"):
        raise Conflict(
            N_("Objections are taken while the hearing is under way; it is “%(status)s”."),
            status=hearing.status,
        )
    due = hearing.objection_due_on  # None: a paper notice whose receipt is not recorded yet
    late = due is not None and clock.local_date(now) > due
    objection = HearingObjection(
        hearing_id=hearing.id,
        body=body,
        channel=channel,
        received_at=now,
        entered_by_id=actor_id,
        late=late,
    )
    session.add(objection)
    session.flush()
    _event(
        session,
        hearing,
        "hearing.objection",
        actor_id,
        now,
        objection_id=objection.id,
        channel=channel,
        late=late,
    )
    return objection


def request_oral(
    session: Session, *, hearing_id: int, actor_id: int, now: dt.datetime | None = None
) -> Hearing:
    """The person asks to be heard orally, within the objection term (Art. 73(1))."""
    now = now or utcnow()
    hearing = get_hearing(session, hearing_id)
    if not is_person(session, hearing, actor_id):
        raise NotFound(N_("No such hearing."))
    due = hearing.objection_due_on
    if hearing.status == "notified" and due is not None and clock.local_date(now) > due:
        raise Conflict(
            N_("An oral hearing could be asked for until %(day)s."),
            day=hearing.objection_due_on.isoformat(),
        )
    asked = Conflict(N_("An oral hearing is already asked for."))
    if hearing.oral_requested_at is not None:
        raise asked
    advance(
        session,
        HEARING,
        hearing,
        "request_oral",
        values={"oral_requested_at": now},
        where=[Hearing.oral_requested_at.is_(None)],
        refused=asked,
    )
    _event(session, hearing, "hearing.oral_request", actor_id, now)
    return hearing


def record_protocol(
    session: Session,
    *,
    hearing_id: int,
    held_at: dt.datetime,
    mode: str,
    attendees: str,
    body: str,
    actor_id: int,
    scope: Scope,
    now: dt.datetime | None = None,
    signed_on: dt.date | None = None,
) -> HearingProtocol:
    """Record the signed protocol of the oral hearing; remarks are due in 3 working days.

    ``signed_on`` (default today): a signing later than 2 working days after the hearing
    (Art. 74(4)) is accepted and marked late (a red flag).
    """
    now = now or utcnow()
    hearing = in_scope(session, hearing_id, scope)
    if hearing.status == "notified" and hearing.earliest_act_on is None:
        raise Conflict(N_("Record the day the person received the notice first."))
    today = clock.local_date(now)
    signed_on = today if signed_on is None else signed_on
    errors: list[DomainError] = []
    if mode not in PROTOCOL_MODES:
        errors.append(DomainError(N_("Choose how the hearing was held.")).at("mode"))
    if held_at is None or held_at.tzinfo is None or held_at > now:
        errors.append(
            DomainError(N_("Give when the hearing was held (not later than now).")).at("held_at")
        )
    elif hearing.notified_at is not None and held_at < hearing.notified_at:
        errors.append(DomainError(N_("The hearing cannot precede the notice.")).at("held_at"))
    elif not isinstance(signed_on, dt.date) or not (
        clock.local_date(held_at) <= signed_on <= today
    ):
        errors.append(
            DomainError(
                N_("The protocol is signed on or after the hearing's day and not after today.")
            ).at("signed_on")
        )
    for field, value, missing in (
        ("attendees", attendees, N_("Name who took part.")),
        ("body", body, N_("Write what was said.")),
    ):
        try:
            clean_text(value, field, missing)
        except DomainError as exc:
            errors.append(exc)
    refuse_all(errors)
    sign_due = terms.working_day_after(session, clock.local_date(held_at), terms.PROTOCOL_SIGN_WD)
    remarks_due = terms.working_day_after(session, signed_on, terms.REMARKS_WD)
    advance(session, HEARING, hearing, "record_protocol")
    protocol = HearingProtocol(
        hearing_id=hearing.id,
        held_at=held_at,
        mode=mode,
        attendees=attendees.strip(),
        body=body.strip(),
        recorded_by_id=actor_id,
        signed_on=signed_on,
        signed_late=signed_on > sign_due,
        remarks_due_on=remarks_due,
    )
    session.add(protocol)
    session.flush()
    session.expire(hearing, ["protocol"])
    notify_person(session, hearing, "hearing_protocol", remarks_due_on=remarks_due.isoformat())
    _event(
        session,
        hearing,
        "hearing.protocol",
        actor_id,
        now,
        protocol_id=protocol.id,
        mode=mode,
        signed_on=signed_on.isoformat(),
        signed_late=protocol.signed_late,
        remarks_due_on=remarks_due.isoformat(),
    )
    return protocol


def add_remarks(
    session: Session, *, hearing_id: int, body: str, actor_id: int, now: dt.datetime | None = None
) -> HearingProtocol:
    """The person's remarks on the protocol, once, by its due day (Art. 74(6))."""
    now = now or utcnow()
    hearing = get_hearing(session, hearing_id)
    if not is_person(session, hearing, actor_id):
        raise NotFound(N_("No such hearing."))
    protocol = session.scalar(
        select(HearingProtocol).where(HearingProtocol.hearing_id == hearing.id)
    )
    if protocol is None or hearing.status != "heard":
        raise Conflict(N_("There is no protocol to remark on."))
    if clock.local_date(now) > protocol.remarks_due_on:
        raise Conflict(
            N_("Remarks on the protocol were due by %(day)s."),
            day=protocol.remarks_due_on.isoformat(),
        )
    body = clean_text(body, "body", N_("Write your remarks."))
    done = session.execute(
        update(HearingProtocol)
        .where(HearingProtocol.id == protocol.id, HearingProtocol.remarks.is_(None))
        .values(remarks=body, remarks_at=now)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        raise Conflict(N_("Your remarks on the protocol are already recorded."))
    set_committed_value(protocol, "remarks", body)
    set_committed_value(protocol, "remarks_at", now)
    _event(session, hearing, "hearing.remarks", actor_id, now, protocol_id=protocol.id)
    return protocol
