"""Public resources, no sign-in: a certificate's check and the sober-settlement statistics.

Each shows what its public page shows and no more. A certificate is checked as on
``/verify/<token>``: the secret token of the certificate's QR code is required (a certificate
number alone is sequential and would let anyone walk the register), and the answer names the
holder by initials only. The statistics are those of ``/sober-settlements``: places, dates,
counts and indicator figures, never people.
"""

from __future__ import annotations

import datetime as dt

import flask_smorest
import marshmallow as ma
from flask_babel import get_locale
from flask_babel import gettext as _
from marshmallow import fields, validate

import sober
from core import clock, places
from core.doc_numbers import without_sign
from core.errors import N_, NotFound
from portal.api.auth import api_allow
from portal.extensions import db
from portal.security import PUBLIC
from portal.volunteers import certificate_views
from volunteers import certificates
from volunteers.models import KINDS, MEMBER_STATUSES

blp = flask_smorest.Blueprint(
    "api_public",
    __name__,
    url_prefix="/api/v1/public",
    description="Public checks and statistics: no sign-in, only what the public pages show.",
)


# ---- certificates ------------------------------------------------------------------------------


class CertificateCheckArgs(ma.Schema):
    token = fields.String(
        required=True,
        validate=validate.Length(min=1, max=40),
        metadata={"description": "The secret of the certificate's QR code (its check address)"},
    )


class CertificateCheckSchema(ma.Schema):
    """The certificate as its public check page shows it."""

    number = fields.String(required=True)
    holder = fields.String(required=True, metadata={"description": "Initials only"})
    kind = fields.String(required=True, metadata={"enum": list(KINDS)})
    status = fields.String(required=True, metadata={"enum": list(MEMBER_STATUSES)})
    issued_on = fields.Date(required=True)
    expires_on = fields.Date(required=True)
    valid = fields.Boolean(required=True)
    reason = fields.String(
        required=True, allow_none=True, metadata={"description": "Why it is not valid"}
    )
    not_valid_mark = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "The NOT VALID stamp in Kazakh, Russian and English"},
    )


@blp.route("/certificates/<string:number>")
@api_allow(PUBLIC)
@blp.arguments(CertificateCheckArgs, location="query")
@blp.response(200, CertificateCheckSchema)
def certificate(args, number: str):
    """Check a certificate: its number and the token of its QR code must both match."""
    member = certificates.by_verify_token(db.session, args["token"])
    if member is None or without_sign(member.certificate_no) != without_sign(number):
        raise NotFound(N_("No such record."))
    reason = certificates.why_not_valid(member, clock.today())
    return {
        "number": without_sign(member.certificate_no),
        "holder": certificates.initials(member.full_name),
        "kind": member.kind,
        "status": member.status,
        "issued_on": member.issued_on,
        "expires_on": member.expires_on,
        "valid": reason is None,
        "reason": _(certificates.NOT_VALID_MSGIDS[reason]) if reason else None,
        "not_valid_mark": certificate_views.not_valid_mark() if reason else None,
    }


# ---- sober settlements -------------------------------------------------------------------------


class SoberStatisticsArgs(ma.Schema):
    region = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1, max=2_147_483_647),
        metadata={"description": "Only this region (the id of a region in an earlier answer)"},
    )


class SoberPlaceSchema(ma.Schema):
    id = fields.Integer(required=True)
    kato = fields.String(required=True)
    name = fields.String(required=True)


class SoberChangeSchema(ma.Schema):
    """The change of an indicator: average per quarter after the declaration against before."""

    change_pct = fields.Float(required=True, allow_none=True)


class SoberTrendSchema(SoberChangeSchema):
    """Averages per quarter before (the 3–5 years' baseline) and after, and the change."""

    baseline = fields.Float(required=True, allow_none=True)
    after = fields.Float(required=True, allow_none=True)


class SoberIndicatorKindSchema(ma.Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)


class SoberSettlementSchema(ma.Schema):
    unit = fields.Nested(SoberPlaceSchema, required=True)
    gathered_on = fields.Date(required=True)
    confirmed_on = fields.Date(required=True, allow_none=True)
    outlets = fields.Integer(
        required=True, metadata={"description": "Shops that stopped selling alcohol"}
    )
    trends = fields.Dict(
        keys=fields.String(), values=fields.Nested(SoberChangeSchema), required=True
    )


class SoberDistrictSchema(ma.Schema):
    unit = fields.Nested(SoberPlaceSchema, required=True)
    count = fields.Integer(required=True)
    trends = fields.Dict(
        keys=fields.String(), values=fields.Nested(SoberTrendSchema), required=True
    )
    settlements = fields.List(fields.Nested(SoberSettlementSchema), required=True)


class SoberRegionSchema(ma.Schema):
    unit = fields.Nested(SoberPlaceSchema, required=True)
    count = fields.Integer(required=True)
    trends = fields.Dict(
        keys=fields.String(), values=fields.Nested(SoberChangeSchema), required=True
    )
    districts = fields.List(fields.Nested(SoberDistrictSchema), required=True)


class SoberStatisticsSchema(ma.Schema):
    """Confirmed sober settlements by region and district, with the indicators' change."""

    total = fields.Integer(required=True)
    kinds = fields.List(fields.Nested(SoberIndicatorKindSchema), required=True)
    regions = fields.List(fields.Nested(SoberRegionSchema), required=True)


def _place(unit: places.AdminUnit, lang: str) -> dict:
    return {"id": unit.id, "kato": unit.kato, "name": unit.name(lang)}


def _number(value) -> float | None:
    return None if value is None else float(value)


def _change(trend) -> dict:
    return {"change_pct": _number(trend.change_pct if trend else None)}


def _trend(trend) -> dict:
    return {
        **_change(trend),
        "baseline": _number(trend.baseline if trend else None),
        "after": _number(trend.after if trend else None),
    }


def _local_day(moment: dt.datetime | None) -> dt.date | None:
    return None if moment is None else moment.astimezone(clock.zone()).date()


@blp.route("/sober-settlements/statistics")
@api_allow(PUBLIC)
@blp.arguments(SoberStatisticsArgs, location="query")
@blp.response(200, SoberStatisticsSchema)
def sober_statistics(args):
    """What the public page of sober settlements shows (no names of people)."""
    lang = str(get_locale())
    region = args["region"]
    regions = sober.public_overview(db.session, region_ids=None if region is None else [region])
    kinds = sober.indicator_kinds(db.session)
    codes = [k.code for k in kinds]
    return {
        "total": sum(r.count for r in regions),
        "kinds": [{"code": k.code, "name": k.name(lang)} for k in kinds],
        "regions": [
            {
                "unit": _place(r.unit, lang),
                "count": r.count,
                "trends": {c: _change(r.trends.get(c)) for c in codes},
                "districts": [
                    {
                        "unit": _place(d.unit, lang),
                        "count": d.count,
                        "trends": {c: _trend(d.trends.get(c)) for c in codes},
                        "settlements": [
                            {
                                "unit": _place(s["unit"], lang),
                                "gathered_on": s["gathered_on"],
                                "confirmed_on": _local_day(s["confirmed_at"]),
                                "outlets": s["outlets"],
                                "trends": {c: _change(s["trends"].get(c)) for c in codes},
                            }
                            for s in d.settlements
                        ],
                    }
                    for d in r.children
                ],
            }
            for r in regions
        ],
    }
