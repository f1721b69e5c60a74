"""The coordinator's API: the applications queue and its steps, contributions to confirm, shifts.

The same rights and the same domain functions as the pages (portal.volunteers.application_views,
portal.shifts.contribution_views, portal.shifts.shift_views): vetting staff see the applications
of their jurisdiction, a step needs the role it needs on the page over the application's unit,
and an irreversible step is done only when the request says ``"confirmed": true`` (else a 409
saying what it would do, as the page's confirmation says it).
"""

from __future__ import annotations

import datetime as dt

import flask_smorest
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select

from core import accounts, clock
from core.db import utcnow
from core.errors import DomainError
from core.queries import with_units
from core.scope import Scope
from incentives import policy
from portal.api.auth import api_allow
from portal.api.coordination_schemas import (
    IN_PROGRESS,
    ApplicationRefusalSchema,
    ApplicationsFilterSchema,
    BulkConfirmationResultSchema,
    BulkConfirmationSchema,
    ConfirmationQueueFilterSchema,
    ContributionRejectionSchema,
    PlannedShiftDetailSchema,
    PlannedShiftSchema,
    PlannedShiftsFilterSchema,
    QueuedApplicationSchema,
    QueuedContributionSchema,
    StepConfirmationSchema,
    VettedApplicationSchema,
)
from portal.api.paging import page_schema, paginate
from portal.api.problems import ProblemRaised, problem
from portal.extensions import db
from portal.i18n import translate_error
from portal.security import current_scope, get_in_scope, require_unit
from portal.shifts.roles import PLANNERS
from portal.volunteers import confirm_steps
from portal.volunteers.roles import VETTING
from volunteers import contributions, enrolment, queries, register
from volunteers.activity_models import Contribution, ContributionKind, Shift
from volunteers.models import Application, Member

blp = flask_smorest.Blueprint(
    "api_coordination",
    __name__,
    url_prefix="/api/v1",
    description="The coordinator's and registrar's work: applications, confirmations, shifts.",
)


class _Shown:
    """A record with what its page computes beside it (the member, the steps on offer)."""

    def __init__(self, record, **extra):
        self._record = record
        self.__dict__.update(extra)

    def __getattr__(self, name):
        return getattr(self._record, name)


# ---- applications ---------------------------------------------------------------------------


@blp.route("/applications")
@api_allow(*VETTING)
@blp.arguments(ApplicationsFilterSchema, location="query")
@blp.response(200, page_schema(QueuedApplicationSchema))
def applications(args):
    """The applications of the caller's jurisdiction: in progress, or of one status."""
    stmt = queries.applications(current_scope(*VETTING))
    q = (args["q"] or "").strip()
    if q:
        stmt = stmt.where(queries.application_search(q))
    if args["status"]:
        stmt = stmt.where(Application.status == args["status"])
    else:
        stmt = stmt.where(Application.status.in_(IN_PROGRESS))
    if args["due"] == "overdue":
        today = clock.today()
        stmt = stmt.where(
            or_(
                Application.status.in_(("submitted", "police_check"))
                & (Application.police_due_on < today),
                (Application.status == "petitioned") & (Application.registration_due_on < today),
            )
        )
    rows, next_cursor = paginate(db.session, stmt, key=Application.id, args=args, ascending=True)
    return {"items": rows, "next_cursor": next_cursor}


def _actions(app: Application) -> list[str]:
    """The steps the application's page offers the caller now."""
    can_vet = current_scope("coordinator").contains(db.session, app.unit_id)
    can_register = current_scope("registrar").contains(db.session, app.unit_id)
    actions = []
    if can_vet and app.status == "submitted":
        actions.append("take")
    if can_vet and app.status == "police_check" and not app.check_outcome:
        actions += ["pass", "refuse"]
    if can_vet and app.status == "police_check" and app.check_outcome == "passed":
        actions.append("petition")
    if can_register and app.status == "petitioned":
        actions.append("register")
    return actions


def _application_out(application_id: int) -> _Shown:
    app = get_in_scope(Application, application_id, *VETTING)
    member = register.member_of_application(db.session, app.id)
    return _Shown(
        app,
        member_id=member.id if member else None,
        certificate_no=member.certificate_no if member else None,
        actions=_actions(app),
    )


@blp.route("/applications/<int:application_id>")
@api_allow(*VETTING)
@blp.response(200, VettedApplicationSchema)
def application(application_id: int):
    """An application as its page shows it: the IIN masked, the steps the caller may take."""
    return _application_out(application_id)


def _step(application_id: int, role: str, action, consequence=None, confirmed: bool = True):
    """Take a step on the application as its page does; unconfirmed, say what it would do."""
    app = get_in_scope(Application, application_id, *VETTING)
    require_unit(app.unit_id, role)
    if consequence is not None and not confirmed:
        raise ProblemRaised(
            409,
            consequence(app).consequence,
            [
                {
                    "pointer": "/confirmed",
                    "detail": _(
                        "Nothing has been done yet: check what this step will do and confirm it."
                    ),
                }
            ],
        )
    action(app)
    db.session.commit()
    return _application_out(application_id)


@blp.route("/applications/<int:application_id>/take", methods=["POST"])
@api_allow("coordinator")
@blp.response(200, VettedApplicationSchema)
def take_check(application_id: int):
    """Take the police check of a submitted application."""
    return _step(
        application_id,
        "coordinator",
        lambda a: enrolment.take_check(db.session, application_id=a.id, actor_id=current_user.id),
    )


@blp.route("/applications/<int:application_id>/pass", methods=["POST"])
@api_allow("coordinator")
@blp.arguments(StepConfirmationSchema)
@blp.response(200, VettedApplicationSchema)
def pass_check(data, application_id: int):
    """Record the police check as passed (irreversible: needs ``confirmed``)."""
    return _step(
        application_id,
        "coordinator",
        lambda a: enrolment.record_check(
            db.session, application_id=a.id, passed=True, reason=None, actor_id=current_user.id
        ),
        confirm_steps.pass_check,
        data["confirmed"],
    )


@blp.route("/applications/<int:application_id>/refuse", methods=["POST"])
@api_allow("coordinator")
@blp.arguments(ApplicationRefusalSchema)
@blp.response(200, VettedApplicationSchema)
def refuse(data, application_id: int):
    """Refuse the application with its legal ground (irreversible: needs ``confirmed``)."""
    return _step(
        application_id,
        "coordinator",
        lambda a: enrolment.record_check(
            db.session,
            application_id=a.id,
            passed=False,
            reason=data["reason"],
            actor_id=current_user.id,
        ),
        lambda a: confirm_steps.refuse(a, data["reason"], {}),
        data["confirmed"],
    )


@blp.route("/applications/<int:application_id>/petition", methods=["POST"])
@api_allow("coordinator")
@blp.response(200, VettedApplicationSchema)
def petition(application_id: int):
    """Petition the akimat to register an applicant who passed the check."""
    return _step(
        application_id,
        "coordinator",
        lambda a: enrolment.petition(
            db.session, application_id=a.id, actor_id=current_user.id, today=clock.today()
        ),
    )


@blp.route("/applications/<int:application_id>/register", methods=["POST"])
@api_allow("registrar")
@blp.arguments(StepConfirmationSchema)
@blp.response(200, VettedApplicationSchema)
def register_applicant(data, application_id: int):
    """Register the applicant and issue the certificate (irreversible: needs ``confirmed``)."""
    return _step(
        application_id,
        "registrar",
        lambda a: enrolment.register_applicant(
            db.session, application_id=a.id, actor_id=current_user.id, today=clock.today()
        ),
        confirm_steps.register_applicant,
        data["confirmed"],
    )


# ---- contributions --------------------------------------------------------------------------


def _contributions(scope: Scope):
    """The contributions of ``scope`` as the queue shows them: member, kind name, twin flag."""
    kind_name = {"ru": ContributionKind.name_ru, "en": ContributionKind.name_en}.get(
        str(get_locale()), ContributionKind.name_kk
    )
    return with_units(
        select(
            Contribution.id,
            Contribution.member_id,
            Member.full_name.label("member_name"),
            Contribution.kind,
            kind_name.label("kind_name"),
            Contribution.occurred_on,
            Contribution.minutes,
            Contribution.description,
            Contribution.reference,
            Contribution.status,
            Contribution.points,
            Contribution.rejection_reason,
            Contribution.corrects_id,
            Contribution.logged_by_id,
            Member.user_id.label("member_user_id"),
            contributions.has_twin().label("possible_duplicate"),
        )
        .select_from(Contribution)
        .join(Member, Member.id == Contribution.member_id)
        .join(ContributionKind, ContributionKind.code == Contribution.kind),
        Contribution.unit_id,
        scope,
    )


def _contribution_item(row) -> dict:
    item = dict(row._mapping)
    me = current_user.id
    item["yours"] = me in (item.pop("logged_by_id"), item.pop("member_user_id"))
    return item


def _contribution_out(contribution_id: int) -> dict:
    row = db.session.execute(
        _contributions(current_scope(*PLANNERS)).where(Contribution.id == contribution_id)
    ).first()
    if row is None:
        problem(404)
    return _contribution_item(row)


@blp.route("/contributions")
@api_allow(*PLANNERS)
@blp.arguments(ConfirmationQueueFilterSchema, location="query")
@blp.response(200, page_schema(QueuedContributionSchema))
def contributions_list(args):
    """The contributions of the caller's jurisdiction; by default those waiting for a decision."""
    stmt = _contributions(current_scope(*PLANNERS)).where(Contribution.status == args["status"])
    if args["member_id"]:
        stmt = stmt.where(Contribution.member_id == args["member_id"])
    rows, next_cursor = paginate(
        db.session, stmt, key=Contribution.id, args=args, ascending=True, scalars=False
    )
    return {"items": [_contribution_item(r) for r in rows], "next_cursor": next_cursor}


@blp.route("/contributions/<int:contribution_id>/confirm", methods=["POST"])
@api_allow(*PLANNERS)
@blp.response(200, QueuedContributionSchema)
def confirm_contribution(contribution_id: int):
    """Confirm a logged contribution: its points are fixed now (not yours, not logged by you)."""
    contributions.confirm(
        db.session,
        contribution_id=contribution_id,
        actor_id=current_user.id,
        scope=current_scope(*PLANNERS),
        now=utcnow(),
        points_rule=policy.points_rule(db.session),
    )
    db.session.commit()
    return _contribution_out(contribution_id)


@blp.route("/contributions/<int:contribution_id>/reject", methods=["POST"])
@api_allow(*PLANNERS)
@blp.arguments(ContributionRejectionSchema)
@blp.response(200, QueuedContributionSchema)
def reject_contribution(data, contribution_id: int):
    """Reject a logged contribution with a written reason."""
    contributions.reject(
        db.session,
        contribution_id=contribution_id,
        reason=data["reason"],
        actor_id=current_user.id,
        scope=current_scope(*PLANNERS),
        now=utcnow(),
    )
    db.session.commit()
    return _contribution_out(contribution_id)


@blp.route("/contributions/confirm", methods=["POST"])
@api_allow(*PLANNERS)
@blp.arguments(BulkConfirmationSchema)
@blp.response(200, BulkConfirmationResultSchema)
def confirm_contributions(data):
    """Confirm several contributions: each one that may be is confirmed, the others say why."""
    scope = current_scope(*PLANNERS)
    now = utcnow()
    points_rule = policy.points_rule(db.session)
    confirmed, refused = [], []
    for contribution_id in dict.fromkeys(data["ids"]):
        try:
            with db.session.begin_nested():
                contributions.confirm(
                    db.session,
                    contribution_id=contribution_id,
                    actor_id=current_user.id,
                    scope=scope,
                    now=now,
                    points_rule=points_rule,
                )
        except DomainError as exc:
            refused.append(
                {"id": contribution_id, "status": exc.status, "detail": translate_error(exc)}
            )
        else:
            confirmed.append(contribution_id)
    db.session.commit()
    return {"confirmed": confirmed, "refused": refused}


# ---- shifts and attendance ------------------------------------------------------------------


def _local_midnight(day: dt.date) -> dt.datetime | None:
    """The start of a local day in UTC; None at the ends of the calendar (no bound there)."""
    try:
        return dt.datetime.combine(day, dt.time(0), tzinfo=clock.zone()).astimezone(dt.UTC)
    except OverflowError:
        return None


@blp.route("/shifts")
@api_allow(*PLANNERS)
@blp.arguments(PlannedShiftsFilterSchema, location="query")
@blp.response(200, page_schema(PlannedShiftSchema))
def shifts_list(args):
    """The shifts of the caller's jurisdiction, newest first; by dates and unit."""
    unit_ids = current_scope(*PLANNERS).unit_ids_covered(db.session)
    if args["unit_id"]:
        inside = Scope.within([args["unit_id"]]).unit_ids_covered(db.session)
        unit_ids = inside if unit_ids is None else [u for u in unit_ids if u in set(inside)]
    stmt = queries.shifts(unit_ids)
    since = _local_midnight(args["from_"]) if args["from_"] else None
    if since is not None:
        stmt = stmt.where(Shift.starts_at >= since)
    to = args["to"]
    until = _local_midnight(to + dt.timedelta(days=1)) if to and to < dt.date.max else None
    if until is not None:
        stmt = stmt.where(Shift.starts_at < until)
    rows, next_cursor = paginate(db.session, stmt, key=Shift.id, args=args)
    return {"items": rows, "next_cursor": next_cursor}


@blp.route("/shifts/<int:shift_id>")
@api_allow(*PLANNERS)
@blp.response(200, PlannedShiftDetailSchema)
def shift(shift_id: int):
    """A shift with its sign-ups and their attendance, the offline marks included."""
    found = get_in_scope(Shift, shift_id, *PLANNERS)
    signups = db.session.scalars(queries.roster(found.id)).all()
    supervisor = db.session.get(accounts.User, found.supervisor_id) if found.supervisor_id else None
    return _Shown(
        found, signups=signups, supervisor_name=supervisor.full_name if supervisor else None
    )
