"""The signed-in person's own records: account, memberships, certificate, rewards, inbox.

Each answer carries what the person's own pages show them (the cabinet, the certificate's
public check, "My rewards", the inbox), masked as those pages mask it, read through the same
queries.
"""

from __future__ import annotations

import marshmallow as ma
from flask import url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Blueprint

from core import clock, notifications, payout_accounts
from core.outputs import mask_iban
from incentives import payouts
from incentives import queries as reward_queries
from portal.api.auth import api_allow
from portal.api.paging import PageArgs, page_schema, paginate
from portal.commission.page_reads import payout_states
from portal.commission.views import outcome_text
from portal.extensions import db
from portal.i18n import local_name, unit_name
from portal.mail import render
from portal.security import SIGNED_IN
from portal.shifts.roles import my_member, my_members
from volunteers import certificates
from volunteers.models import KINDS, MEMBER_STATUSES

blp = Blueprint(
    "api_me", __name__, url_prefix="/api/v1", description="The signed-in person's own records"
)

PAID = ("paid", "handed_over")  # the states in which "My rewards" shows the amounts paid


# ---- schemas ----------------------------------------------------------------------------------


class MeSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    full_name = ma.fields.String(required=True)
    email = ma.fields.String(allow_none=True)
    preferred_language = ma.fields.String(required=True)
    unit_id = ma.fields.Integer(required=True)
    unit_name = ma.fields.String(required=True)
    payout_iban = ma.fields.String(
        allow_none=True,
        metadata={"description": "Masked as the cabinet shows it: KZ** **** **** 1234"},
    )
    unread_notifications = ma.fields.Integer(required=True)


class MembershipSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(KINDS))
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(MEMBER_STATUSES))
    unit_id = ma.fields.Integer(required=True)
    unit_name = ma.fields.Function(lambda m: unit_name(m.unit), required=True)
    patrol_unit_name = ma.fields.Function(
        lambda m: m.patrol_unit.name if m.patrol_unit else None, allow_none=True
    )
    certificate_no = ma.fields.String(required=True)
    issued_on = ma.fields.Date(required=True)
    expires_on = ma.fields.Date(required=True)
    can_sign_up = ma.fields.Function(
        lambda m: m.status == "active" and m.expires_on >= clock.today(),
        required=True,
        metadata={"description": "An active membership with a valid certificate"},
    )
    verify_url = ma.fields.Function(
        lambda m: url_for("volunteers.verify", token=m.verify_token, _external=True),
        required=True,
        metadata={"description": "The certificate's public check"},
    )


class MembershipListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(MembershipSchema), required=True)


class CertificateArgs(ma.Schema):
    member_id = ma.fields.Integer(
        load_default=None,
        metadata={"description": "One of my memberships; the first active one by default"},
    )


class CertificateSchema(ma.Schema):
    member_id = ma.fields.Integer(required=True)
    certificate_no = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(KINDS))
    full_name = ma.fields.String(required=True)
    unit_name = ma.fields.String(required=True)
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(MEMBER_STATUSES))
    issued_on = ma.fields.Date(required=True)
    expires_on = ma.fields.Date(required=True)
    valid = ma.fields.Boolean(required=True)
    not_valid_reason = ma.fields.String(
        allow_none=True, metadata={"description": "Why it is not valid today (translated)"}
    )
    verify_url = ma.fields.String(required=True)


class PayoutStateSchema(ma.Schema):
    status = ma.fields.String(
        required=True, metadata={"description": "The payout's status; awaiting before one exists"}
    )
    gross_tiyn = ma.fields.Integer(allow_none=True)
    withheld_tiyn = ma.fields.Integer(allow_none=True)
    net_tiyn = ma.fields.Integer(allow_none=True)
    order_date = ma.fields.Date(allow_none=True)
    iban = ma.fields.String(allow_none=True, metadata={"description": "Masked"})


class RewardSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    form = ma.fields.String(required=True)
    amount_tiyn = ma.fields.Integer(allow_none=True)
    commission_name = ma.fields.String(required=True)
    nominated_at = ma.fields.DateTime(required=True)
    status = ma.fields.String(required=True)
    outcome_reason = ma.fields.String(allow_none=True, metadata={"description": "Translated"})
    payout = ma.fields.Nested(
        PayoutStateSchema,
        allow_none=True,
        metadata={"description": "Once the commission approved the reward"},
    )


class RewardListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(RewardSchema), required=True)


class NotificationSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True)
    subject = ma.fields.String(required=True)
    text = ma.fields.String(required=True)
    link = ma.fields.String(allow_none=True, metadata={"description": "The page it is about"})
    created_at = ma.fields.DateTime(required=True)
    read_at = ma.fields.DateTime(allow_none=True)


# ---- views ------------------------------------------------------------------------------------


@blp.route("/me")
@api_allow(SIGNED_IN)
@blp.response(200, MeSchema)
def me():
    """Return my account as the cabinet shows it."""
    iban = payout_accounts.iban_of(db.session, current_user.id)
    return {
        "id": current_user.id,
        "full_name": current_user.full_name,
        "email": current_user.email,
        "preferred_language": current_user.preferred_language,
        "unit_id": current_user.unit_id,
        "unit_name": unit_name(current_user.unit),
        "payout_iban": mask_iban(iban) if iban else None,
        "unread_notifications": notifications.unread_count(db.session, current_user.id),
    }


@blp.route("/me/memberships")
@api_allow(SIGNED_IN)
@blp.response(200, MembershipListSchema)
def memberships():
    """Return my memberships of the register (empty before registration)."""
    return {"items": my_members()}


@blp.route("/me/certificate")
@api_allow(SIGNED_IN)
@blp.arguments(CertificateArgs, location="query")
@blp.response(200, CertificateSchema)
@blp.alt_response(404, response="NOT_FOUND")  # not one of my memberships
def certificate(args):
    """Return my certificate: its number, dates and whether it is valid today (404 without one)."""
    member = my_member(args["member_id"])
    reason = certificates.why_not_valid(member, clock.today())
    return {
        "member_id": member.id,
        "certificate_no": member.certificate_no,
        "kind": member.kind,
        "full_name": member.full_name,
        "unit_name": unit_name(member.unit),
        "status": member.status,
        "issued_on": member.issued_on,
        "expires_on": member.expires_on,
        "valid": reason is None,
        "not_valid_reason": _(certificates.NOT_VALID_MSGIDS[reason]) if reason else None,
        "verify_url": url_for("volunteers.verify", token=member.verify_token, _external=True),
    }


def _payout(item, state) -> dict | None:
    """The payout line of "My rewards": amounts once paid, the IBAN masked."""
    if item is None:
        return None
    paid = state is not None and state.status in PAID
    return {
        "status": state.status if state is not None else "awaiting",
        "gross_tiyn": state.gross_tiyn if paid else None,
        "withheld_tiyn": state.withheld_tiyn if paid else None,
        "net_tiyn": state.net_tiyn if paid else None,
        "order_date": state.order_date if paid else None,
        "iban": payouts.mask_iban(state.iban) if state is not None and state.iban else None,
    }


@blp.route("/me/rewards")
@api_allow(SIGNED_IN)
@blp.response(200, RewardListSchema)
def rewards():
    """Return my nominations for a reward and their payouts, newest first ("My rewards")."""
    rows = db.session.scalars(reward_queries.rewards_of(current_user.id)).all()
    items = {
        i.nomination_id: i
        for i in db.session.scalars(reward_queries.approved_items_of([n.id for n in rows]))
    }
    states = payout_states(i.id for i in items.values())
    found = []
    for n in rows:
        item = items.get(n.id)
        found.append(
            {
                "id": n.id,
                "form": n.form,
                "amount_tiyn": n.amount_tiyn or None,
                "commission_name": local_name(n.commission),
                "nominated_at": n.created_at,
                "status": n.status,
                "outcome_reason": outcome_text(n.outcome_reason) if n.outcome_reason else None,
                "payout": _payout(item, states.get(item.id) if item else None),
            }
        )
    return {"items": found}


@blp.route("/me/notifications")
@api_allow(SIGNED_IN)
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(NotificationSchema))
def inbox(args):
    """Return my inbox, newest first, each message in the caller's language (as the inbox page)."""
    rows, next_cursor = paginate(
        db.session,
        notifications.inbox(current_user.id).order_by(None),
        key=notifications.Notification.id,
        args=args,
    )
    language = str(get_locale())
    items = []
    for note in rows:
        message = render(note, language=language, external=False)
        items.append(
            {
                "id": note.id,
                "kind": note.kind,
                "subject": message.subject,
                "text": message.text,
                "link": message.link,
                "created_at": note.created_at,
                "read_at": note.read_at,
            }
        )
    return {"items": items, "next_cursor": next_cursor}
