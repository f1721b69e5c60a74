"""The officials' list of hearings and complaints, with the overdue ones marked."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user
from sqlalchemy import or_, select

from appeals import queries, waiting
from appeals.models import COMPLAINT_STATUSES, HEARING_STATUSES, Complaint, Hearing
from core import clock
from portal.appeals.blueprint import CASE_READERS, bp
from portal.extensions import db
from portal.forms import arg_int
from portal.paging import other_args
from portal.security import allow, current_scope

PAGE_SIZE = 50  # rows of each list on one page
OVERDUE_LIMIT = 500  # "deadline passed" filters the newest this many cases of each kind


def late_hearing_ids(ids: list[int], today) -> set[int]:
    """Those of ``ids`` late by appeals.waiting's rules (the to-do page's and the flags')."""
    if not ids:
        return set()
    late = or_(
        waiting.late_notice(db.session, today),
        waiting.late_oral_hearing(today),
        waiting.late_act(db.session, today),
    )
    return set(db.session.scalars(select(Hearing.id).where(Hearing.id.in_(ids), late)))


def late_complaint_ids(ids: list[int], today) -> set[int]:
    """Those of ``ids`` not forwarded or not reviewed in their terms (appeals.waiting)."""
    if not ids:
        return set()
    late = or_(waiting.late_forwarding(today), waiting.late_review(today))
    return set(db.session.scalars(select(Complaint.id).where(Complaint.id.in_(ids), late)))


def _window(rows: list, page: int) -> tuple[list, bool]:
    """The rows of ``page`` out of the list's first ones, and whether more follow."""
    start = (page - 1) * PAGE_SIZE
    return rows[start : start + PAGE_SIZE], len(rows) > start + PAGE_SIZE


@bp.route("/appeals")
@allow(*CASE_READERS)
def cases():
    args = request.args
    today = clock.today()
    status = args.get("status", "")
    kind = args.get("type", "")
    overdue = args.get("overdue") == "1"
    page = max(args.get("page", 1, type=arg_int) or 1, 1)
    # The lists up to the page's end (one more tells a next page); the overdue filter needs
    # the newest cases whole, since lateness is read after the query.
    limit = OVERDUE_LIMIT if overdue else page * PAGE_SIZE + 1
    scope = current_scope(*CASE_READERS)
    found_hearings, found_complaints = [], []
    if kind in ("", "hearing"):
        found_hearings = queries.hearings_for(
            db.session, scope, status if status in HEARING_STATUSES else None, limit=limit
        )
    if kind in ("", "complaint"):
        found_complaints = queries.complaints_for(
            db.session, scope, status if status in COMPLAINT_STATUSES else None, limit=limit
        )
        if "reviewer" in current_user.roles():
            known = {c.id for c in found_complaints}
            found_complaints += [
                c
                for c in queries.complaints_to_review(db.session, current_user)
                if c.id not in known and (not status or c.status == status)
            ]
    capped = overdue and OVERDUE_LIMIT in (len(found_hearings), len(found_complaints))
    if overdue:
        late = late_hearing_ids([h.id for h in found_hearings], today)
        found_hearings = [h for h in found_hearings if h.id in late]
        late = late_complaint_ids([c.id for c in found_complaints], today)
        found_complaints = [c for c in found_complaints if c.id in late]
    shown_hearings, more_hearings = _window(found_hearings, page)
    shown_complaints, more_complaints = _window(found_complaints, page)
    return render_template(
        "appeals/cases.html",
        hearings=shown_hearings,
        complaints=shown_complaints,
        page=page,
        pages=page + 1 if more_hearings or more_complaints else page,
        args=other_args(),
        capped=capped,
        status=status,
        kind=kind,
        overdue=overdue,
        late_hearings=late_hearing_ids([h.id for h in shown_hearings], today),
        late_complaints=late_complaint_ids([c.id for c in shown_complaints], today),
    )
