"""Staff keep the register: members, their status, certificates and patrol units."""

from __future__ import annotations

import datetime as dt

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from core import audit, clock, places
from core import queries as core_queries
from core.errors import N_, Conflict
from core.scope import Scope, scoped
from portal import pii
from portal.errors import flash_form_errors, on_refusal
from portal.extensions import db
from portal.forms import arg_int, unit_choices  # arg_int: fuzzing fix (S13)
from portal.labels import MEMBER_STATUS_LABELS
from portal.paging import page_of
from portal.security import allow, current_scope, get_in_scope, holds
from portal.volunteers.blueprint import bp
from portal.volunteers.forms import AssignUnitForm, MemberStatusForm, PatrolUnitForm
from portal.volunteers.roles import REGISTER_READERS, VETTING, patrol_choices
from volunteers import queries, register
from volunteers.models import KINDS, MEMBER_STATUSES, Member, PatrolUnit

EXPIRY_WARNING_DAYS = 60
# Statuses that only an act after a hearing gives (appeals.hearings), with their act kind.
HEARD_FIRST = {"suspended": "suspend", "expelled": "expel"}

# ---- staff: the register ----------------------------------------------------------------------


@bp.route("/volunteers/members")
@allow(*REGISTER_READERS)
def members():
    args = request.args
    scope = current_scope(*REGISTER_READERS)
    query = queries.members(scope)
    district = args.get("unit", type=arg_int)
    if district:
        query = scoped(query, places.AdminUnit.id, Scope.within([district]))
    if args.get("kind") in KINDS:
        query = query.where(Member.kind == args["kind"])
    if args.get("status") in MEMBER_STATUSES:
        query = query.where(Member.status == args["status"])
    if args.get("patrol_unit", type=arg_int):
        query = query.where(Member.patrol_unit_id == args.get("patrol_unit", type=arg_int))
    if args.get("expiring"):
        query = query.where(
            Member.status == "active",
            Member.expires_on <= clock.today() + dt.timedelta(days=EXPIRY_WARNING_DAYS),
        )
    q = (args.get("q") or "").strip()
    if q:
        query = query.where(queries.member_search(q, iin_scope=current_scope(*VETTING)))
    found = page_of(query.order_by(Member.full_name, Member.id))
    return render_template(
        "volunteers/members.html",
        members=found.rows,
        total=found.total,
        page=found.page,
        pages=found.pages,
        args=args,
        units=unit_choices(scope, ("district", "city")),
        patrols=patrol_choices(scope),
        statuses=MEMBER_STATUSES,
        today=clock.today(),
    )


def _vetted_units(unit_ids: set[int]) -> set[int]:
    """Return which of ``unit_ids`` the user vets: there the IIN may be revealed.

    Deputies and everyone else never see it in full. One query for a whole page of members.
    """
    return core_queries.units_among(db.session, unit_ids, current_scope(*VETTING))


def _member_page(member: Member, status_form=None, assign_form=None, status: int = 200):
    status_form = status_form or MemberStatusForm()
    status_form.status.choices = [
        SelectChoice(s, MEMBER_STATUS_LABELS[s])
        for s in register.next_statuses(member.status)
        if s != "expired" and s not in HEARD_FIRST
    ]
    assign_form = assign_form or AssignUnitForm(patrol_unit_id=member.patrol_unit_id or 0)
    district = register.issuing_unit(db.session, member.unit)
    assign_form.patrol_unit_id.choices = patrol_choices(Scope.within([district.id]))
    vets = member.unit_id in _vetted_units({member.unit_id})
    return render_template(
        "volunteers/member.html",
        member=member,
        status_form=status_form,
        assign_form=assign_form,
        # Masked by default; in full for one view after an audited reveal (portal.pii).
        full_iin=vets and pii.take("member", member.id, "iin"),
        may_reveal=vets,
        can_decide=vets,
        acts=[HEARD_FIRST[s] for s in register.next_statuses(member.status) if s in HEARD_FIRST],
        may_draft=holds(member.unit_id, "registrar"),
        today=clock.today(),
        trail=audit.events_for(db.session, "member", member.id),
    ), status


@bp.route("/volunteers/members/<int:member_id>")
@allow(*REGISTER_READERS)
def member(member_id: int):
    return _member_page(get_in_scope(Member, member_id, *REGISTER_READERS))


def _member_action(member: Member, form_name: str, form, action, message: str):
    """Validate a form of the member page, run one domain command, answer like the page."""
    if not form.validate_on_submit():
        flash_form_errors(form)  # flash_form_errors: the page may not show the form (S13)
        return _member_page(member, status=400, **{form_name: form})
    with on_refusal(lambda status: _member_page(member, status=status, **{form_name: form})):
        action()
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("volunteers.member", member_id=member.id))


@bp.route("/volunteers/members/<int:member_id>/status", methods=["POST"])
@allow("registrar", "coordinator")
def member_status(member_id: int):
    member = get_in_scope(Member, member_id, *VETTING)
    form = MemberStatusForm()
    form.status.choices = [SelectChoice(s, s) for s in MEMBER_STATUSES]
    if form.status.data in HEARD_FIRST:
        # A burdensome act: the person is heard first (APPK Art. 73), on the hearing's pages.
        with on_refusal(lambda status: _member_page(member, status=status, status_form=form)):
            raise Conflict(
                N_(
                    "A member is suspended or expelled only by an act adopted after a hearing: "
                    "prepare a preliminary decision first."
                )
            )
    return _member_action(
        member,
        "status_form",
        form,
        lambda: register.change_status(
            db.session,
            member_id=member.id,
            to_status=form.status.data,
            reason=form.reason.data,
            actor_id=current_user.id,
        ),
        _("The status has been changed."),
    )


@bp.route("/volunteers/members/<int:member_id>/unit", methods=["POST"])
@allow("registrar", "coordinator")
def member_unit(member_id: int):
    member = get_in_scope(Member, member_id, *VETTING)
    form = AssignUnitForm()
    form.patrol_unit_id.choices = patrol_choices(
        Scope.within([register.issuing_unit(db.session, member.unit).id])
    )
    return _member_action(
        member,
        "assign_form",
        form,
        lambda: register.assign_to_unit(
            db.session,
            member_id=member.id,
            patrol_unit_id=form.patrol_unit_id.data or None,
            actor_id=current_user.id,
        ),
        _("The patrol unit has been changed."),
    )


# ---- staff: patrol units ----------------------------------------------------------------------


@bp.route("/volunteers/units")
@allow(*VETTING)
def units():
    rows = db.session.execute(queries.patrol_units_with_strength(current_scope(*VETTING))).all()
    return render_template("volunteers/units.html", rows=rows)


def _unit_form(patrol: PatrolUnit | None) -> PatrolUnitForm:
    form = PatrolUnitForm(obj=patrol) if patrol else PatrolUnitForm()
    scope = current_scope(*VETTING)
    form.unit_id.choices = unit_choices(scope)
    coordinators = db.session.scalars(core_queries.holders(scope, "coordinator"))
    form.coordinator_id.choices = [SelectChoice(0, "—")] + [
        SelectChoice(u.id, u.full_name) for u in coordinators
    ]
    leaders = (
        []
        if patrol is None
        else db.session.scalars(
            select(Member)
            .where(Member.patrol_unit_id == patrol.id, Member.status == "active")
            .order_by(Member.full_name)
        ).all()
    )
    form.leader_member_id.choices = [SelectChoice(0, "—")] + [
        SelectChoice(m.id, m.full_name) for m in leaders
    ]
    return form


@bp.route("/volunteers/units/new", methods=["GET", "POST"])
@bp.route("/volunteers/units/<int:patrol_unit_id>", methods=["GET", "POST"])
@allow(*VETTING)
def unit(patrol_unit_id: int | None = None):
    patrol = None
    if patrol_unit_id is not None:
        patrol = get_in_scope(PatrolUnit, patrol_unit_id, *VETTING)
    form = _unit_form(patrol)
    if form.validate_on_submit():
        with on_refusal("volunteers/unit.html", form=form, patrol=patrol, members=[]):
            saved = register.save_patrol_unit(
                db.session,
                unit_id=form.unit_id.data,
                name=form.name.data,
                coordinator_id=form.coordinator_id.data or None,
                leader_member_id=form.leader_member_id.data or None,
                actor_id=current_user.id,
                patrol_unit_id=patrol_unit_id,
            )
        db.session.commit()
        flash(_("The patrol unit has been saved."), "success")
        return redirect(url_for("volunteers.unit", patrol_unit_id=saved.id))
    members_of_unit = (
        []
        if patrol is None
        else db.session.scalars(
            select(Member).where(Member.patrol_unit_id == patrol.id).order_by(Member.full_name)
        ).all()
    )
    return render_template(
        "volunteers/unit.html", form=form, patrol=patrol, members=members_of_unit
    ), 400 if form.errors else 200
