"""Staff pages of complaints: entry from paper, grant in full, forwarding, review, police."""

from __future__ import annotations

import io

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from appeals import complaint_rules, complaints, queries, settings
from appeals.models import OUTCOMES, Complaint, ComplaintAttachment, Hearing
from core import audit, clock, uploads
from core.db import utcnow
from portal.appeals.blueprint import CASE_READERS, bp
from portal.appeals.case_views import late_complaint_ids
from portal.appeals.forms import DecideForm, PaperComplaintForm, ReasonsForm, RestoreTermForm
from portal.appeals.hearing_views import complaint_documents, staff_hearing
from portal.confirmation import Consequence, carried_fields, confirm_page, is_confirmed
from portal.errors import flash_form_errors, on_refusal
from portal.extensions import db
from portal.forms import ConfirmForm, arg_int
from portal.labels import APPEAL_OUTCOME_LABELS, COMPLAINT_KIND_LABELS, COMPLAINT_STATUS_LABELS
from portal.security import allow, current_scope, holds
from volunteers.models import Application

UPLOAD_LIMIT = complaint_rules.MAX_FILES * complaint_rules.MAX_FILE_BYTES + 256 * 1024


def uploads_of(form) -> list[complaints.Upload]:
    """Read the form's files into the domain's uploads (empty file inputs are left out)."""
    found = []
    for upload in form.attachments.data or []:
        if not getattr(upload, "filename", ""):
            continue
        content = upload.read(complaint_rules.MAX_FILE_BYTES + 1)
        found.append(
            complaints.Upload(
                filename=upload.filename,
                content_type=upload.mimetype or "application/octet-stream",
                content=content,
                label=upload.filename,
            )
        )
    return found


def _reads(found: Complaint) -> bool:
    """Officials of the issuing unit, the reviewing body, the named reviewer."""
    if holds(found.unit_id, *CASE_READERS):
        return True
    if found.reviewer_id is not None and found.reviewer_id == current_user.id:
        return True
    return found.review_unit_id is not None and holds(found.review_unit_id, "reviewer")


def staff_complaint(complaint_id: int) -> Complaint:
    found = db.session.get(Complaint, complaint_id)
    if found is None or not _reads(found):
        abort(404)
    return found


def _issuing_roles(found: Complaint) -> tuple[str, ...]:
    return complaint_rules.issuing_roles(found.kind, found.act_kind)


def _decide_form(found: Complaint, formdata=None) -> DecideForm:
    """The outcomes the complaint may get: while late and unrestored, only "unconsidered"."""
    form = DecideForm(formdata=formdata) if formdata is not None else DecideForm(formdata=None)
    late = found.kind != "police" and complaint_rules.filed_late(found)
    outcomes = ("unconsidered",) if late else OUTCOMES
    form.outcome.choices = [SelectChoice(o, APPEAL_OUTCOME_LABELS[o]) for o in outcomes]
    return form


def _may_restore(found: Complaint, issuing: bool, reviews: bool) -> bool:
    """The issuing body before forwarding, the reviewer after it, restore a late term."""
    if found.kind == "police" or not complaint_rules.filed_late(found):
        return False
    return (issuing and found.status == "registered") or (reviews and found.status == "forwarded")


def complaint_page(found: Complaint, status: int = 200, **forms):
    issuing = holds(found.unit_id, *_issuing_roles(found))
    reviews = complaints.can_review(db.session, found, current_user)
    body = settings.review_body(db.session, found.unit_id)
    return render_template(
        "appeals/complaint.html",
        c=found,
        today=clock.today(),
        overdue=found.id in late_complaint_ids([found.id], clock.today()),
        may_issue=issuing and found.kind != "police",
        may_police=issuing and found.kind == "police",
        may_review=reviews,
        may_restore=_may_restore(found, issuing, reviews),
        is_author=current_user.id in complaints.authors(db.session, found),
        review_body=body,
        filed_late=complaint_rules.filed_late(found),
        overturn_blocked=queries.overturn_blocked(db.session, found.id),
        grant_form=forms.get("grant_form") or ReasonsForm(formdata=None),
        decide_form=forms.get("decide_form") or _decide_form(found),
        restore_form=forms.get("restore_form") or RestoreTermForm(formdata=None),
        confirm=ConfirmForm(),
        doc_links=complaint_documents(found),
        trail=audit.events_for(db.session, "complaint", found.id),
    ), status


@bp.route("/appeals/complaints/<int:complaint_id>")
@allow(*CASE_READERS)
def complaint(complaint_id: int):
    return complaint_page(staff_complaint(complaint_id))


@bp.route("/appeals/complaints/<int:complaint_id>/attachments/<int:attachment_id>")
@allow(*CASE_READERS)
def attachment(complaint_id: int, attachment_id: int):
    return send_attachment(staff_complaint(complaint_id), attachment_id)


def send_attachment(found: Complaint, attachment_id: int):
    """Send one file of the complaint as a download (never shown inline)."""
    row = db.session.get(ComplaintAttachment, attachment_id)
    if row is None or row.complaint_id != found.id:
        abort(404)
    stored = uploads.get_file(db.session, row.stored_file_id)
    return send_file(
        io.BytesIO(stored.content),
        mimetype="application/octet-stream",
        as_attachment=True,
        download_name=stored.filename,
    )


def _consequence(found: Complaint, verb: str, endpoint: str, text: str, carried=None):
    return Consequence(
        title=_("Complaint %(number)s", number=found.number),
        verb=verb,
        action=url_for(endpoint, complaint_id=found.id),
        cancel=url_for("appeals.complaint", complaint_id=found.id),
        consequence=text,
        facts=[
            (_("Complaint"), str(COMPLAINT_KIND_LABELS[found.kind])),
            (_("Complainant"), found.complainant_name),
            (_("Status"), str(COMPLAINT_STATUS_LABELS[found.status])),
        ],
        carried=carried or {},
    )


def _step(found: Complaint, action, message: str, form=None, form_name: str = ""):
    form = form if form is not None else ConfirmForm()
    extra = {form_name: form} if form_name else {}
    if not form.validate_on_submit():
        flash_form_errors(form)
        return complaint_page(found, 400, **extra)
    with on_refusal(
        lambda status: complaint_page(found, status, **extra), field=form if form_name else None
    ):
        action(form)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("appeals.complaint", complaint_id=found.id))


def _carried_step(found: Complaint, form, form_name: str, consequence, action, message: str):
    if not form.validate_on_submit():
        flash_form_errors(form)
        return complaint_page(found, 400, **{form_name: form})
    if not is_confirmed():
        return confirm_page(consequence(carried_fields()), 422)
    return _step(found, action, message, form, form_name)


@bp.route("/appeals/complaints/<int:complaint_id>/grant", methods=["POST"])
@allow(*CASE_READERS)
def grant(complaint_id: int):
    found = staff_complaint(complaint_id)
    return _carried_step(
        found,
        ReasonsForm(),
        "grant_form",
        lambda carried: _consequence(
            found,
            _("Yes, grant the complaint in full"),
            "appeals.grant",
            _("The challenged act is undone through its own steps and the complainant is told."),
            carried,
        ),
        lambda f: complaints.grant_in_full(
            db.session,
            complaint_id=found.id,
            reasons=f.reasons.data,
            actor_id=current_user.id,
            scope=current_scope(*CASE_READERS),
            now=utcnow(),
        ),
        _("The complaint has been granted in full."),
    )


def _forward_consequence(found: Complaint) -> Consequence:
    body = settings.review_body(db.session, found.unit_id)
    consequence = _consequence(
        found,
        _("Yes, forward it with the case file"),
        "appeals.forward",
        _("The reviewing body has 20 working days to decide; the issuing body no longer can."),
    )
    if body is not None:
        consequence.facts.append((_("Reviewing body"), body.name_kk + " / " + body.name_ru))
    return consequence


@bp.route("/appeals/complaints/<int:complaint_id>/forward/confirm")
@allow(*CASE_READERS)
def forward_confirm(complaint_id: int):
    return confirm_page(_forward_consequence(staff_complaint(complaint_id)))


@bp.route("/appeals/complaints/<int:complaint_id>/forward", methods=["POST"])
@allow(*CASE_READERS)
def forward(complaint_id: int):
    found = staff_complaint(complaint_id)
    if not is_confirmed():
        return confirm_page(_forward_consequence(found), 422)
    return _step(
        found,
        lambda _f: complaints.forward(
            db.session,
            complaint_id=found.id,
            actor_id=current_user.id,
            scope=current_scope(*CASE_READERS),
            now=utcnow(),
        ),
        _("The complaint has been forwarded to the reviewing body."),
    )


def _outcome_consequence(found: Complaint, endpoint: str, carried: dict) -> Consequence:
    consequence = _consequence(
        found,
        _("Yes, record the decision"),
        endpoint,
        _("The decision is final in the portal: the complainant is told and may go to court."),
        carried,
    )
    outcome = carried.get("outcome")
    if outcome in APPEAL_OUTCOME_LABELS:
        consequence.facts.append((_("Decision"), str(APPEAL_OUTCOME_LABELS[outcome])))
    return consequence


@bp.route("/appeals/complaints/<int:complaint_id>/decide", methods=["POST"])
@allow(*CASE_READERS)
def decide(complaint_id: int):
    found = staff_complaint(complaint_id)
    return _carried_step(
        found,
        _decide_form(found, request.form),
        "decide_form",
        lambda carried: _outcome_consequence(found, "appeals.decide", carried),
        lambda f: complaints.decide(
            db.session,
            complaint_id=found.id,
            outcome=f.outcome.data,
            reasons=f.reasons.data,
            to_fix=f.to_fix.data or None,
            actor_id=current_user.id,
            now=utcnow(),
        ),
        _("The decision on the complaint has been recorded."),
    )


@bp.route("/appeals/complaints/<int:complaint_id>/police", methods=["POST"])
@allow(*CASE_READERS)
def police_outcome(complaint_id: int):
    found = staff_complaint(complaint_id)
    return _carried_step(
        found,
        _decide_form(found, request.form),
        "decide_form",
        lambda carried: _outcome_consequence(found, "appeals.police_outcome", carried),
        lambda f: complaints.record_police_outcome(
            db.session,
            complaint_id=found.id,
            outcome=f.outcome.data,
            reasons=f.reasons.data,
            to_fix=f.to_fix.data or None,
            actor_id=current_user.id,
            scope=current_scope(*CASE_READERS),
            now=utcnow(),
        ),
        _("The police hierarchy's decision has been recorded."),
    )


# ---- a complaint received on paper ------------------------------------------------------------


def complaint_target(args) -> dict:
    """Read what a new complaint is about from the query: an act, or an application."""
    hearing_id = args.get("hearing", type=arg_int)
    if hearing_id:
        return {"kind": "act", "hearing_id": hearing_id}
    application_id = args.get("application", type=arg_int)
    kind = args.get("kind", "")
    if application_id and kind in ("police", "inaction"):
        return {
            "kind": kind,
            "subject_type": "application",
            "subject_id": application_id,
        }
    abort(404)


def target_title(target: dict) -> str:
    """What the complaint is about, in words, for the form's heading."""
    if target["kind"] == "act":
        found = db.session.get(Hearing, target["hearing_id"])
        number = found.act_number if found is not None else ""
        return _("Complaint against act No. %(number)s", number=number or "—")
    return str(COMPLAINT_KIND_LABELS[target["kind"]])


def _paper_page(form, target: dict, status: int = 200):
    return render_template(
        "appeals/complaint_form.html",
        form=form,
        title=target_title(target),
        action=url_for("appeals.new_paper_complaint", **_query(target)),
        paper=True,
    ), status


def _query(target: dict) -> dict:
    if target["kind"] == "act":
        return {"hearing": target["hearing_id"]}
    return {"application": target["subject_id"], "kind": target["kind"]}


def _target_unit(target: dict) -> int:
    if target["kind"] == "act":
        return staff_hearing(target["hearing_id"]).unit_id
    found = db.session.get(Application, target["subject_id"])
    if found is None or not holds(found.unit_id, *CASE_READERS):
        abort(404)
    return found.unit_id


@bp.route("/appeals/complaints/new", methods=["GET", "POST"])
@allow(*CASE_READERS)
def new_paper_complaint():
    request.max_content_length = UPLOAD_LIMIT
    target = complaint_target(request.args)
    _target_unit(target)
    form = PaperComplaintForm()
    if request.method == "GET" or not form.validate_on_submit():
        return _paper_page(form, target, 400 if request.method == "POST" else 200)
    with on_refusal(lambda status: _paper_page(form, target, status), field=form):
        filed = complaints.file(
            db.session,
            actor_id=current_user.id,
            channel="paper",
            attachments=uploads_of(form),
            **form.content(),
            now=utcnow(),
            scope=current_scope(*CASE_READERS),
            **target,
        )
    db.session.commit()
    flash(_("The complaint has been registered as %(number)s.", number=filed.number), "success")
    return redirect(url_for("appeals.complaint", complaint_id=filed.id))
