"""Exports of payouts, decisions, ledger entries and the register, made by a background job."""

from __future__ import annotations

import datetime as dt

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.errors import N_, DomainError
from incentives import exports
from portal import jobs
from portal.errors import on_refusal
from portal.extensions import db
from portal.forms import ConfirmForm, arg_date, arg_int, unit_choices
from portal.labels import EXPORT_DATASET_LABELS
from portal.oversight.blueprint import bp
from portal.security import allow, current_scope, holds

EXPORTERS = jobs.EXPORTERS
UNIT_LEVELS = ("country", "region", "city", "district")


def _render(values: dict, error: str | None = None, status: int = 200):
    return render_template(
        "oversight/exports.html",
        values=values,
        error=error,
        datasets=exports.DATASETS,
        formats=exports.FORMATS,
        EXPORT_DATASET_LABELS=EXPORT_DATASET_LABELS,
        choices=unit_choices(current_scope(*EXPORTERS), UNIT_LEVELS),
        confirm=ConfirmForm(),
    ), status


def _day(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return arg_date(text)  # bounded like the other date filters (fuzzing fix, S13)
    except ValueError:
        raise DomainError(N_("Enter dates as YYYY-MM-DD.")) from None


def _filters(values: dict) -> exports.Filters:
    # Parsed with arg_int: str.isdigit let "²" reach int() and a 40-digit id reach the query,
    # both 500s found by fuzzing (S13); the year is held to the range its message names.
    year = values.get("year") or None
    if year is not None:
        try:
            year = arg_int(str(year))
        except ValueError:
            year = None
        if year is None or not 2000 <= year <= 2100:
            raise DomainError(N_("Choose a year between 2000 and 2100."))
    unit_id = values.get("unit_id") or None
    if unit_id is not None:
        try:
            unit_id = arg_int(str(unit_id))
        except ValueError:
            unit_id = None
        if unit_id is None or not holds(unit_id, *EXPORTERS):
            raise DomainError(N_("Choose a jurisdiction you oversee."))
    return exports.Filters(
        year=year,
        unit_id=unit_id,
        date_from=_day(values.get("date_from")),
        date_to=_day(values.get("date_to")),
    )


@bp.route("/exports")
@allow(*EXPORTERS)
def exports_page():
    return _render(request.args.to_dict())


@bp.route("/exports", methods=["POST"])
@allow(*EXPORTERS)
def start_export():
    values = request.form.to_dict()
    if not ConfirmForm().validate_on_submit():
        return _render(values, _("The form has expired. Please try again."), 400)
    dataset_name, fmt = values.get("dataset"), values.get("format")
    if dataset_name not in exports.DATASETS or fmt not in exports.FORMATS:
        return _render(values, _("Choose what to export and the file format."), 400)
    with on_refusal(lambda _status: _render(values, status=400)):
        filters = _filters(values)
    run = jobs.submit(
        "oversight.export",
        requested_by_id=current_user.id,
        unit_id=filters.unit_id,
        params={"dataset": dataset_name, "format": fmt, **filters.as_dict()},
    )
    db.session.commit()
    return redirect(url_for("jobruns.show", run_id=run.id))
