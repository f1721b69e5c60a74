"""The home page's to-do list: for each role the signed-in person holds, what waits on them."""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from appeals import waiting as appeal_waiting
from core import clock
from core.scope import Scope
from core.waiting import Waiting
from incentives import waiting
from portal.extensions import db
from portal.oversight.flag_views import open_flags

# What each line says and where it leads: the list page, with the query that filters it to what
# waits (pairs, not a dict: a {"status": …} literal reads as a row written in that state).
_LINES = {
    "police_checks": (
        _l("Applications waiting for the police check"),
        "volunteers.applications",
        (("status", "police_check"),),
    ),
    "registrations": (
        _l("Vetted applicants to enter in the register"),
        "volunteers.applications",
        (("status", "petitioned"),),
    ),
    "contributions": (_l("Contributions to confirm"), "shifts.queue", ()),
    "votes": (_l("Nominations waiting for your vote"), "commission.my_sessions", ()),
    "sittings_to_close": (_l("Open sittings to close"), "commission.sessions_list", ()),
    "minutes_to_finalize": (_l("Minutes to approve"), "commission.sessions_list", ()),
    "decisions_to_verify": (
        _l("Maslikhat decisions to verify"),
        "finance.decisions",
        (("pending", "1"),),
    ),
    "payouts_to_make": (_l("Approved rewards to pay"), "commission.payouts_list", ()),
    "inquiries_to_answer": (_l("Deputies' inquiries to answer"), "oversight.inquiry_list", ()),
    "answers_to_read": (_l("Answers to your inquiries to read"), "oversight.inquiry_list", ()),
    "red_flags": (_l("Red flags in your territory"), "oversight.red_flags", ()),
    # Hearings and complaints (appeals.waiting): the list of cases filtered to what waits.
    "hearings_to_notify": (
        _l("Preliminary decisions to send to the person or whose receipt to record"),
        "appeals.cases",
        (("type", "hearing"), ("status", "drafted")),
    ),
    "oral_hearings_to_hold": (
        _l("Oral hearings to hold"),
        "appeals.cases",
        (("type", "hearing"), ("status", "notified")),
    ),
    "hearings_to_adopt": (
        _l("Hearings whose act may be adopted: adopt or withdraw"),
        "appeals.cases",
        (("type", "hearing"), ("status", "notified")),
    ),
    "complaints_to_forward": (
        _l("Complaints to grant in full or forward (3 working days)"),
        "appeals.cases",
        (("type", "complaint"), ("status", "registered")),
    ),
    "police_complaints": (
        _l("Complaints about the police awaiting the police's outcome"),
        "appeals.cases",
        (("type", "complaint"), ("status", "registered")),
    ),
    "complaints_to_review": (
        _l("Complaints to review (20 working days)"),
        "appeals.cases",
        (("type", "complaint"), ("status", "forwarded")),
    ),
}


@dataclass(frozen=True)
class Line:
    """One shown line: its words, how many wait, how many are late, and the link."""

    label: str
    count: int
    overdue: int
    url: str


def _line(found: Waiting) -> Line:
    label, endpoint, args = _LINES[found.key]
    return Line(str(label), found.count, found.overdue, url_for(endpoint, **dict(args)))


def lines_for(user) -> list[Line]:
    """Return the to-do lines of ``user``'s roles, each counted once, in working order."""
    roles = user.roles()
    session, today = db.session, clock.today()
    found: list[Waiting] = []
    if roles & {"coordinator", "registrar"}:
        vetting = Scope.of(user, "coordinator", "registrar")
        found.append(waiting.police_checks(session, vetting, today))
        found.append(waiting.registrations(session, vetting, today))
    if "coordinator" in roles:
        found.append(waiting.contributions(session, Scope.of(user, "coordinator"), user.id))
    if roles & {"member", "chair"}:
        found.append(waiting.votes(session, user.id))
    if "secretary" in roles:
        secretary = Scope.of(user, "secretary")
        found.append(waiting.sittings_to_close(session, secretary, today))
        found.append(waiting.minutes_to_finalize(session, secretary))
    if "finance" in roles:
        finance = Scope.of(user, "finance")
        found.append(waiting.decisions_to_verify(session, finance, user.id))
        found.append(waiting.payouts_to_make(session, finance))
    if roles & {"secretary", "finance"}:
        answering = Scope.of(user, "secretary", "finance")
        found.append(waiting.inquiries_to_answer(session, answering, today))
    found.extend(appeal_waiting.for_user(session, user, today))
    if "deputy" in roles:
        found.append(waiting.answers_to_read(session, user.id))
    if roles & {"deputy", "admin"}:
        found.append(Waiting("red_flags", open_flags(Scope.of(user, "deputy", "admin"))))
    return [_line(w) for w in found]


def volunteer_summary(user) -> waiting.VolunteerSummary | None:
    """Return a volunteer's head of page, or ``None`` for an account with no membership."""
    if "volunteer" not in user.roles():
        return None
    return waiting.volunteer_summary(db.session, user.id, clock.now(), clock.today())


def current_lines() -> list[Line]:
    """Return the signed-in person's to-do lines."""
    return lines_for(current_user)
