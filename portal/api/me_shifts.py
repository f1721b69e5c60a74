"""The volunteer's shifts: my sign-ups, the open shifts, signing up, giving up a place, checking
in and out (live, or a tap made offline with its time: ``tapped_at``).

The same domain steps as the "My shifts" page; someone else's sign-up is "not found".
"""

from __future__ import annotations

import marshmallow as ma
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Blueprint

from core.db import utcnow
from portal.api.auth import api_allow
from portal.api.me_contributions import MemberArgs
from portal.api.paging import PageArgs, page_schema, paginate
from portal.api.problems import problem
from portal.extensions import db
from portal.i18n import hours_minutes, unit_name
from portal.security import SIGNED_IN
from portal.shifts.roles import my_member, my_signup
from portal.shifts.views import early_check_out_minutes
from volunteers import attendance, shifts
from volunteers import queries as volunteer_queries
from volunteers.activity_models import SHIFT_STATUSES, SIGNUP_STATUSES, Shift, Signup

blp = Blueprint(
    "api_me_shifts",
    __name__,
    url_prefix="/api/v1",
    description="My patrol shifts: sign-ups, check-in and check-out",
)


# ---- schemas ----------------------------------------------------------------------------------


class SignupSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    shift_id = ma.fields.Integer(required=True)
    member_id = ma.fields.Integer(required=True)
    place = ma.fields.String(required=True, attribute="shift.place")
    unit_name = ma.fields.Function(lambda s: unit_name(s.shift.unit), required=True)
    starts_at = ma.fields.DateTime(required=True)
    ends_at = ma.fields.DateTime(required=True)
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(SIGNUP_STATUSES))
    checked_in_at = ma.fields.DateTime(allow_none=True)
    checked_out_at = ma.fields.DateTime(allow_none=True)
    checked_in_offline = ma.fields.Boolean(
        required=True, metadata={"description": "The check-in was tapped offline"}
    )
    checked_out_offline = ma.fields.Boolean(
        required=True, metadata={"description": "The check-out was tapped offline"}
    )
    shift_status = ma.fields.String(
        required=True, attribute="shift.status", validate=ma.validate.OneOf(SHIFT_STATUSES)
    )


class OpenShiftSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    place = ma.fields.String(required=True)
    unit_id = ma.fields.Integer(required=True)
    unit_name = ma.fields.Function(lambda s: unit_name(s.unit), required=True)
    patrol_unit_name = ma.fields.Function(
        lambda s: s.patrol_unit.name if s.patrol_unit else None, allow_none=True
    )
    starts_at = ma.fields.DateTime(required=True)
    ends_at = ma.fields.DateTime(required=True)
    capacity = ma.fields.Integer(required=True)
    free_places = ma.fields.Function(lambda s: max(s.capacity - s.taken, 0), required=True)


class SignupFilterSchema(PageArgs):
    status = ma.fields.String(
        load_default=None,
        validate=ma.validate.OneOf(SIGNUP_STATUSES, error="Must be one of the allowed values."),
        metadata={"description": "One status; every status without it"},
    )
    member_id = ma.fields.Integer(
        load_default=None, metadata={"description": "One of my memberships; all of them without it"}
    )


class SignUpSchema(ma.Schema):
    member_id = ma.fields.Integer(
        load_default=None,
        metadata={"description": "One of my memberships; the first active one by default"},
    )


def _tapped_at():
    return ma.fields.DateTime(
        load_default=None,
        metadata={
            "description": "When the tap was made offline (ISO 8601 with offset); the time "
            "recorded, marked offline, within the akimat's limit. Leave out for a live tap."
        },
    )


class CheckInSchema(ma.Schema):
    latitude = ma.fields.Float(
        load_default=None,
        allow_nan=False,
        validate=ma.validate.Range(min=-90, max=90, error="Out of range."),
        metadata={"description": "Only when the member chose to share the location"},
    )
    longitude = ma.fields.Float(
        load_default=None,
        allow_nan=False,
        validate=ma.validate.Range(min=-180, max=180, error="Out of range."),
    )
    tapped_at = _tapped_at()

    @ma.validates_schema
    def _both_or_neither(self, data, **_kwargs):
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            missing = "longitude" if data.get("longitude") is None else "latitude"
            raise ma.ValidationError("Missing data for required field.", missing)


class CheckOutSchema(ma.Schema):
    tapped_at = _tapped_at()
    confirmed = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "Required (true) for a check-out soon after the check-in"},
    )


# ---- links: where an answer's ids lead (OpenAPI links, for clients and generated tests) -------


def _ref(path: str) -> str:
    return "#/paths/" + f"/api/v1{path}".replace("~", "~0").replace("/", "~1") + "/post"


def _links(status: int, source: str, *actions: str) -> dict:
    """Document that the id at ``source`` of this answer is the sign-up of ``actions``."""
    links = {}
    for action in actions:
        if action == "sign-up":
            target, name = "/me/shifts/{shift_id}/sign-up", "shift_id"
        else:
            target, name = f"/me/signups/{{signup_id}}/{action}", "signup_id"
        key = "".join(part.title() for part in action.split("-"))
        links[key] = {"operationRef": _ref(target), "parameters": {name: source}}
    return {"responses": {str(status): {"links": links}}}


# ---- views ------------------------------------------------------------------------------------


@blp.route("/me/shifts")
@api_allow(SIGNED_IN)
@blp.arguments(SignupFilterSchema, location="query")
@blp.response(200, page_schema(SignupSchema))
@blp.alt_response(404, response="NOT_FOUND")  # not one of my memberships
@blp.doc(**_links(200, "$response.body#/items/0/id", "cancel", "check-in", "check-out"))
def my_shifts(args):
    """Return my sign-ups, newest first (all my memberships, or one)."""
    if args["member_id"] is not None:
        my_member(args["member_id"])  # someone else's membership: 404
    stmt = volunteer_queries.signups_of_user(
        current_user.id, member_id=args["member_id"], status=args["status"]
    ).order_by(None)
    rows, next_cursor = paginate(db.session, stmt, key=Signup.id, args=args)
    return {"items": rows, "next_cursor": next_cursor}


@blp.route("/me/open-shifts")
@api_allow(SIGNED_IN)
@blp.arguments(MemberArgs, location="query")
@blp.response(200, page_schema(OpenShiftSchema))
@blp.alt_response(404, response="NOT_FOUND")  # not one of my memberships
@blp.doc(**_links(200, "$response.body#/items/0/id", "sign-up"))
def open_shifts(args):
    """Return the upcoming shifts my membership may join and has no place on, in the order
    they were planned (404 without a membership)."""
    member = my_member(args["member_id"])
    stmt = volunteer_queries.open_shifts_to_join(member, utcnow()).order_by(None)
    rows, next_cursor = paginate(db.session, stmt, key=Shift.id, args=args, ascending=True)
    return {"items": rows, "next_cursor": next_cursor}


@blp.route("/me/shifts/<int:shift_id>/sign-up", methods=["POST"])
@api_allow(SIGNED_IN)
@blp.arguments(SignUpSchema)
@blp.response(201, SignupSchema)
@blp.doc(**_links(201, "$response.body#/id", "cancel", "check-in"))
def sign_up(data, shift_id: int):
    """Take a place on a shift (capacity and overlaps are decided by the database)."""
    member = my_member(data["member_id"])
    signup = shifts.sign_up(
        db.session, shift_id=shift_id, member_id=member.id, actor_id=current_user.id, now=utcnow()
    )
    db.session.commit()
    return signup


@blp.route("/me/signups/<int:signup_id>/cancel", methods=["POST"])
@api_allow(SIGNED_IN)
@blp.response(200, SignupSchema)
def cancel(signup_id: int):
    """Give up my place before the shift starts."""
    signup = my_signup(signup_id)
    shifts.cancel_signup(db.session, signup_id=signup.id, actor_id=current_user.id, now=utcnow())
    db.session.commit()
    return signup


@blp.route("/me/signups/<int:signup_id>/check-in", methods=["POST"])
@api_allow(SIGNED_IN)
@blp.arguments(CheckInSchema)
@blp.response(200, SignupSchema)
@blp.doc(**_links(200, "$response.body#/id", "check-out"))
def check_in(data, signup_id: int):
    """Check in: now, or at ``tapped_at`` for a tap made offline."""
    signup = my_signup(signup_id)
    attendance.check_in(
        db.session,
        signup_id=signup.id,
        actor_id=current_user.id,
        now=utcnow(),
        latitude=data["latitude"],
        longitude=data["longitude"],
        tapped_at=data["tapped_at"],
    )
    db.session.commit()
    return signup


@blp.route("/me/signups/<int:signup_id>/check-out", methods=["POST"])
@api_allow(SIGNED_IN)
@blp.arguments(CheckOutSchema)
@blp.response(200, SignupSchema)
def check_out(data, signup_id: int):
    """Check out: now, or at ``tapped_at``. Soon after the check-in the page asks to confirm;
    here ``"confirmed": true`` is required then, else 409."""
    signup = my_signup(signup_id)
    now = utcnow()
    at = data["tapped_at"] or now
    # A naive tap time is the domain's refusal (422 at /tapped_at), not a question to confirm.
    worked = early_check_out_minutes(signup, at) if at.tzinfo else None
    if worked is not None and not data["confirmed"]:
        problem(
            409,
            _(
                "You checked in %(worked)s ago: checking out now ends your shift and logs "
                '%(worked)s of patrol. Send "confirmed": true to check out.',
                worked=hours_minutes(worked),
            ),
            pointer="/confirmed",
        )
    attendance.check_out(
        db.session,
        signup_id=signup.id,
        actor_id=current_user.id,
        now=now,
        tapped_at=data["tapped_at"],
    )
    db.session.commit()
    return signup
