"""The coordinator's API schemas: applications, contributions to confirm, shifts and attendance.

Each item carries what the corresponding page shows, masked as that page masks it: the
applications list shows no IIN and no contacts; an application's page shows the IIN masked.
"""

from __future__ import annotations

import marshmallow as ma
from flask_babel import gettext as _

from core import clock
from core.iin import mask_iin
from portal.api.paging import PageArgs
from portal.forms import INT_MAX
from portal.i18n import unit_name
from volunteers.activity_models import CONTRIBUTION_STATUSES, SIGNUP_STATUSES
from volunteers.models import APPLICATION_STATUSES, CHANNELS, KINDS

IN_PROGRESS = ("submitted", "police_check", "petitioned")
MAX_BULK = 100
# marshmallow's own wording, which portal.api.problems translates.
_OUT_OF_RANGE = "Out of range."
_TOO_LONG = "Too long."


def _id(**kwargs) -> ma.fields.Integer:
    """A record's id: a positive INTEGER (a larger number is refused, not sent to the database)."""
    return ma.fields.Integer(
        validate=ma.validate.Range(min=1, max=INT_MAX, error=_OUT_OF_RANGE), **kwargs
    )


APPLICATION_ACTIONS = ("take", "pass", "refuse", "petition", "register")


def _unit_name(record) -> str | None:
    return unit_name(record.unit) if record.unit is not None else None


def _due_on(app) -> str | None:
    """The deadline of the application's current step (none once it is no longer in progress)."""
    if app.status not in IN_PROGRESS:
        return None
    day = app.registration_due_on if app.status == "petitioned" else app.police_due_on
    return day.isoformat() if day else None


# ---- applications ---------------------------------------------------------------------------


class ApplicationsFilterSchema(PageArgs):
    status = ma.fields.String(
        load_default=None,
        validate=ma.validate.OneOf(APPLICATION_STATUSES),
        metadata={"description": "One status; without it, the applications in progress"},
    )
    due = ma.fields.String(
        load_default=None,
        validate=ma.validate.OneOf(("overdue",)),
        metadata={"description": "overdue: a legal deadline of the current step has passed"},
    )
    q = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(max=200, error=_TOO_LONG),
        metadata={"description": "A surname, a first name or their beginning; or a whole IIN"},
    )


class QueuedApplicationSchema(ma.Schema):
    """One row of the applications queue (no IIN, no contacts: the list page shows none)."""

    id = ma.fields.Integer(required=True)
    full_name = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, metadata={"enum": list(KINDS)})
    channel = ma.fields.String(required=True, metadata={"enum": list(CHANNELS)})
    unit_id = ma.fields.Integer(required=True)
    unit_name = ma.fields.Function(_unit_name, dump_only=True)
    status = ma.fields.String(required=True, metadata={"enum": list(APPLICATION_STATUSES)})
    due_on = ma.fields.Function(
        _due_on,
        metadata={"description": "The deadline of the current step (null when not in progress)"},
    )
    overdue = ma.fields.Function(lambda a: a.overdue(clock.today()))


class ApplicationConsentSchema(ma.Schema):
    version = ma.fields.String(required=True)
    given_at = ma.fields.DateTime(required=True)
    withdrawn_at = ma.fields.DateTime(allow_none=True)


class VettedApplicationSchema(QueuedApplicationSchema):
    """An application as its page shows it to vetting staff: the IIN masked."""

    iin_masked = ma.fields.Function(lambda a: mask_iin(a.iin) if a.iin else None)
    birth_date = ma.fields.Date()
    phone = ma.fields.String(allow_none=True)
    email = ma.fields.String(allow_none=True)
    address = ma.fields.String(allow_none=True)
    patrol_unit_id = ma.fields.Integer(allow_none=True)
    patrol_unit_name = ma.fields.Function(
        lambda a: a.patrol_unit.name if a.patrol_unit is not None else None
    )
    submitted_at = ma.fields.DateTime()
    police_due_on = ma.fields.Date()
    check_outcome = ma.fields.String(allow_none=True, metadata={"enum": ["passed", "refused"]})
    refusal_reason = ma.fields.String(allow_none=True)
    registration_due_on = ma.fields.Date(allow_none=True)
    consents = ma.fields.List(ma.fields.Nested(ApplicationConsentSchema))
    member_id = ma.fields.Integer(allow_none=True)
    certificate_no = ma.fields.String(allow_none=True)
    actions = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(APPLICATION_ACTIONS)),
        metadata={"description": "The steps the caller may take now (POST …/{action})"},
    )


class StepConfirmationSchema(ma.Schema):
    """An irreversible step: nothing is done without ``confirmed: true`` (a 409 says what)."""

    confirmed = ma.fields.Boolean(load_default=False)


class ApplicationRefusalSchema(StepConfirmationSchema):
    reason = ma.fields.String(
        required=True,
        validate=ma.validate.Length(max=2000, error=_TOO_LONG),
        metadata={"description": "The legal ground; never medical details"},
    )


# ---- contributions --------------------------------------------------------------------------


class ConfirmationQueueFilterSchema(PageArgs):
    status = ma.fields.String(
        load_default="logged",
        validate=ma.validate.OneOf(CONTRIBUTION_STATUSES),
        metadata={"description": "logged: waiting for a decision (the confirmation queue)"},
    )
    member_id = _id(load_default=None)


class QueuedContributionSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    member_id = ma.fields.Integer(required=True)
    member_name = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    kind_name = ma.fields.String(required=True)
    occurred_on = ma.fields.Date(required=True)
    minutes = ma.fields.Integer(allow_none=True)
    description = ma.fields.String(required=True)
    reference = ma.fields.String(allow_none=True)
    status = ma.fields.String(required=True, metadata={"enum": list(CONTRIBUTION_STATUSES)})
    points = ma.fields.Integer(allow_none=True)
    rejection_reason = ma.fields.String(allow_none=True)
    corrects_id = ma.fields.Integer(allow_none=True)
    possible_duplicate = ma.fields.Boolean(
        metadata={"description": "The same member, kind, date and reference are logged twice"}
    )
    yours = ma.fields.Boolean(
        metadata={"description": "Yours or logged by you: another coordinator decides"}
    )


class ContributionRejectionSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=ma.validate.Length(max=1000, error=_TOO_LONG))


def _one_to_max(ids: list) -> None:
    if not 1 <= len(ids) <= MAX_BULK:
        raise ma.ValidationError(_("Give from 1 to %(n)s contributions.", n=MAX_BULK))


class BulkConfirmationSchema(ma.Schema):
    ids = ma.fields.List(
        _id(),
        required=True,
        validate=_one_to_max,
        metadata={"minItems": 1, "maxItems": MAX_BULK},
    )


class BulkRefusalSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    status = ma.fields.Integer(required=True, metadata={"description": "The HTTP status alone"})
    detail = ma.fields.String(required=True)


class BulkConfirmationResultSchema(ma.Schema):
    confirmed = ma.fields.List(ma.fields.Integer(), required=True)
    refused = ma.fields.List(ma.fields.Nested(BulkRefusalSchema), required=True)


# ---- shifts and attendance ------------------------------------------------------------------


class PlannedShiftsFilterSchema(PageArgs):
    from_ = ma.fields.Date(
        data_key="from",
        load_default=None,
        metadata={"description": "Shifts starting on or after this local date"},
    )
    to = ma.fields.Date(
        load_default=None, metadata={"description": "Shifts starting on or before this local date"}
    )
    unit_id = _id(
        load_default=None,
        metadata={"description": "Only the shifts of this unit and the units within it"},
    )

    @ma.validates_schema
    def _order(self, data, **_kwargs):
        if data.get("from_") and data.get("to") and data["to"] < data["from_"]:
            raise ma.ValidationError(_("The end date must not be before the start date."), "to")


class PlannedShiftSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    unit_id = ma.fields.Integer(required=True)
    unit_name = ma.fields.Function(_unit_name, dump_only=True)
    patrol_unit_id = ma.fields.Integer(allow_none=True)
    patrol_unit_name = ma.fields.Function(
        lambda s: s.patrol_unit.name if s.patrol_unit is not None else None
    )
    place = ma.fields.String(required=True)
    starts_at = ma.fields.DateTime(required=True)
    ends_at = ma.fields.DateTime(required=True)
    capacity = ma.fields.Integer(required=True)
    taken = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True, metadata={"enum": ["planned", "cancelled"]})
    closed_at = ma.fields.DateTime(allow_none=True)
    supervisor_id = ma.fields.Integer(allow_none=True)


class ShiftAttendanceSchema(ma.Schema):
    """A sign-up as the shift's page lists it."""

    id = ma.fields.Integer(required=True)
    member_id = ma.fields.Integer(required=True)
    member_name = ma.fields.Function(lambda s: s.member.full_name)
    status = ma.fields.String(required=True, metadata={"enum": list(SIGNUP_STATUSES)})
    checked_in_at = ma.fields.DateTime(allow_none=True)
    checked_out_at = ma.fields.DateTime(allow_none=True)
    checked_in_offline = ma.fields.Boolean(
        required=True, metadata={"description": "Tapped offline: the time is the tap's"}
    )
    checked_out_offline = ma.fields.Boolean(required=True)
    located = ma.fields.Function(
        lambda s: s.latitude_e6 is not None,
        metadata={"description": "The member shared the location at check-in"},
    )


class PlannedShiftDetailSchema(PlannedShiftSchema):
    cancel_reason = ma.fields.String(allow_none=True)
    supervisor_name = ma.fields.String(allow_none=True)
    signups = ma.fields.List(ma.fields.Nested(ShiftAttendanceSchema))
