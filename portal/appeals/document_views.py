"""Print pages and PDFs of the preliminary decision, the act and the complaint decision (kk, ru)."""

from __future__ import annotations

import io

from flask import abort, render_template, request, send_file, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from appeals import documents
from appeals.models import Complaint, Hearing
from core.documents import Block, Language
from portal import asset_dir
from portal.appeals.blueprint import bp
from portal.extensions import db
from portal.security import SIGNED_IN, allow


def _hearing(hearing_id: int, *, adopted: bool) -> Hearing:
    """The hearing, when the signed-in user may read its documents; else 404."""
    found = db.session.get(Hearing, hearing_id)
    if found is None or not documents.may_read_hearing(db.session, found, current_user):
        abort(404)
    if adopted and found.status != "adopted":
        abort(404)
    return found


def _complaint(complaint_id: int) -> Complaint:
    found = db.session.get(Complaint, complaint_id)
    if found is None or not documents.may_read_complaint(db.session, found, current_user):
        abort(404)
    if found.status not in ("decided", "granted"):
        abort(404)
    return found


def _case_link(hearing: Hearing) -> str:
    """The person's page of the case, where they object or complain online."""
    return url_for("appeals.my_hearing", hearing_id=hearing.id, _external=True)


def _compose(kind: str, record, code: str) -> list[Block]:
    with force_locale(code):
        lang = Language(code, _)
        if kind == "notice":
            return documents.notice_blocks(db.session, record, lang, case_link=_case_link(record))
        if kind == "act":
            return documents.act_blocks(db.session, record, lang, case_link=_case_link(record))
        return documents.decision_blocks(db.session, record, lang)


def _print(kind: str, record, pdf_endpoint: str, **ids):
    blocks = {code: _compose(kind, record, code) for code in documents.LANGUAGES}
    pdfs = {code: url_for(pdf_endpoint, lang=code, **ids) for code in documents.LANGUAGES}
    return render_template(
        "appeals/document_print.html", kind=kind, documents=blocks, pdfs=pdfs, record=record
    )


def _pdf(kind: str, record, name: str, created):
    code = request.args.get("lang", "kk")
    if code not in documents.LANGUAGES:
        abort(404)
    content = documents.pdf(
        _compose(kind, record, code),
        fonts=asset_dir("static") / "fonts",
        title=f"{name}-{code}",
        created=created,
    )
    return send_file(
        io.BytesIO(content),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"{name}-{code}.pdf",
    )


@bp.route("/appeals/hearings/<int:hearing_id>/notice")
@allow(SIGNED_IN)
def hearing_notice(hearing_id: int):
    found = _hearing(hearing_id, adopted=False)
    return _print("notice", found, "appeals.hearing_notice_pdf", hearing_id=found.id)


@bp.route("/appeals/hearings/<int:hearing_id>/notice.pdf")
@allow(SIGNED_IN)
def hearing_notice_pdf(hearing_id: int):
    found = _hearing(hearing_id, adopted=False)
    return _pdf("notice", found, f"notice-{found.id}", found.notified_at or found.drafted_at)


@bp.route("/appeals/hearings/<int:hearing_id>/act")
@allow(SIGNED_IN)
def hearing_act(hearing_id: int):
    found = _hearing(hearing_id, adopted=True)
    return _print("act", found, "appeals.hearing_act_pdf", hearing_id=found.id)


@bp.route("/appeals/hearings/<int:hearing_id>/act.pdf")
@allow(SIGNED_IN)
def hearing_act_pdf(hearing_id: int):
    found = _hearing(hearing_id, adopted=True)
    return _pdf("act", found, f"act-{found.id}", found.adopted_at)


@bp.route("/appeals/complaints/<int:complaint_id>/decision")
@allow(SIGNED_IN)
def complaint_decision(complaint_id: int):
    found = _complaint(complaint_id)
    return _print("decision", found, "appeals.complaint_decision_pdf", complaint_id=found.id)


@bp.route("/appeals/complaints/<int:complaint_id>/decision.pdf")
@allow(SIGNED_IN)
def complaint_decision_pdf(complaint_id: int):
    found = _complaint(complaint_id)
    return _pdf("decision", found, f"complaint-decision-{found.id}", found.decided_at)
