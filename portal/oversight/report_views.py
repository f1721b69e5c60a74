"""Reports to the maslikhat's session: order one (a job), download the workbook, print it."""

from __future__ import annotations

import json

from flask import abort, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectField
from wtforms.validators import DataRequired, NumberRange

from core import clock, jobruns
from core.db import utcnow
from portal import jobs
from portal.extensions import db
from portal.forms import (
    IntegerField,  # bounded (fuzzing fix, S13)
    PortalForm,
    unit_choices,
)
from portal.oversight.blueprint import bp
from portal.oversight.report_book import (
    LANGUAGES,
    SECTIONS,
    cell_value,
    period_label,
    section_rows,
)
from portal.security import allow, current_scope, require_unit

REPORTERS = ("deputy", "finance", "admin")
REPORT_JOB = "oversight.report"
PERIODS = ("year", "1", "2", "3", "4")


class ReportForm(PortalForm):
    unit_id = SelectField(_l("Jurisdiction"), coerce=int, validators=[DataRequired()])
    year = IntegerField(_l("Year"), validators=[DataRequired(), NumberRange(min=2000, max=2100)])
    period = SelectField(_l("Period"), choices=[])


def _form(formdata=None) -> ReportForm:
    form = ReportForm(formdata=formdata, year=clock.local_date(utcnow()).year)
    form.unit_id.choices = unit_choices(current_scope(*REPORTERS), ("region", "city", "district"))
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
            value=cell_value,
            period=period_label(report),
        )
