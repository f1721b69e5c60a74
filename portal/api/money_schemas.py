"""Schemas of the money resources: budget lines, maslikhat decisions, ledger entries, payouts.

Each item holds what the finance and deputies' pages show of the record, no more: payouts
name the recipient as the payout list does and show the IBAN masked (``KZ** **** **** 1234``).
"""

from __future__ import annotations

import datetime as dt

import marshmallow as ma
from marshmallow import fields, validate

from budget.models import DECISION_KINDS, DECISION_STATUSES, ENTRY_KINDS, PURPOSES
from incentives.models import FORMS, PAYOUT_STATUSES
from portal.api.paging import PageArgs

# A day's bounds in local time must stay inside the years Python knows (as ``arg_date``).
LOCAL_DAYS = validate.Range(
    min=dt.date(dt.MINYEAR + 1, 1, 1),
    max=dt.date(dt.MAXYEAR - 1, 12, 31),
    error="Out of range.",
)
_ID = validate.Range(min=1, max=2_147_483_647, error="Out of range.")
PAYOUT_STATES = ("awaiting", *PAYOUT_STATUSES)


class MoneyUnitSchema(ma.Schema):
    """A jurisdiction, named in the language of the request."""

    id = fields.Integer(required=True)
    kato = fields.String(required=True)
    name = fields.String(required=True)


class BudgetProgramSchema(ma.Schema):
    """The budget program a line belongs to."""

    id = fields.Integer(required=True)
    code = fields.String(required=True, metadata={"description": "e.g. 03-6-252-003-100"})
    fiscal_year = fields.Integer(required=True)
    name_kk = fields.String(required=True)
    name_ru = fields.String(required=True)
    administrator_body = fields.String(required=True)


class BudgetLineSchema(ma.Schema):
    """A budget line with its balance, as the list of lines shows it."""

    id = fields.Integer(required=True)
    purpose = fields.String(required=True, metadata={"enum": list(PURPOSES)})
    approved_tiyn = fields.Integer(required=True)
    committed_tiyn = fields.Integer(required=True)
    disbursed_tiyn = fields.Integer(required=True)
    available_tiyn = fields.Integer(required=True)
    program = fields.Nested(BudgetProgramSchema, required=True)
    unit = fields.Nested(MoneyUnitSchema, required=True)
    year_closed = fields.Boolean(required=True)


class BudgetAmendmentSchema(ma.Schema):
    """A change of the line's approved amount by a maslikhat decision."""

    decision_id = fields.Integer(required=True)
    number = fields.String(required=True)
    decided_on = fields.Date(required=True)
    session_number = fields.String(required=True)
    kind = fields.String(required=True, metadata={"enum": list(DECISION_KINDS)})
    status = fields.String(required=True, metadata={"enum": list(DECISION_STATUSES)})
    verified_by = fields.String(required=True, allow_none=True)
    verified_at = fields.DateTime(required=True, allow_none=True)
    delta_tiyn = fields.Integer(required=True)


class BudgetLineDetailSchema(BudgetLineSchema):
    """A budget line and the decisions that changed it (its ledger: ``/ledger-entries?line=``)."""

    amendments = fields.List(fields.Nested(BudgetAmendmentSchema), required=True)


class BudgetLineArgs(PageArgs):
    year = fields.Integer(load_default=None, validate=validate.Range(min=2000, max=2100))
    purpose = fields.String(load_default=None, validate=validate.OneOf(PURPOSES))
    unit = fields.Integer(
        load_default=None,
        validate=_ID,
        metadata={"description": "Only this jurisdiction and the units below it"},
    )


class MaslikhatDecisionSchema(ma.Schema):
    """A maslikhat decision on the budget, entered by one finance officer, verified by another."""

    id = fields.Integer(required=True)
    number = fields.String(required=True)
    decided_on = fields.Date(required=True)
    session_number = fields.String(required=True)
    kind = fields.String(required=True, metadata={"enum": list(DECISION_KINDS)})
    reference = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": list(DECISION_STATUSES)})
    unit = fields.Nested(MoneyUnitSchema, required=True)
    entered_by = fields.String(required=True, allow_none=True)
    entered_at = fields.DateTime(required=True)
    verified_by = fields.String(required=True, allow_none=True)
    verified_at = fields.DateTime(required=True, allow_none=True)


class MaslikhatDecisionArgs(PageArgs):
    kind = fields.String(load_default=None, validate=validate.OneOf(DECISION_KINDS))
    pending = fields.Boolean(
        load_default=False, metadata={"description": "Only those awaiting verification"}
    )


class LedgerEntrySchema(ma.Schema):
    """A movement of money on a line; ``reference_number`` is the number the ledger shows
    (a payout and a commitment by the number of the reward they concern)."""

    id = fields.Integer(required=True)
    line_id = fields.Integer(required=True)
    at = fields.DateTime(required=True)
    kind = fields.String(required=True, metadata={"enum": list(ENTRY_KINDS)})
    amount_tiyn = fields.Integer(required=True)
    reference_type = fields.String(required=True)
    reference_number = fields.String(required=True)
    note = fields.String(required=True)
    actor = fields.String(
        required=True, allow_none=True, metadata={"description": "null: the system"}
    )


class LedgerArgs(PageArgs):
    line = fields.Integer(load_default=None, validate=_ID)
    kind = fields.String(load_default=None, validate=validate.OneOf(ENTRY_KINDS))
    date_from = fields.Date(
        load_default=None,
        data_key="from",
        validate=LOCAL_DAYS,
        metadata={"description": "Local day"},
    )
    date_to = fields.Date(
        load_default=None, data_key="to", validate=LOCAL_DAYS, metadata={"description": "Local day"}
    )


class PayoutSchema(ma.Schema):
    """An approved reward and its payout, as the payout list shows it.

    ``id`` is the reward's number (its agenda item), the number the payment page and the
    ledger name it by. ``status`` is ``awaiting`` until a payout is recorded. Paid amounts are
    given once paid or handed over; the IBAN only masked.
    """

    id = fields.Integer(required=True)
    session_id = fields.Integer(required=True)
    held_on = fields.Date(required=True)
    commission = fields.String(required=True)
    recipient = fields.String(required=True)
    form = fields.String(required=True, metadata={"enum": list(FORMS)})
    amount_tiyn = fields.Integer(required=True, allow_none=True)
    line_id = fields.Integer(required=True, allow_none=True)
    status = fields.String(required=True, metadata={"enum": list(PAYOUT_STATES)})
    waiting_for = fields.String(
        required=True, allow_none=True, metadata={"enum": ["final_minutes", "act", None]}
    )
    gross_tiyn = fields.Integer(required=True, allow_none=True)
    net_tiyn = fields.Integer(required=True, allow_none=True)
    withheld_tiyn = fields.Integer(required=True, allow_none=True)
    iban = fields.String(
        required=True, allow_none=True, metadata={"description": "Masked: KZ** **** **** 1234"}
    )


class PayoutArgs(PageArgs):
    status = fields.String(load_default=None, validate=validate.OneOf(PAYOUT_STATES))
    line = fields.Integer(load_default=None, validate=_ID)
