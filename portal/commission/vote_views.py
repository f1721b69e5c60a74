"""The members' and the chair's own agenda, votes and declared conflicts of interest."""

from __future__ import annotations

from collections import defaultdict

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from incentives import agenda, sessions
from incentives.models import (
    AgendaItem,
    Attendance,
    CommissionMember,
    CommissionSession,
    ConflictDeclaration,
)
from portal.commission.blueprint import bp
from portal.commission.forms import ConflictForm, VoteForm
from portal.commission.roles import VOTERS
from portal.errors import flash_form_errors, on_refusal
from portal.extensions import db
from portal.i18n import local_dates
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
    # Ids only: a seat as an entity joins its user, unused here.
    seats = db.session.execute(
        select(CommissionMember.id, CommissionMember.commission_id).where(
            CommissionMember.user_id == current_user.id
        )
    ).all()
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
    # Plain rows of the open and planned agendas, and only the votes and declarations on them.
    items = agenda.items(db.session, [s.id for s in sittings], ballots=False)
    planned_items = agenda.items(db.session, [s.id for s in planned], ballots=False)
    agendas = defaultdict(list)
    for item in (*items, *planned_items):
        agendas[item.session_id].append(item)
    conflict_forms = {
        item.id: (
            posted_conflict
            if posted_conflict is not None and posted_conflict._prefix == f"c{item.id}-"
            else ConflictForm(prefix=f"c{item.id}", formdata=None)
        )
        for item in planned_items
    }
    forms = {}
    for item in items:
        prefix = f"i{item.id}"
        forms[item.id] = (
            posted if posted is not None and posted._prefix == prefix + "-" else None
        ) or VoteForm(prefix=prefix, formdata=None)
    past = agenda.past_votes(db.session, seat_ids)
    return render_template(
        "commission/my_sessions.html",
        seats=seats,
        sittings=sittings,
        planned=planned,
        agendas=agendas,
        mine=agenda.ballots_of(db.session, seat_ids, forms),
        past=past,
        # Each session's date formatted once: a hundred past votes fall on a few sessions.
        past_dates=local_dates(v.held_on for v in past),
        forms=forms,
        declared=agenda.ballots_of(db.session, seat_ids, conflict_forms, model=ConflictDeclaration),
        conflict_forms=conflict_forms,
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
