"""The secretary's minutes, the akimat's act and the signed scan of a session; their copies."""

from __future__ import annotations

import io

from flask import abort, render_template, request, send_file
from flask_babel import gettext as _
from flask_login import current_user

from appeals import hearings
from core import clock, documents, outputs, pdf_documents, uploads
from core.db import utcnow
from core.errors import N_, Conflict, DomainError
from incentives import sessions
from incentives.models import CommissionSession
from portal import asset_dir
from portal.commission import confirm_steps
from portal.commission.blueprint import bp
from portal.commission.forms import ActForm, ScanForm
from portal.commission.roles import SECRETARIES, SESSION_READERS
from portal.commission.session_views import (
    confirm_step,
    minutes_texts,
    secretary_action,
    session_in_scope,
)
from portal.confirmation import confirm_page, is_confirmed
from portal.extensions import csrf, db
from portal.security import allow

SCAN_LIMIT = 10 * 1024 * 1024


@bp.route("/sessions/<int:session_id>/minutes/confirm")
@allow(*SECRETARIES)
def finalize_minutes_confirm(session_id: int):
    return confirm_step(session_id, confirm_steps.finalize_minutes)


@bp.route("/sessions/<int:session_id>/minutes", methods=["POST"])
@allow(*SECRETARIES)
def finalize_minutes(session_id: int):
    if not is_confirmed():  # a double click on the old button, or a script: nothing happens
        sitting = session_in_scope(session_id, *SECRETARIES)
        return confirm_page(confirm_steps.finalize_minutes(sitting), 422)

    def action(sitting, _form):
        text_kk, text_ru = minutes_texts(sitting)
        return sessions.finalize_minutes(
            db.session,
            session_id=sitting.id,
            text_kk=text_kk,
            text_ru=text_ru,
            actor_id=current_user.id,
            now=utcnow(),
        )

    return secretary_action(
        session_id, action, _("The minutes are final: they can be printed and no longer change.")
    )


@bp.route("/sessions/<int:session_id>/act", methods=["POST"])
@allow(*SECRETARIES)
def record_act(session_id: int):
    def action(sitting, form):
        waiting = hearings.sitting_act_blockers(
            db.session, sitting_id=sitting.id, today=clock.today()
        )
        if waiting:
            # The persons refused or deferred are heard first (APPK Art. 73): 409 until then.
            raise Conflict(
                N_(
                    "The act cannot be recorded before %(day)s: the hearing term of "
                    "%(n)s person(s) refused or deferred has not ended."
                ),
                day=max(h.earliest_act_on or clock.today() for h in waiting),
                n=len(waiting),
            )
        recorded = sessions.record_act(
            db.session,
            session_id=sitting.id,
            number=form.number.data,
            date=form.date.data,
            actor_id=current_user.id,
        )
        hearings.adopt_for_sitting(
            db.session, sitting_id=sitting.id, actor_id=current_user.id, now=utcnow()
        )
        return recorded

    return secretary_action(
        session_id,
        action,
        _("The akimat's act has been recorded."),
        ActForm(),
        "act_form",
    )


# The app-wide CSRF check would read the body under the general 5 MB limit before this view
# raises it for the scan; ScanForm checks the token itself.
@bp.route("/sessions/<int:session_id>/scan", methods=["POST"])
@csrf.exempt
@allow(*SECRETARIES)
def attach_scan(session_id: int):
    request.max_content_length = SCAN_LIMIT + 64 * 1024

    def action(sitting, form):
        upload = form.file.data
        content = upload.read(SCAN_LIMIT + 1)
        if len(content) > SCAN_LIMIT:
            raise DomainError(N_("The signed scan must be a PDF file of up to 10 MB."))
        stored = uploads.store(
            db.session,
            filename=upload.filename or "minutes.pdf",
            content_type="application/pdf",
            content=content,
            owner_id=current_user.id,
        )
        sessions.attach_scan(
            db.session,
            session_id=sitting.id,
            file_id=stored.id,
            content=content,
            actor_id=current_user.id,
        )

    return secretary_action(
        session_id,
        action,
        _("The signed scan has been attached."),
        ScanForm(),
        "scan_form",
    )


def _final(session_id: int) -> CommissionSession:
    sitting = session_in_scope(session_id, *SESSION_READERS)
    if sitting.status != "minutes_final":
        abort(404)
    return sitting


@bp.route("/sessions/<int:session_id>/minutes")
@allow(*SESSION_READERS)
def print_minutes(session_id: int):
    return render_template("commission/minutes_print.html", sitting=_final(session_id))


@bp.app_template_filter("document_blocks")
def document_blocks(text: str | None) -> list[documents.Block]:
    """Read frozen minutes into their blocks, for the print page and the deputy's view."""
    return documents.parse(text)


def _frozen_blocks(session_id: int) -> tuple[CommissionSession, str, list[documents.Block]]:
    sitting = _final(session_id)
    lang = request.args.get("lang", "kk")
    if lang not in ("kk", "ru"):
        abort(404)
    text = sitting.minutes_kk if lang == "kk" else sitting.minutes_ru
    return sitting, lang, documents.parse(text)


@bp.route("/sessions/<int:session_id>/minutes.docx")
@allow(*SESSION_READERS)
def minutes_docx(session_id: int):
    sitting, lang, blocks = _frozen_blocks(session_id)
    # The frozen text's blocks, as typed: headings, lists and the table of votes.
    content = documents.docx_bytes(blocks, footer=f"SHA-256: {sitting.minutes_hash}")
    return send_file(
        io.BytesIO(content),
        mimetype=outputs.DOCX_TYPE,
        as_attachment=True,
        download_name=f"minutes-{sitting.id}-{lang}.docx",
    )


@bp.route("/sessions/<int:session_id>/minutes.pdf")
@allow(*SESSION_READERS)
def minutes_pdf(session_id: int):
    sitting, lang, blocks = _frozen_blocks(session_id)
    content = pdf_documents.document_pdf(
        blocks,
        fonts=asset_dir("static") / "fonts",
        title=f"minutes-{sitting.id}-{lang}",
        footer=f"SHA-256: {sitting.minutes_hash}",
        created=sitting.minutes_final_at,
    )
    return send_file(
        io.BytesIO(content),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"minutes-{sitting.id}-{lang}.pdf",
    )


@bp.route("/sessions/<int:session_id>/scan")
@allow(*SESSION_READERS)
def scan(session_id: int):
    sitting = _final(session_id)
    if not sitting.scan_file_id:
        abort(404)
    stored = uploads.get_file(db.session, sitting.scan_file_id)
    return send_file(
        io.BytesIO(stored.content),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"minutes-{sitting.id}-signed.pdf",
    )
