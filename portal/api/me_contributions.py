"""The volunteer's contributions: the kinds to choose from, my history, logging one for
confirmation (the same rules as the "My contributions" page)."""

from __future__ import annotations

import marshmallow as ma
from flask_babel import get_locale
from flask_login import current_user
from flask_smorest import Blueprint

from core import clock
from core.db import utcnow
from portal.api.auth import api_allow
from portal.api.paging import PageArgs, page_schema, paginate
from portal.extensions import db
from portal.security import SIGNED_IN
from portal.shifts.roles import my_member
from volunteers import contributions
from volunteers import queries as volunteer_queries
from volunteers.activity_models import CONTRIBUTION_STATUSES, MEASURES, Contribution

blp = Blueprint(
    "api_me_contributions",
    __name__,
    url_prefix="/api/v1",
    description="My contributions: the history and logging one for confirmation",
)


def _kind_name(kind) -> str:
    return kind.name(str(get_locale()))


class ContributionKindSchema(ma.Schema):
    code = ma.fields.String(required=True)
    name = ma.fields.Function(_kind_name, required=True)
    measure = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(MEASURES),
        metadata={"description": "hours: give minutes of patrol; count: one event per record"},
    )
    needs_reference = ma.fields.Boolean(required=True)


class ContributionKindListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ContributionKindSchema), required=True)


class ContributionSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    member_id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True)
    kind_name = ma.fields.Function(lambda c: _kind_name(c.kind_ref), required=True)
    occurred_on = ma.fields.Date(required=True)
    minutes = ma.fields.Integer(allow_none=True)
    description = ma.fields.String(required=True)
    reference = ma.fields.String(allow_none=True)
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(CONTRIBUTION_STATUSES))
    points = ma.fields.Integer(allow_none=True)
    rejection_reason = ma.fields.String(allow_none=True)
    corrects_id = ma.fields.Integer(allow_none=True)
    signup_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "The shift whose check-out logged these hours"}
    )


class MemberArgs(PageArgs):
    member_id = ma.fields.Integer(
        load_default=None,
        metadata={"description": "One of my memberships; the first active one by default"},
    )


class LogContributionSchema(ma.Schema):
    member_id = ma.fields.Integer(
        load_default=None,
        metadata={"description": "One of my memberships; the first active one by default"},
    )
    kind = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=40, error="Invalid value."),
        metadata={"description": "A code of /me/contribution-kinds"},
    )
    occurred_on = ma.fields.Date(required=True)
    minutes = ma.fields.Integer(
        load_default=None,
        validate=ma.validate.Range(min=15, max=960, error="Out of range."),
        metadata={"description": "Minutes of patrol (kinds measured in hours only)"},
    )
    description = ma.fields.String(
        required=True,
        validate=[
            ma.validate.Length(min=1, error="Missing data for required field."),
            ma.validate.Length(max=2000, error="Too long."),
        ],
    )
    reference = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=100, error="Too long."),
        metadata={"description": "The registration reference, e.g. the KUSP number"},
    )

    @ma.validates("kind")
    def _known_kind(self, value, **_kwargs):
        if value not in {k.code for k in contributions.kinds(db.session)}:
            raise ma.ValidationError("Must be one of the allowed values.")


@blp.route("/me/contribution-kinds")
@api_allow(SIGNED_IN)
@blp.response(200, ContributionKindListSchema)
def kinds():
    """Return the kinds of contribution one may log, in display order."""
    return {"items": contributions.kinds(db.session)}


@blp.route("/me/contributions")
@api_allow(SIGNED_IN)
@blp.arguments(MemberArgs, location="query")
@blp.response(200, page_schema(ContributionSchema))
@blp.alt_response(404, response="NOT_FOUND")  # not one of my memberships
def history(args):
    """Return my contributions (one membership), newest logged first (404 without one)."""
    member = my_member(args["member_id"])
    stmt = volunteer_queries.member_contributions(member.id).order_by(None)
    rows, next_cursor = paginate(db.session, stmt, key=Contribution.id, args=args)
    return {"items": rows, "next_cursor": next_cursor}


@blp.route("/me/contributions", methods=["POST"])
@api_allow(SIGNED_IN)
@blp.arguments(LogContributionSchema)
@blp.response(201, ContributionSchema)
@blp.alt_response(404, response="NOT_FOUND")  # not one of my memberships
def log(data):
    """Log a contribution for a coordinator's confirmation."""
    member = my_member(data["member_id"])
    contribution = contributions.log_contribution(
        db.session,
        member_id=member.id,
        kind=data["kind"],
        occurred_on=data["occurred_on"],
        minutes=data["minutes"],
        description=data["description"],
        reference=data["reference"],
        actor_id=current_user.id,
        today=clock.local_date(utcnow()),
    )
    db.session.commit()
    return contribution
