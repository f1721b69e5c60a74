"""Reports to the maslikhat's session: order one (a job), download the workbook, print it."""

from __future__ import annotations

import io
import json

from flask import abort, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from openpyxl import Workbook
from sqlalchemy import select
from wtforms import SelectField
from wtforms.validators import DataRequired, NumberRange

from core import clock, jobruns
from core.db import utcnow
from portal import jobs
from portal.extensions import db
from portal.forms import IntegerField, unit_choices  # IntegerField: bounded (fuzzing fix, S13)
from portal.labels import PURPOSE_LABELS, REWARD_FORM_LABELS
from portal.oversight.inquiry_views import OBJECT_LABELS, STATUS_LABELS
from portal.oversight.views import bp
from portal.security import allow, require_unit

REPORTERS = ("deputy", "finance", "admin")
REPORT_JOB = "oversight.report"
LANGUAGES = ("kk", "ru")
PERIODS = ("year", "1", "2", "3", "4")

# Each section: key, title and columns (field, heading, how to show the value).
SECTIONS = [
    (
        "lines",
        _l("Spending by budget line"),
        [
            ("unit", _l("Jurisdiction"), "named"),
            ("code", _l("Program code"), "text"),
            ("program", _l("Program"), "named"),
            ("purpose", _l("Purpose"), "purpose"),
            ("approved_tiyn", _l("Approved, ₸"), "money"),
            ("committed_tiyn", _l("Committed, ₸"), "money"),
            ("disbursed_tiyn", _l("Disbursed, ₸"), "money"),
            ("available_tiyn", _l("Available, ₸"), "money"),
            ("spent_in_period_tiyn", _l("Disbursed in the period, ₸"), "money"),
        ],
    ),
    (
        "districts",
        _l("Rewards by district"),
        [
            ("district", _l("District"), "named"),
            ("rewards", _l("Rewards"), "int"),
            ("people", _l("People rewarded"), "int"),
            ("amount_tiyn", _l("Amount, ₸"), "money"),
        ],
    ),
    (
        "forms",
        _l("Rewards by form"),
        [
            ("form", _l("Form of reward"), "form"),
            ("rewards", _l("Rewards"), "int"),
            ("amount_tiyn", _l("Amount, ₸"), "money"),
        ],
    ),
    (
        "people",
        _l("People rewarded"),
        [
            ("people", _l("People rewarded"), "int"),
            ("rewards", _l("Rewards"), "int"),
            ("amount_tiyn", _l("Amount, ₸"), "money"),
            ("average_tiyn", _l("Average per person, ₸"), "money"),
        ],
    ),
    (
        "sober",
        _l("Sober settlements"),
        [
            ("settlement", _l("Settlement"), "named"),
            ("gathered_on", _l("Gathering"), "text"),
            ("confirmed_on", _l("Confirmed"), "text"),
            ("attendance", _l("Attendance"), "int"),
            ("outlets", _l("Outlets that stopped selling alcohol"), "int"),
        ],
    ),
    (
        "inquiries",
        _l("Open inquiries"),
        [
            ("id", _l("Inquiry No."), "int"),
            ("object_type", _l("Record"), "object"),
            ("object_id", _l("Record No."), "int"),
            ("asked_on", _l("Asked"), "text"),
            ("deadline", _l("Deadline"), "text"),
            ("status", _l("Status"), "status"),
            ("overdue", _l("Overdue"), "yesno"),
        ],
    ),
    (
        "flags",
        _l("Open red flags"),
        [("flag", _l("Red flag"), "text"), ("count", _l("Count"), "int")],
    ),
]


def _value(row: dict, field: str, how: str, lang: str):
    if how == "named":
        return row.get(f"{field}_{lang}", "")
    raw = row.get(field)
    if how == "money":
        return (raw or 0) / 100
    if how == "purpose":
        return str(PURPOSE_LABELS.get(raw, raw))
    if how == "form":
        return str(REWARD_FORM_LABELS.get(raw, raw))
    if how == "object":
        return str(OBJECT_LABELS.get(raw, raw))
    if how == "status":
        return str(STATUS_LABELS.get(raw, raw))
    if how == "yesno":
        return _("yes") if raw else _("no")
    return raw


def section_rows(report: dict, key: str) -> list[dict]:
    """Return a section's rows (the one-row summary of people as a list too)."""
    rows = report.get(key)
    if rows is None:
        return []
    return [rows] if isinstance(rows, dict) else rows


def period_label(report: dict) -> str:
    """Name the report's period in the current language."""
    if report["quarter"]:
        return _("Quarter %(quarter)s of %(year)s", quarter=report["quarter"], year=report["year"])
    return _("Year %(year)s", year=report["year"])


def render_xlsx(report: dict) -> bytes:
    """Write the report as a workbook: one sheet per section, headings in Kazakh and Russian."""
    book = Workbook(write_only=True)
    for key, title, columns in SECTIONS:
        sheet = book.create_sheet(key)
        for lang in LANGUAGES:
            with force_locale(lang):
                unit = report[f"unit_{lang}"]
                sheet.append([f"{title} — {unit}, {period_label(report)}"])
        for lang in LANGUAGES:
            with force_locale(lang):
                sheet.append([str(heading) for _f, heading, _h in columns])
        rows = section_rows(report, key)
        if key == "flags" and report.get("flags") is None:
            with force_locale("kk"):
                kk = _("The red-flags check has not run yet.")
            with force_locale("ru"):
                ru = _("The red-flags check has not run yet.")
            sheet.append([kk, ru])
        with force_locale("kk"):
            for row in rows:
                sheet.append([_value(row, f, how, "kk") for f, _h, how in columns])
        sheet.append([])
        sheet.append(["generated_at", report["generated_at"]])
        sheet.append(["audit_head", report["audit_head"]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


class ReportForm(FlaskForm):
    unit_id = SelectField(_l("Jurisdiction"), coerce=int, validators=[DataRequired()])
    year = IntegerField(_l("Year"), validators=[DataRequired(), NumberRange(min=2000, max=2100)])
    period = SelectField(_l("Period"), choices=[])


def _form(formdata=None) -> ReportForm:
    form = ReportForm(formdata=formdata, year=clock.local_date(utcnow()).year)
    form.unit_id.choices = unit_choices(
        current_user.scope(*REPORTERS), ("region", "city", "district")
    )
    form.period.choices = [("year", _("The whole year"))] + [
        (str(q), _("Quarter %(quarter)s", quarter=q)) for q in range(1, 5)
    ]
    return form


def _reports_page(form: ReportForm, status: int = 200):
    runs = db.session.scalars(
        select(jobruns.JobRun)
        .where(jobruns.JobRun.kind == REPORT_JOB, jobruns.JobRun.requested_by_id == current_user.id)
        .order_by(jobruns.JobRun.id.desc())
        .limit(20)
    ).all()
    return render_template(
        "oversight/reports.html",
        form=form,
        runs=[(r, json.loads(r.params)) for r in runs],
    ), status


@bp.route("/reports")
@allow(*REPORTERS)
def session_reports():
    return _reports_page(_form())


@bp.route("/reports", methods=["POST"])
@allow(*REPORTERS)
def order_session_report():
    form = _form(request.form)
    if not form.validate_on_submit():
        return _reports_page(form, 400)
    require_unit(form.unit_id.data, *REPORTERS)
    quarter = None if form.period.data == "year" else int(form.period.data)
    run = jobs.submit(
        REPORT_JOB,
        requested_by_id=current_user.id,
        unit_id=form.unit_id.data,
        params={"unit_id": form.unit_id.data, "year": form.year.data, "quarter": quarter},
    )
    db.session.commit()
    return redirect(url_for("jobruns.show", run_id=run.id))


@bp.route("/reports/<int:run_id>")
@allow(*REPORTERS)
def print_session_report(run_id: int):
    run = db.session.get(jobruns.JobRun, run_id)
    if (
        run is None
        or run.kind != REPORT_JOB
        or run.requested_by_id != current_user.id
        or run.status != "succeeded"
    ):
        abort(404)
    lang = request.args.get("lang", "kk")
    if lang not in LANGUAGES:
        lang = "kk"
    report = json.loads(run.result)["report"]
    with force_locale(lang):
        return render_template(
            "oversight/report_print.html",
            report=report,
            run=run,
            lang=lang,
            sections=SECTIONS,
            rows=section_rows,
            value=_value,
            period=period_label(report),
        )
