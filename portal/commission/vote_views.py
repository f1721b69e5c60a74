"""The members' and the chair's own agenda, votes and declared conflicts of interest."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from incentives import sessions
from incentives.models import (
    AgendaItem,
    Attendance,
    CommissionMember,
    CommissionSession,
    ConflictDeclaration,
    Vote,
)
from portal.commission.blueprint import bp
from portal.commission.forms import ConflictForm, VoteForm
from portal.commission.page_reads import supports
from portal.commission.roles import VOTERS
from portal.errors import flash_form_errors, on_refusal
from portal.extensions import db
from portal.security import allow

# ---- members and the chair: their agenda and votes --------------------------------------------


def _my_seats() -> list[CommissionMember]:
    return list(
        db.session.scalars(
            select(CommissionMember).where(CommissionMember.user_id == current_user.id)
        )
    )


def _my_sessions_page(
    status: int = 200, posted: VoteForm | None = None, posted_conflict: ConflictForm | None = None
):
    seats = _my_seats()
    seat_ids = [s.id for s in seats]
    sittings = (
        db.session.scalars(
            select(CommissionSession)
            .join(Attendance, Attendance.session_id == CommissionSession.id)
            .where(
                Attendance.commission_member_id.in_(seat_ids),
                Attendance.present,
                CommissionSession.status == "open",
            )
            .order_by(CommissionSession.held_on, CommissionSession.id)
        ).all()
        if seat_ids
        else []
    )
    planned = (
        db.session.scalars(
            select(CommissionSession)
            .where(
                CommissionSession.commission_id.in_({s.commission_id for s in seats}),
                CommissionSession.status == "planned",
            )
            .order_by(CommissionSession.held_on)
        ).all()
        if seats
        else []
    )
    mine = {}
    if seat_ids:
        for v in db.session.scalars(select(Vote).where(Vote.commission_member_id.in_(seat_ids))):
            mine[v.item_id] = v
    past = (
        db.session.execute(
            select(Vote, AgendaItem, CommissionSession)
            .join(AgendaItem, Vote.item_id == AgendaItem.id)
            .join(CommissionSession, AgendaItem.session_id == CommissionSession.id)
            .where(Vote.commission_member_id.in_(seat_ids), CommissionSession.status != "open")
            .order_by(CommissionSession.held_on.desc(), AgendaItem.position)
            .limit(100)
        ).all()
        if seat_ids
        else []
    )
    declared = {}
    if seat_ids:
        for d in db.session.scalars(
            select(ConflictDeclaration).where(
                ConflictDeclaration.commission_member_id.in_(seat_ids)
            )
        ):
            declared[d.item_id] = d
    conflict_forms = {
        item.id: (
            posted_conflict
            if posted_conflict is not None and posted_conflict._prefix == f"c{item.id}-"
            else ConflictForm(prefix=f"c{item.id}", formdata=None)
        )
        for s in planned
        for item in s.items
    }
    forms = {}
    for sitting in sittings:
        for item in sitting.items:
            prefix = f"i{item.id}"
            forms[item.id] = (
                posted if posted is not None and posted._prefix == prefix + "-" else None
            ) or VoteForm(prefix=prefix, formdata=None)
    items = [i for s in sittings for i in s.items]
    return render_template(
        "commission/my_sessions.html",
        seats=seats,
        sittings=sittings,
        planned=planned,
        mine=mine,
        past=past,
        forms=forms,
        declared=declared,
        conflict_forms=conflict_forms,
        supports=supports(i.nomination_id for i in items),
    ), status


@bp.route("/my-sessions")
@allow(*VOTERS)
def my_sessions():
    return _my_sessions_page()


def _item_and_my_seat(item_id: int):
    """Return the agenda item and the signed-in member's seat on its commission, or 404."""
    item = db.session.get(AgendaItem, item_id)
    if item is None:
        abort(404)
    sitting = item.session
    seat = next(
        (
            s
            for s in _my_seats()
            if s.commission_id == sitting.commission_id and s.serves_on(sitting.held_on)
        ),
        None,
    )
    if seat is None:
        abort(404)
    return item, seat


@bp.route("/my-sessions/items/<int:item_id>/vote", methods=["POST"])
@allow(*VOTERS)
def vote(item_id: int):
    item, seat = _item_and_my_seat(item_id)
    form = VoteForm(prefix=f"i{item.id}")
    if not form.validate_on_submit():
        flash_form_errors(form)  # flash_form_errors: the page may not show the form (S13)
        return _my_sessions_page(400, form)
    with on_refusal(lambda status: _my_sessions_page(status, form)):
        sessions.vote(
            db.session,
            item_id=item.id,
            commission_member_id=seat.id,
            choice=form.choice.data,
            reason=form.reason.data,
            entered_by_id=current_user.id,
        )
    db.session.commit()
    flash(_("Your vote has been recorded."), "success")
    return redirect(url_for("commission.my_sessions"))


@bp.route("/my-sessions/items/<int:item_id>/conflict", methods=["POST"])
@allow(*VOTERS)
def declare_conflict(item_id: int):
    item, seat = _item_and_my_seat(item_id)
    form = ConflictForm(prefix=f"c{item.id}")
    if not form.validate_on_submit():
        flash_form_errors(form)  # flash_form_errors: the page may not show the form (S13)
        return _my_sessions_page(400, posted_conflict=form)
    with on_refusal(lambda status: _my_sessions_page(status, posted_conflict=form)):
        sessions.declare_conflict(
            db.session,
            item_id=item.id,
            commission_member_id=seat.id,
            reason=form.reason.data,
            actor_id=current_user.id,
        )
    db.session.commit()
    flash(_("Your conflict of interest is recorded: you are recused from this item."), "success")
    return redirect(url_for("commission.my_sessions"))
