"""Deputies' statistics of hearings and complaints per jurisdiction and quarter, and its CSV."""

from __future__ import annotations

from flask import Response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from appeals import reports
from appeals.models import COMPLAINT_KINDS, COMPLAINT_STATUSES, EXCEPTION_KINDS, OUTCOMES
from core import clock, outputs
from core.errors import DomainError
from core.scope import Scope
from portal.extensions import db
from portal.forms import arg_int, unit_choices
from portal.i18n import translate_error
from portal.labels import (
    ACT_KIND_LABELS,
    APPEAL_OUTCOME_LABELS,
    COMPLAINT_KIND_LABELS,
    COMPLAINT_STATUS_LABELS,
    EXCEPTION_KIND_LABELS,
)
from portal.oversight.blueprint import bp
from portal.oversight.views import READERS, in_scope, scope
from portal.security import allow

# The red flags these statistics add to the catalogue (appeals.flags), named for the flags page.
APPEAL_FLAG_LABELS = {
    "overdue_hearing": _l("Hearing overdue: notice, oral hearing or act late"),
    "overdue_forwarding": _l("Complaint not forwarded within 3 working days"),
    "overdue_review": _l("Complaint not decided within 20 working days"),
}
HEARING_FIGURE_LABELS = {
    "drafted": _l("Preliminary decisions drafted"),
    "notified": _l("Persons notified"),
    "oral_held": _l("Oral hearings held"),
    "adopted": _l("Acts adopted"),
    "withdrawn": _l("Drafts withdrawn"),
    "exceptions": _l("Acts adopted without a hearing (exceptions)"),
}
TIMELINESS_LABELS = {
    "forwarded": _l("Forwarded to the review body"),
    "forwarded_on_time": _l("of them within 3 working days"),
    "reviewed": _l("Decided by the review body"),
    "reviewed_on_time": _l("of them within 20 working days"),
    "overdue_forwarding": _l("Overdue forwardings today"),
    "overdue_review": _l("Overdue reviews today"),
}
QUARTERS = ("1", "2", "3", "4")
UNIT_LEVELS = ("country", "region", "city", "district")


def _request_params():
    """Read jurisdiction, year and quarter from the query; return them and an error or None."""
    ids = scope()
    today = clock.today()
    unit_id = request.args.get("unit_id", type=arg_int)
    if request.args.get("unit_id") and unit_id is None:
        return ids, None, today.year, None, _("Choose a jurisdiction you oversee.")
    if unit_id is not None:
        in_scope(unit_id)
        ids = Scope.within([unit_id])
    year = today.year
    if request.args.get("year"):
        try:
            year = arg_int(request.args["year"])
        except ValueError:
            return ids, unit_id, today.year, None, _("Choose a year and a quarter.")
    raw_quarter = request.args.get("quarter", "")
    if raw_quarter not in ("", "year", *QUARTERS):
        return ids, unit_id, year, None, _("Choose a year and a quarter.")
    quarter = int(raw_quarter) if raw_quarter in QUARTERS else None
    return ids, unit_id, year, quarter, None


def _figures(ids: Scope, year: int, quarter: int | None) -> dict:
    return reports.appeal_figures(
        db.session, scope=ids, year=year, quarter=quarter, today=clock.today()
    )


@bp.route("/appeals")
@allow(*READERS)
def appeal_statistics():
    ids, unit_id, year, quarter, error = _request_params()
    figures = None
    if error is None:
        try:
            figures = _figures(ids, year, quarter)
        except DomainError as exc:
            error = translate_error(exc)
    return render_template(
        "oversight/appeals.html",
        figures=figures,
        period=reports.Period.of(year, quarter) if figures else None,
        error=error,
        unit_id=unit_id,
        year=year,
        quarter=quarter,
        choices=unit_choices(scope(), UNIT_LEVELS),
        act_kinds=ACT_KIND_LABELS,
        complaint_kinds=[(k, COMPLAINT_KIND_LABELS[k]) for k in COMPLAINT_KINDS],
        stages=[(s, COMPLAINT_STATUS_LABELS[s]) for s in COMPLAINT_STATUSES],
        outcomes=[(o, APPEAL_OUTCOME_LABELS[o]) for o in OUTCOMES],
        exception_kinds=[(e, EXCEPTION_KIND_LABELS[e]) for e in EXCEPTION_KINDS],
        hearing_figures=HEARING_FIGURE_LABELS,
        timeliness=TIMELINESS_LABELS,
    ), 400 if error else 200


def _label(item: str) -> str:
    for table in (
        HEARING_FIGURE_LABELS,
        TIMELINESS_LABELS,
        ACT_KIND_LABELS,
        COMPLAINT_KIND_LABELS,
        COMPLAINT_STATUS_LABELS,
        APPEAL_OUTCOME_LABELS,
        EXCEPTION_KIND_LABELS,
    ):
        if item in table:
            return str(table[item])
    return item


@bp.route("/appeals.csv")
@allow(*READERS)
def appeal_statistics_csv():
    ids, _unit_id, year, quarter, error = _request_params()
    if error is not None:
        return Response(error, status=400, content_type="text/plain; charset=utf-8")
    try:
        figures = _figures(ids, year, quarter)
    except DomainError as exc:
        return Response(translate_error(exc), status=400, content_type="text/plain; charset=utf-8")
    head = [_("Section"), _("Group"), _("Figure"), _("Code"), _("Value")]
    body = [
        (section, _label(group), _label(item), item, value)
        for section, group, item, value in reports.flat_rows(figures)
    ]
    period = f"{year}" + (f"-Q{quarter}" if quarter else "")
    return Response(
        outputs.csv_bytes([head, *body]),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="appeals-{period}.csv"'},
    )
