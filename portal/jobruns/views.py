"""The page of one job run with its progress bar, and the JSON it polls."""

from __future__ import annotations

import io
import json

from flask import Blueprint, abort, jsonify, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core import jobruns, uploads
from core.accounts import User
from portal.extensions import db
from portal.labels import JOB_KIND_LABELS, JOB_STATUS_LABELS
from portal.security import SIGNED_IN, allow, current_scope

bp = Blueprint("jobruns", __name__, url_prefix="/jobs")


def administers(run: jobruns.JobRun) -> bool:
    """Tell whether the user administers the run's jurisdiction.

    Authorization fix (S5 IDOR matrix): any administrator used to see every run of the
    country, a regional one too. A run without a jurisdiction belongs to its requester's;
    only the system's own runs (nobody requested them) are every administrator's.
    """
    scope = current_scope("admin")
    if scope.is_nothing:
        return False
    unit_id = run.unit_id
    if unit_id is None and run.requested_by_id is not None:
        requester = db.session.get(User, run.requested_by_id)
        unit_id = requester.unit_id if requester is not None else None
    return unit_id is None or scope.contains(db.session, unit_id)


def _visible_run(run_id: int) -> jobruns.JobRun:
    run = db.session.get(jobruns.JobRun, run_id)
    # Only the requester and administrators of its jurisdiction see a run; others learn
    # nothing of it.
    if run is None or (run.requested_by_id != current_user.id and not administers(run)):
        abort(404)
    return run


def visible_result(run: jobruns.JobRun):
    """The run's result as far as the reader may see it.

    The requester asked for it within their own rights; an administrator sees what their
    jurisdiction covers (finding 6 of issue 17: a regional administrator read the names in the
    nightly red-flags run of the whole country).
    """
    if run.requested_by_id == current_user.id:
        return json.loads(run.result) if run.result else None
    return jobruns.result_for(db.session, run, current_scope("admin"))


def _status(run: jobruns.JobRun) -> dict:
    return {
        "id": run.id,
        "status": run.status,
        "status_label": str(JOB_STATUS_LABELS.get(run.status, run.status)),
        "progress": run.progress,
        "message": run.message or "",
        "done": run.done,
        "error": _("The job failed. The error was recorded.") if run.status == "failed" else "",
        "result": visible_result(run),
        "result_url": url_for("jobruns.result_file", run_id=run.id) if run.result_file_id else "",
    }


@bp.route("/<int:run_id>")
@allow(SIGNED_IN)
def show(run_id: int):
    run = _visible_run(run_id)
    return render_template(
        "jobruns/show.html",
        run=run,
        status=_status(run),
        kind_label=JOB_KIND_LABELS.get(run.kind, run.kind),
    )


@bp.route("/<int:run_id>/result")
@allow(SIGNED_IN)
def result_file(run_id: int):
    run = _visible_run(run_id)
    # An export holds personal data chosen by its requester: only they download it.
    if run.result_file_id is None or (
        run.kind == "oversight.export" and run.requested_by_id != current_user.id
    ):
        abort(404)
    return send_result_file(run)


def send_result_file(run: jobruns.JobRun):
    """Answer with the file a run produced, as a download (the page's and the API's)."""
    stored = uploads.get_file(db.session, run.result_file_id)
    return send_file(
        io.BytesIO(stored.content),
        mimetype=stored.content_type,
        as_attachment=True,
        download_name=stored.filename,
    )


@bp.route("/<int:run_id>/status.json")
@allow(SIGNED_IN)
def status(run_id: int):
    return jsonify(_status(_visible_run(run_id)))
