"""The person's own cases on a phone: the preliminary decision, objections, complaints."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select

from appeals import complaint_rules, complaints, hearings, queries, settings
from appeals.models import Complaint, Hearing
from core import clock
from core.db import utcnow
from portal.appeals.blueprint import bp
from portal.appeals.complaint_views import (
    UPLOAD_LIMIT,
    complaint_target,
    send_attachment,
    target_title,
    uploads_of,
)
from portal.appeals.forms import ComplaintForm, PersonObjectionForm, RemarksForm
from portal.appeals.hearing_views import complaint_documents, hearing_documents, hearing_grounds
from portal.errors import flash_form_errors, on_refusal
from portal.extensions import db
from portal.forms import ConfirmForm
from portal.security import SIGNED_IN, allow
from volunteers import persons
from volunteers.models import Application


def _mine():
    return queries.cases_of_person(db.session, current_user.id)


def _my_hearing(hearing_id: int) -> Hearing:
    found = next((h for h in _mine().hearings if h.id == hearing_id), None)
    if found is None:
        abort(404)
    return found


def _my_complaint(complaint_id: int) -> Complaint:
    found = next((c for c in _mine().complaints if c.id == complaint_id), None)
    if found is None:
        abort(404)
    return found


def _live_complaint(found: Hearing, mine) -> Complaint | None:
    return next(
        (
            c
            for c in mine.complaints
            if c.hearing_id == found.id and c.status in complaint_rules.LIVE
        ),
        None,
    )


def _police_refusals() -> list[Application]:
    """The person's applications the police refused, which a complaint may challenge."""
    keys = persons.keys_of(db.session, [current_user.id]).get(current_user.id, set())
    mine = [Application.applicant_id == current_user.id]
    if keys:
        mine.append(Application.iin_index.in_(keys))
    found = db.session.scalars(
        select(Application)
        .where(
            or_(*mine),
            Application.status == "refused",
            Application.check_outcome == "refused",
        )
        .order_by(Application.id)
    )
    return [a for a in found if a.refused_by in (None, "police")]


@bp.route("/my/cases")
@allow(SIGNED_IN)
def my_cases():
    mine = _mine()
    today = clock.today()
    challengeable = [
        h for h in mine.hearings if h.status == "adopted" and _live_complaint(h, mine) is None
    ]
    live = {(c.kind, c.subject_id) for c in mine.complaints if c.status in complaint_rules.LIVE}
    police = [a for a in _police_refusals() if ("police", a.id) not in live]
    return render_template(
        "appeals/my_cases.html",
        hearings=mine.hearings,
        complaints=mine.complaints,
        challengeable=challengeable,
        police=police,
        inaction=complaints.inaction_candidates(
            db.session, person_user_id=current_user.id, today=today
        ),
        today=today,
    )


def _review_body(unit_id: int):
    return settings.review_body(db.session, unit_id)


def _hearing_page(found: Hearing, status: int = 200, **forms):
    today = clock.today()
    protocol = found.protocol
    return render_template(
        "appeals/my_hearing.html",
        h=found,
        grounds=hearing_grounds(found),
        today=today,
        may_object=found.status in ("notified", "heard"),
        may_ask_oral=(
            found.status == "notified"
            and found.oral_requested_at is None
            and found.objection_due_on is not None
            and today <= found.objection_due_on
        ),
        may_remark=(
            protocol is not None and protocol.remarks is None and today <= protocol.remarks_due_on
        ),
        live_complaint=_live_complaint(found, _mine()),
        review_body=_review_body(found.unit_id) if found.status == "adopted" else None,
        objection_form=forms.get("objection_form") or PersonObjectionForm(formdata=None),
        remarks_form=forms.get("remarks_form") or RemarksForm(formdata=None),
        confirm=ConfirmForm(),
        doc_links=hearing_documents(found),
    ), status


@bp.route("/my/cases/hearings/<int:hearing_id>")
@allow(SIGNED_IN)
def my_hearing(hearing_id: int):
    return _hearing_page(_my_hearing(hearing_id))


def _person_step(found: Hearing, form, form_name: str, action, message: str):
    extra = {form_name: form} if form_name else {}
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _hearing_page(found, 400, **extra)
    with on_refusal(
        lambda status: _hearing_page(found, status, **extra), field=form if form_name else None
    ):
        action(form)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("appeals.my_hearing", hearing_id=found.id))


@bp.route("/my/cases/hearings/<int:hearing_id>/objection", methods=["POST"])
@allow(SIGNED_IN)
def my_objection(hearing_id: int):
    found = _my_hearing(hearing_id)
    return _person_step(
        found,
        PersonObjectionForm(),
        "objection_form",
        lambda f: hearings.object(
            db.session,
            hearing_id=found.id,
            body=f.body.data,
            channel="portal",
            actor_id=current_user.id,
            now=utcnow(),
        ),
        _("Your objection has been attached to the case. The official must answer it."),
    )


@bp.route("/my/cases/hearings/<int:hearing_id>/oral", methods=["POST"])
@allow(SIGNED_IN)
def my_oral_request(hearing_id: int):
    found = _my_hearing(hearing_id)
    return _person_step(
        found,
        ConfirmForm(),
        "",
        lambda _f: hearings.request_oral(
            db.session, hearing_id=found.id, actor_id=current_user.id, now=utcnow()
        ),
        _("You asked to be heard orally. You will be told the date and place."),
    )


@bp.route("/my/cases/hearings/<int:hearing_id>/remarks", methods=["POST"])
@allow(SIGNED_IN)
def my_remarks(hearing_id: int):
    found = _my_hearing(hearing_id)
    return _person_step(
        found,
        RemarksForm(),
        "remarks_form",
        lambda f: hearings.add_remarks(
            db.session,
            hearing_id=found.id,
            body=f.body.data,
            actor_id=current_user.id,
            now=utcnow(),
        ),
        _("Your remarks have been added to the protocol."),
    )


# ---- complaints -------------------------------------------------------------------------------


def _complaint_page(form, target: dict, status: int = 200):
    query = (
        {"hearing": target["hearing_id"]}
        if target["kind"] == "act"
        else {"application": target["subject_id"], "kind": target["kind"]}
    )
    return render_template(
        "appeals/complaint_form.html",
        form=form,
        title=target_title(target),
        action=url_for("appeals.my_new_complaint", **query),
        paper=False,
    ), status


def _check_target(target: dict) -> None:
    """404 unless the act or the application is the person's own."""
    if target["kind"] == "act":
        _my_hearing(target["hearing_id"])
        return
    found = db.session.get(Application, target["subject_id"])
    if found is None:
        abort(404)
    keys = persons.keys_of(db.session, [current_user.id]).get(current_user.id, set())
    if found.applicant_id != current_user.id and found.iin_index not in keys:
        abort(404)


@bp.route("/my/cases/complaints/new", methods=["GET", "POST"])
@allow(SIGNED_IN)
def my_new_complaint():
    request.max_content_length = UPLOAD_LIMIT
    target = complaint_target(request.args)
    _check_target(target)
    if request.method == "GET":
        form = ComplaintForm(
            formdata=None,
            name=current_user.full_name,
            contact=current_user.phone or current_user.email or "",
        )
        return _complaint_page(form, target)
    form = ComplaintForm()
    if not form.validate_on_submit():
        return _complaint_page(form, target, 400)
    with on_refusal(lambda status: _complaint_page(form, target, status), field=form):
        filed = complaints.file(
            db.session,
            actor_id=current_user.id,
            channel="portal",
            attachments=uploads_of(form),
            **form.content(),
            now=utcnow(),
            **target,
        )
    db.session.commit()
    flash(
        _(
            "Your complaint has been filed as %(number)s. You will see here when it is decided.",
            number=filed.number,
        ),
        "success",
    )
    return redirect(url_for("appeals.my_complaint", complaint_id=filed.id))


@bp.route("/my/cases/complaints/<int:complaint_id>")
@allow(SIGNED_IN)
def my_complaint(complaint_id: int):
    found = _my_complaint(complaint_id)
    return render_template(
        "appeals/my_complaint.html",
        c=found,
        today=clock.today(),
        review_body=_review_body(found.unit_id),
        doc_links=complaint_documents(found),
    )


@bp.route("/my/cases/complaints/<int:complaint_id>/attachments/<int:attachment_id>")
@allow(SIGNED_IN)
def my_attachment(complaint_id: int, attachment_id: int):
    return send_attachment(_my_complaint(complaint_id), attachment_id)
