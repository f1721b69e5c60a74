"""A commission session's state: its steps in order, who sits, who votes, quorum, presiding."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, defaultload, selectinload

from core.accounts import User
from core.errors import N_, Conflict, DomainError, NotFound
from core.transitions import AlreadyMoved, advance, already_moved
from incentives.models import (
    SESSION_STATUSES,
    AgendaItem,
    Attendance,
    Commission,
    CommissionMember,
    CommissionSession,
)
from incentives.workflow import SESSION


def get_session(session: Session, session_id: int) -> CommissionSession:
    """Return the commission session or raise NotFound."""
    found = session.get(CommissionSession, session_id)
    if found is None:
        raise NotFound(N_("No such session."))
    return found


def with_agenda(session: Session, session_id: int) -> CommissionSession | None:
    """Return the session with its agenda items, their votes and declarations, or None.

    Loaded in bulk (one statement each for the items, the votes and the declarations): the
    minutes read every item's, and one query per item cost 2n statements. (The session page
    reads plain rows through ``incentives.agenda``.)
    """
    items = selectinload(CommissionSession.items)
    return session.scalars(
        select(CommissionSession)
        .where(CommissionSession.id == session_id)
        .options(items.selectinload(AgendaItem.votes), items.selectinload(AgendaItem.declarations))
    ).first()


def require(sitting: CommissionSession, *statuses: str) -> None:
    if sitting.status not in statuses:
        raise Conflict(
            N_("The session is “%(status)s”: this cannot be done now."), status=sitting.status
        )


ORDER = {status: n for n, status in enumerate(SESSION_STATUSES)}


# What must happen before a step, said to whoever tries it too early.
WHAT_COMES_FIRST = {
    "edit_agenda": N_("The session is “%(status)s”: this cannot be done now."),
    "open": N_("The session is “%(status)s”: this cannot be done now."),
    "record_vote": N_("The session is not open: votes are cast while it sits."),
    "close": N_("Open the session with its attendance before closing it."),
    "finalize": N_("Close the session before finalising its minutes."),
    "record_act": N_("Finalise the minutes before recording the akimat's act."),
    "attach_scan": N_("Finalise the minutes before attaching their signed scan."),
}


def refusal(session: Session, sitting: CommissionSession, step: str) -> DomainError | None:
    """Return why ``step`` cannot be taken on the session now, or None when it can.

    Too early: what comes first (409). Too late: who moved the session past it (409).
    """
    sources = SESSION.step(step).sources
    if sitting.status in sources:
        if step == "record_act" and sitting.act_number is not None:
            return already_moved(session, SESSION, sitting.id, sitting.status)
        if step == "attach_scan" and sitting.scan_file_id is not None:
            return already_moved(session, SESSION, sitting.id, sitting.status)
        return None
    if ORDER[sitting.status] < min(ORDER[s] for s in sources):
        return Conflict(WHAT_COMES_FIRST[step], status=sitting.status)
    return already_moved(session, SESSION, sitting.id, sitting.status)


def take(session: Session, sitting: CommissionSession, step: str, **kwargs) -> None:
    """Take ``step`` on the session: refuse early with the reason, else one guarded UPDATE."""
    refused = refusal(session, sitting, step)
    if refused is not None:
        raise refused
    try:
        advance(session, SESSION, sitting, step, **kwargs)
    except AlreadyMoved:
        raise
    except Conflict:
        # A guard of ``where`` failed although the state allowed the step: someone recorded
        # the same thing first.
        raise already_moved(session, SESSION, sitting.id, sitting.status) from None


def quorum_needed(total: int, numerator: int, denominator: int) -> int:
    """Return how many members must be present: the policy's fraction, rounded up."""
    return -(-total * numerator // denominator)


def votes(commission: Commission, member: CommissionMember) -> bool:
    """Tell whether ``member`` votes under the commission's rules (the secretary may not)."""
    return member.role != "secretary" or commission.secretary_votes


def presiding(commission: Commission, present: list[CommissionMember]) -> CommissionMember | None:
    """Return who presides over the sitting: the chair, else the stand-in the rules name."""
    chair = next((m for m in present if m.role == "chair"), None)
    if chair is not None or commission.chair_stand_in != "deputy_chair":
        return chair
    return next((m for m in present if m.role == "deputy_chair"), None)


def present_members(session: Session, session_id: int) -> list[CommissionMember]:
    """Return the members recorded present at a session."""
    return list(
        session.scalars(
            select(CommissionMember)
            .join(Attendance, Attendance.commission_member_id == CommissionMember.id)
            .where(Attendance.session_id == session_id, Attendance.present)
            .order_by(CommissionMember.id)
        )
    )


def names_only(seat):
    """Loader options for a seat (``defaultload`` path to ``CommissionMember``) whose user is
    read for their name: the user's role grants and unit are loaded only if asked for."""
    user = seat.defaultload(CommissionMember.user)
    return user.lazyload(User.grants), user.lazyload(User.unit)


def attendance_of(session: Session, session_id: int) -> list[Attendance]:
    """Return the attendance recorded when the session opened."""
    return list(
        session.scalars(
            select(Attendance)
            .where(Attendance.session_id == session_id)
            .order_by(Attendance.id)
            .options(*names_only(defaultload(Attendance.commission_member)))
        )
    )
