"""Exports for deputies, finance officers and administrators, on the job-run machinery.

``POST /exports`` starts the same ``oversight.export`` job as the export page (same datasets,
formats, filters and rights; the job body writes the same audit event); ``GET /exports/{id}``
reads its progress with the rights of the job's page: its requester, and administrators of its
jurisdiction. The file is for its requester only, as on the page: a caller signed in by session
downloads it at the job page's own address, a caller with an access token at
``/exports/{id}/file`` (the pages do not take tokens).

An access token may cover fewer jurisdictions than its holder, while the job exports what its
requester's account may see: such a token's export is limited to a jurisdiction the token
covers (the only one it covers, units inside another it covers not counted, or the one the
caller names). For the same reason a token reads an export's progress and file only when the
export lies within the token's jurisdictions: the run's unit, or for a run without one (started
by session or by a token covering everything) every jurisdiction of its requester.
"""

from __future__ import annotations

import json

import flask_smorest
import marshmallow as ma
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import fields, validate
from sqlalchemy import select

from core import accounts, jobruns, places
from core.errors import N_, DomainError, NotFound
from core.scope import Scope
from incentives import exports
from portal import jobs
from portal.api.auth import api_allow
from portal.api.money_schemas import LOCAL_DAYS
from portal.extensions import db
from portal.jobruns.views import administers, send_result_file, visible_result
from portal.security import current_scope, holds

EXPORTERS = jobs.EXPORTERS
KIND = "oversight.export"
# What the job writes (incentives.exports.pack and the XLSX writer), as the file is served.
FILE_TYPES = (
    "text/csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/zip",
)

blp = flask_smorest.Blueprint(
    "api_exports",
    __name__,
    url_prefix="/api/v1/exports",
    description="Exports of payouts, decisions, ledger entries and the register (background jobs).",
)


class ExportIn(ma.Schema):
    """What to export, as the export page asks for it."""

    dataset = fields.String(required=True, validate=validate.OneOf(exports.DATASETS))
    format = fields.String(required=True, validate=validate.OneOf(exports.FORMATS))
    year = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=2000, max=2100)
    )
    unit_id = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=2_147_483_647),
        metadata={"description": "A jurisdiction the caller oversees; its units below included"},
    )
    date_from = fields.Date(load_default=None, allow_none=True, validate=LOCAL_DAYS)
    date_to = fields.Date(load_default=None, allow_none=True, validate=LOCAL_DAYS)


class ExportOut(ma.Schema):
    """An export's run: its progress, and where its requester downloads the file."""

    id = fields.Integer(required=True)
    dataset = fields.String(required=True, metadata={"enum": list(exports.DATASETS)})
    format = fields.String(required=True, metadata={"enum": list(exports.FORMATS)})
    status = fields.String(required=True, metadata={"enum": list(jobruns.STATUSES)})
    progress = fields.Integer(required=True, metadata={"description": "Percent, 0 to 100"})
    message = fields.String(required=True)
    done = fields.Boolean(required=True)
    error = fields.String(required=True, allow_none=True)
    rows = fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "Rows exported once done (0: nothing matched, no file)"},
    )
    result_url = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "The file, for the requester only, once there is one"},
    )


def _via_token() -> bool:
    return bool(getattr(current_user, "via_token", False))


def _topmost(unit_ids) -> set[int]:
    """The units of ``unit_ids`` that lie inside none of the others: the same area, no overlap."""
    paths = dict(
        db.session.execute(
            select(places.AdminUnit.id, places.AdminUnit.path).where(
                places.AdminUnit.id.in_(list(unit_ids))
            )
        ).all()
    )
    return {
        unit_id
        for unit_id, path in paths.items()
        if not any(other != path and places.path_within(path, other) for other in paths.values())
    }


def _token_unit(unit_id: int | None) -> int | None:
    """Keep a token's export within the jurisdictions the token covers (see the module)."""
    if unit_id is not None or not _via_token():
        return unit_id
    covered = _topmost(current_scope(*EXPORTERS).unit_ids)
    holder = accounts.get_user(db.session, current_user.id)
    if covered == _topmost(Scope.of(holder, *EXPORTERS).unit_ids):
        return None
    if len(covered) == 1:
        return next(iter(covered))
    raise DomainError(
        N_("This access token covers only some of your jurisdictions: choose one of them.")
    ).at("unit_id")


def _filters(data: dict) -> exports.Filters:
    unit_id = data.get("unit_id")
    if unit_id is not None and not holds(unit_id, *EXPORTERS):
        raise DomainError(N_("Choose a jurisdiction you oversee.")).at("unit_id")
    # Filters check the year and that the period does not end before it starts (422).
    return exports.Filters(
        year=data.get("year"),
        unit_id=_token_unit(unit_id),
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
    )


def _within_token(run: jobruns.JobRun) -> bool:
    """Tell whether the run's export lies within the jurisdictions the caller's token covers.

    A session covers all of its account's. A run without a unit exported everything its
    requester oversees: a token must cover all of that (as the token that started it did).
    """
    if not _via_token():
        return True
    covered = current_scope(*EXPORTERS)
    if covered.is_nothing:
        return False
    if run.unit_id is not None:
        return covered.contains(db.session, run.unit_id)
    requester = db.session.get(accounts.User, run.requested_by_id) if run.requested_by_id else None
    if requester is None:
        return False
    area = _topmost(Scope.of(requester, *EXPORTERS).unit_ids)
    return bool(area) and all(covered.contains(db.session, unit_id) for unit_id in area)


def _run(run_id: int) -> jobruns.JobRun:
    """The export run, if the caller may see it (as the job's page): else it does not exist."""
    run = db.session.get(jobruns.JobRun, run_id)
    if (
        run is None
        or run.kind != KIND
        or (run.requested_by_id != current_user.id and not administers(run))
        or not _within_token(run)
    ):
        raise NotFound(N_("No such job."))
    return run


def _status(run: jobruns.JobRun) -> dict:
    params = json.loads(run.params or "{}")
    result = visible_result(run)
    mine = run.requested_by_id == current_user.id
    url = None
    if mine and run.result_file_id:
        url = (
            url_for("api_exports.file", run_id=run.id)
            if _via_token()
            else url_for("jobruns.result_file", run_id=run.id)
        )
    return {
        "id": run.id,
        "dataset": params.get("dataset"),
        "format": params.get("format"),
        "status": run.status,
        "progress": run.progress,
        "message": run.message or "",
        "done": run.done,
        "error": _("The job failed. The error was recorded.") if run.status == "failed" else None,
        "rows": result.get("rows") if isinstance(result, dict) else None,
        "result_url": url,
    }


@blp.route("", methods=["POST"])
@api_allow(*EXPORTERS)
@blp.arguments(ExportIn)
@blp.response(202, ExportOut)
def start(data):
    """Start an export; poll its ``GET`` for progress, then download ``result_url``."""
    filters = _filters(data)
    run = jobs.submit(
        KIND,
        requested_by_id=current_user.id,
        unit_id=filters.unit_id,
        params={"dataset": data["dataset"], "format": data["format"], **filters.as_dict()},
    )
    db.session.commit()
    return _status(run), {"Location": url_for("api_exports.show", run_id=run.id)}


@blp.route("/<int:run_id>")
@api_allow(*EXPORTERS)
@blp.response(200, ExportOut)
def show(run_id: int):
    """An export's progress: for its requester, and administrators of its jurisdiction."""
    return _status(_run(run_id))


@blp.route("/<int:run_id>/file")
@api_allow(*EXPORTERS)
@blp.doc(
    responses={
        "200": {
            "description": "The exported file (XLSX, CSV or a ZIP of a large CSV)",
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}} for media in FILE_TYPES
            },
        }
    }
)
def file(run_id: int):
    """The exported file, for the person who started the export only."""
    run = _run(run_id)
    if run.requested_by_id != current_user.id or run.result_file_id is None:
        raise NotFound(N_("No such job."))
    return send_result_file(run)
