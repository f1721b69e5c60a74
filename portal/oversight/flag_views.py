"""Red flags: the latest computed run for the user's jurisdictions, and computing them now."""

from __future__ import annotations

import json

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select

from appeals import flags  # the whole catalogue: rewards' checks and appeals'
from core import jobruns
from core import queries as core_queries
from core.scope import Scope
from portal import jobs
from portal.extensions import db
from portal.formatting import localized_params
from portal.forms import ConfirmForm, arg_int, unit_choices  # arg_int: fuzzing fix (S13)
from portal.labels import FLAG_KIND_LABELS as REWARD_FLAG_LABELS
from portal.oversight.appeal_views import APPEAL_FLAG_LABELS
from portal.oversight.blueprint import bp
from portal.oversight.record_links import described
from portal.oversight.views import READERS, scope
from portal.paging import PAGE_SIZE, pages_for
from portal.security import allow

UNIT_LEVELS = ("country", "region", "city", "district")
FLAG_KIND_LABELS = {**REWARD_FLAG_LABELS, **APPEAL_FLAG_LABELS}


def _latest_run(ids: Scope) -> jobruns.JobRun | None:
    """The newest finished run that covers the user: a scheduled one or one of their units."""
    return db.session.scalar(
        select(jobruns.JobRun)
        .where(
            jobruns.JobRun.kind == "oversight.flags",
            jobruns.JobRun.status == "succeeded",
            or_(jobruns.JobRun.unit_id.is_(None), jobruns.JobRun.unit_id.in_(ids.unit_ids)),
        )
        .order_by(jobruns.JobRun.finished_at.desc(), jobruns.JobRun.id.desc())
        .limit(1)
    )


def _links(rows: list[dict]) -> list[str | None]:
    """The page of each row's record, described for the whole page of rows at once."""
    records = described(
        (row["target_type"], str(row["target_id"] or ""))
        for row in rows
        if row["target_type"] != "audit"
    )
    found = []
    for row in rows:
        if row["target_type"] == "audit":
            found.append(url_for("oversight.audit_log"))
        else:
            key = (row["target_type"], str(row["target_id"] or ""))
            found.append(records[key][1] if key in records else None)
    return found


def _visible_rows(ids: Scope, report: dict | None) -> list[dict]:
    """The rows of a flags report whose unit lies in ``ids`` (or that belong to no unit)."""
    if not report:
        return []
    visible = core_queries.units_among(db.session, {row["unit_id"] for row in report["rows"]}, ids)
    return [row for row in report["rows"] if row["unit_id"] is None or row["unit_id"] in visible]


def open_flags(ids: Scope) -> int:
    """How many red flags of the latest run covering ``ids`` lie in it (the to-do page's count)."""
    run = _latest_run(ids)
    report = json.loads(run.result) if run and run.result else None
    if report and run.unit_id is not None:
        return sum(report["counts"].values())  # as the flags page counts a run of one's unit
    return len(_visible_rows(ids, report))


@bp.route("/flags")
@allow(*READERS)
def red_flags():
    ids = scope()
    run = _latest_run(ids)
    report = json.loads(run.result) if run and run.result else None
    rows, counts = _visible_rows(ids, report), dict.fromkeys(flags.KINDS, 0)
    for row in rows:
        counts[row["kind"]] += 1
    if report and run.unit_id is not None:
        # A run of one of the user's units: every flag is theirs, even those not kept.
        counts = {k: report["counts"].get(k, 0) for k in flags.KINDS}
    choices = unit_choices(ids, UNIT_LEVELS)
    page = max(request.args.get("page", 1, type=arg_int), 1)
    on_page = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    shown = [
        {**row, "url": url, "params": localized_params(row["params"])}
        for row, url in zip(on_page, _links(on_page), strict=True)
    ]
    return render_template(
        "oversight/flags.html",
        run=run,
        report=report,
        rows=shown,
        total=len(rows),
        page=page,
        pages=pages_for(len(rows)),
        counts=counts,
        kinds=flags.KINDS,
        FLAG_KIND_LABELS=FLAG_KIND_LABELS,
        choices=choices,
        confirm=ConfirmForm(),
    )


@bp.route("/flags/compute", methods=["POST"])
@allow(*READERS)
def compute_flags():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    ids = scope()
    only = ids.unit_ids[0] if len(ids.unit_ids) == 1 else None
    unit_id = request.form.get("unit_id", type=arg_int) or only
    if unit_id is None or not ids.contains(db.session, unit_id):
        return render_template(
            "oversight/flags.html",
            run=None,
            report=None,
            rows=[],
            counts=dict.fromkeys(flags.KINDS, 0),
            kinds=flags.KINDS,
            FLAG_KIND_LABELS=FLAG_KIND_LABELS,
            choices=unit_choices(ids, UNIT_LEVELS),
            confirm=ConfirmForm(),
            error=_("Choose a jurisdiction you oversee."),
        ), 400
    run = jobs.submit(
        "oversight.flags", requested_by_id=current_user.id, unit_id=unit_id, params={}
    )
    db.session.commit()
    return redirect(url_for("jobruns.show", run_id=run.id))
