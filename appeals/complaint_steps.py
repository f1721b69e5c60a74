"""Complaint steps off the main route: restoring a missed term, returned nominations on agenda."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from appeals import effects, queries
from appeals import erasure as _erasure  # noqa: F401  (registers the retention job's eraser)
from appeals.complaint_rules import (
    LIVE,
    authors,
    filed_late,
    is_complainant,
    is_reviewer,
    issuing_roles,
    local_day,
    reasons_given,
    require_staff,
)
from appeals.models import Complaint
from appeals.workflow import COMPLAINT
from core import accounts, audit
from core.db import utcnow
from core.errors import N_, Conflict, NotFound, PermissionDenied
from core.scope import Scope
from core.transitions import already_moved
from incentives import sessions

NOT_LATE = N_("The complaint was filed in time: there is no term to restore.")


def restore_term(
    session: Session,
    *,
    complaint_id: int,
    reasons: str,
    actor_id: int,
    scope: Scope | None,
    now: dt.datetime | None = None,
) -> Complaint:
    """Restore the missed term of a late complaint for a good reason (Art. 92(2)).

    Before forwarding the issuing body decides (in its ``scope``), after it the body reviewing
    the complaint (never the act's author). The term then ends on the filing day, so the
    complaint is no longer late; its execution stay of Art. 96 follows. One guarded UPDATE
    (the old term end in its WHERE): of two at once one restores, the other gets a 409.
    """
    now = now or utcnow()
    complaint = session.get(Complaint, complaint_id)
    if complaint is None:
        raise NotFound(N_("No such complaint."))
    if complaint.kind == "police":
        raise Conflict(N_("A complaint about the police is decided by the police hierarchy."))
    if complaint.status == "forwarded":
        actor = accounts.get_user(session, actor_id)
        if (
            not is_reviewer(session, complaint, actor)
            or is_complainant(session, complaint, actor_id)
            or actor_id in authors(session, complaint)
        ):
            raise PermissionDenied(
                N_("Only the body that reviews complaints for this jurisdiction decides them.")
            )
    else:
        require_staff(
            session,
            actor_id,
            complaint.unit_id,
            issuing_roles(complaint.kind, complaint.act_kind),
            scope,
        )
        if complaint.status not in LIVE:
            raise already_moved(session, COMPLAINT, complaint.id, complaint.status)
    reasons = reasons_given(reasons)
    if not filed_late(complaint):
        raise Conflict(NOT_LATE)
    audit.take_append_lock(session)  # lock order: the audit chain before the complaint's row
    was, filed_on = complaint.term_ends_on, local_day(complaint.filed_at)
    values = {"term_ends_on": filed_on, "term_restored_reasons": reasons}
    done = session.execute(
        update(Complaint)
        .where(
            Complaint.id == complaint.id,
            Complaint.term_ends_on == was,
            Complaint.status.in_(LIVE),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        raise Conflict(NOT_LATE)
    for name, value in values.items():
        set_committed_value(complaint, name, value)
    audit.record(
        session,
        action="complaint.restore_term",
        object_type="complaint",
        object_id=complaint.id,
        actor_id=actor_id,
        now=now,
        payload={
            "number": complaint.number,
            "status": complaint.status,
            "term_ended_on": was.isoformat(),
            "term_ends_on": filed_on.isoformat(),
        },
    )
    if complaint.hearing_id is not None:
        effects.stay_execution(session, complaint, actor_id, now=now)
    return complaint


def put_returned_on_agenda(session: Session, *, session_id: int, actor_id: int) -> list[int]:
    """Put the nominations a complaint sent back first on a newly planned sitting's agenda.

    An overturned refusal or deferral goes to the commission's next sitting; when none was
    planned at the decision, the nomination waits (submitted or deferred) and the portal calls
    this right after ``incentives.sessions.plan``. Return the ids put on the agenda.
    """
    sitting = sessions.get_session(session, session_id)
    ids = queries.returned_nominations(session, sitting.commission_id)
    if ids:
        sessions.add_to_agenda(
            session, session_id=session_id, nomination_ids=ids, actor_id=actor_id
        )
    return ids
