"""Staff pages of hearings: the list of cases, drafting, notice, objections, protocol, act."""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from appeals import effects, hearings, queries
from appeals import grounds as legal_grounds
from appeals.models import Hearing
from core import audit, clock
from core.db import utcnow
from core.errors import DomainError
from portal.appeals.blueprint import CASE_READERS, bp
from portal.appeals.forms import (
    ActReceiptForm,
    AdoptForm,
    DeliveryForm,
    DraftForm,
    ObjectionForm,
    ProtocolForm,
    StatedReasonsForm,
    WithdrawForm,
)
from portal.confirmation import Consequence, carried_fields, confirm_page, is_confirmed
from portal.errors import flash_form_errors, on_refusal
from portal.extensions import db
from portal.forms import ConfirmForm, arg_int
from portal.i18n import local_time, translated
from portal.labels import (
    ACT_KIND_LABELS,
    APPEAL_OUTCOME_LABELS,
    COMPLAINT_KIND_LABELS,
    COMPLAINT_STATUS_LABELS,
    DELIVERY_WAY_LABELS,
    EXCEPTION_KIND_LABELS,
    HEARING_STATUS_LABELS,
)
from portal.security import allow, current_scope, holds

# The record each act is about, and its page.
SUBJECT_PAGES = {
    "application": ("volunteers.application", "application_id"),
    "member": ("volunteers.member", "member_id"),
    "nomination": ("commission.nomination", "nomination_id"),
    "sober_initiative": ("sober.initiative", "initiative_id"),
}
_LABELS = translated(
    ACT_KIND_LABELS=ACT_KIND_LABELS,
    HEARING_STATUS_LABELS=HEARING_STATUS_LABELS,
    COMPLAINT_STATUS_LABELS=COMPLAINT_STATUS_LABELS,
    COMPLAINT_KIND_LABELS=COMPLAINT_KIND_LABELS,
    APPEAL_OUTCOME_LABELS=APPEAL_OUTCOME_LABELS,
    EXCEPTION_KIND_LABELS=EXCEPTION_KIND_LABELS,
    DELIVERY_WAY_LABELS=DELIVERY_WAY_LABELS,
)


@bp.app_context_processor
def _labels():
    # App-wide: the member, application and initiative pages show their hearings too.
    return {**_LABELS, "subject_href": subject_href}


def subject_href(subject_type: str, subject_id: int) -> str:
    """Return the staff page of the record an act or complaint is about."""
    endpoint, arg = SUBJECT_PAGES[subject_type]
    return url_for(endpoint, **{arg: subject_id})


def hearing_documents(found: Hearing) -> list[tuple[str, str]]:
    """Links to the printed preliminary decision and the act (portal.appeals.document_views)."""
    links = []
    if found.status != "drafted":
        links.append(
            (url_for("appeals.hearing_notice", hearing_id=found.id), _("Preliminary decision"))
        )
    if found.status == "adopted":
        links.append((url_for("appeals.hearing_act", hearing_id=found.id), _("The act")))
        for lang in ("kk", "ru"):
            links.append(
                (
                    url_for("appeals.hearing_act_pdf", hearing_id=found.id, lang=lang),
                    _("The act") + f" PDF ({lang})",
                )
            )
    return links


def complaint_documents(found) -> list[tuple[str, str]]:
    """Links to the printed decision on a complaint, once there is one."""
    if found.status != "decided" or found.kind == "police":
        return []
    return [
        (
            url_for("appeals.complaint_decision", complaint_id=found.id),
            _("Decision on the complaint"),
        ),
        *(
            (
                url_for("appeals.complaint_decision_pdf", complaint_id=found.id, lang=lang),
                f"PDF ({lang})",
            )
            for lang in ("kk", "ru")
        ),
    ]


def act_roles(act_kind: str) -> tuple[str, ...]:
    """Return the roles that draft and adopt an act of ``act_kind``."""
    return tuple(hearings.ACT_ROLES[act_kind])


def staff_hearing(hearing_id: int) -> Hearing:
    """Return the hearing if the official reads cases of its unit (404 otherwise)."""
    found = db.session.get(Hearing, hearing_id)
    if found is None or not holds(found.unit_id, *CASE_READERS):
        abort(404)
    return found


def _may_act(found: Hearing) -> bool:
    return holds(found.unit_id, *act_roles(found.act_kind))


def _acting_hearing(hearing_id: int) -> Hearing:
    found = staff_hearing(hearing_id)
    if not _may_act(found):
        abort(403)
    return found


# ---- drafting ---------------------------------------------------------------------------------


def _draft_form(act_kind: str, formdata=None) -> DraftForm:
    form = DraftForm(formdata=formdata) if formdata is not None else DraftForm()
    form.act_kind.choices = [SelectChoice(act_kind, ACT_KIND_LABELS[act_kind])]
    locale = str(get_locale())
    form.grounds.choices = [
        SelectChoice(g.code, f"{g.text(locale)} ({g.article})")
        for g in legal_grounds.grounds_for(db.session, act_kind)
    ]
    return form


def _draft_page(form: DraftForm, act_kind: str, subject, subject_id: int, status: int = 200):
    return render_template(
        "appeals/draft.html",
        form=form,
        act_kind=act_kind,
        person_name=subject.person_name,
        subject_type=hearings.SUBJECT_OF[act_kind],
        subject_id=subject_id,
    ), status


def _subject_in_scope(act_kind: str, subject_id: int):
    """The record the act would concern, if the official's drafting roles reach it (else 404)."""
    try:
        found = effects.subject(db.session, act_kind, subject_id)
    except DomainError:
        abort(404)
    if not holds(found.unit_id, *act_roles(act_kind)):
        abort(404)
    return found


@bp.route("/appeals/hearings/new", methods=["GET", "POST"])
@allow(*CASE_READERS)
def new_hearing():
    source = request.form if request.method == "POST" else request.args
    act_kind = source.get("act_kind", "")
    if act_kind not in hearings.ACT_ROLES or act_kind in ("refuse_reward", "defer_reward"):
        abort(404)  # reward acts are drafted by closing the sitting
    if not current_user.roles() & set(act_roles(act_kind)):
        abort(403)
    subject_id = source.get("subject_id", type=arg_int)
    if subject_id is None:
        abort(404)
    subject = _subject_in_scope(act_kind, subject_id)
    form = _draft_form(act_kind, request.form if request.method == "POST" else None)
    if request.method == "GET":
        form.act_kind.data, form.subject_id.data = act_kind, subject_id
        return _draft_page(form, act_kind, subject, subject_id)
    if not form.validate_on_submit() or form.subject_id.data != subject_id:
        return _draft_page(form, act_kind, subject, subject_id, 400)
    with on_refusal(
        lambda status: _draft_page(form, act_kind, subject, subject_id, status), field=form
    ):
        drafted = hearings.draft(
            db.session,
            act_kind=act_kind,
            subject_id=form.subject_id.data,
            grounds=list(form.grounds.data or []),
            grounds_text=form.grounds_text.data,
            actor_id=current_user.id,
            scope=current_scope(*act_roles(act_kind)),
            now=utcnow(),
        )
    db.session.commit()
    flash(_("The preliminary decision is drafted. Check it and notify the person."), "success")
    return redirect(url_for("appeals.hearing", hearing_id=drafted.id))


# ---- the hearing page -------------------------------------------------------------------------


def hearing_grounds(found: Hearing) -> list[tuple[str, str]]:
    """Return the hearing's legal grounds as (article, text) in the reader's language."""
    locale = str(get_locale())
    known = {
        g.code: g for g in legal_grounds.grounds_for(db.session, found.act_kind, active_only=False)
    }
    return [
        (known[c].article, known[c].text(locale)) if c in known else ("", c)
        for c in found.grounds or []
    ]


def _adopt_form(act_kind: str, formdata=None) -> AdoptForm:
    form = AdoptForm(formdata=formdata) if formdata is not None else AdoptForm(formdata=None)
    form.exception_kind.choices = [SelectChoice("", _("No: the hearing term has ended"))] + [
        SelectChoice(k, EXCEPTION_KIND_LABELS[k]) for k in hearings.ALLOWED_EXCEPTIONS[act_kind]
    ]
    return form


def hearing_page(found: Hearing, status: int = 200, **forms):
    """Render the staff page of a hearing with the forms of the steps its state allows."""
    may_act = _may_act(found)
    complaints = queries.complaints_of_hearing(db.session, found.id)
    return render_template(
        "appeals/hearing.html",
        h=found,
        may_act=may_act,
        grounds=hearing_grounds(found),
        today=clock.today(),
        complaints=complaints,
        objection_form=forms.get("objection_form") or ObjectionForm(formdata=None),
        protocol_form=forms.get("protocol_form") or ProtocolForm(formdata=None),
        adopt_form=forms.get("adopt_form") or _adopt_form(found.act_kind),
        withdraw_form=forms.get("withdraw_form") or WithdrawForm(formdata=None),
        delivery_form=forms.get("delivery_form") or DeliveryForm(formdata=None),
        act_receipt_form=forms.get("act_receipt_form") or ActReceiptForm(formdata=None),
        reasons_form=forms.get("reasons_form")
        or StatedReasonsForm(formdata=None, reasons=found.stated_reasons),
        confirm=ConfirmForm(),
        doc_links=hearing_documents(found),
        trail=audit.events_for(db.session, "hearing", found.id),
    ), status


@bp.route("/appeals/hearings/<int:hearing_id>")
@allow(*CASE_READERS)
def hearing(hearing_id: int):
    return hearing_page(staff_hearing(hearing_id))


def _step(found: Hearing, action, message: str, form=None, form_name: str = ""):
    """Validate, run one domain step, commit, and come back to the hearing page."""
    form = form if form is not None else ConfirmForm()
    extra = {form_name: form} if form_name else {}
    if not form.validate_on_submit():
        flash_form_errors(form)
        return hearing_page(found, 400, **extra)
    with on_refusal(
        lambda status: hearing_page(found, status, **extra), field=form if form_name else None
    ):
        action(form)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("appeals.hearing", hearing_id=found.id))


def _consequence(found: Hearing, verb: str, endpoint: str, text: str, carried=None):
    return Consequence(
        title=f"{ACT_KIND_LABELS[found.act_kind]}: {found.person_name}",
        verb=verb,
        action=url_for(endpoint, hearing_id=found.id),
        cancel=url_for("appeals.hearing", hearing_id=found.id),
        consequence=text,
        facts=[
            (_("Proposed act"), str(ACT_KIND_LABELS[found.act_kind])),
            (_("Person"), found.person_name),
            (_("Status"), str(HEARING_STATUS_LABELS[found.status])),
        ],
        carried=carried or {},
    )


def _notify_consequence(found: Hearing) -> Consequence:
    return _consequence(
        found,
        _("Yes, notify the person"),
        "appeals.notify",
        _(
            "The person receives the preliminary decision in the portal, by e-mail and by SMS; "
            "the terms to object start. The draft can no longer be changed."
        ),
    )


@bp.route("/appeals/hearings/<int:hearing_id>/notify/confirm")
@allow(*CASE_READERS)
def notify_confirm(hearing_id: int):
    return confirm_page(_notify_consequence(_acting_hearing(hearing_id)))


@bp.route("/appeals/hearings/<int:hearing_id>/notify", methods=["POST"])
@allow(*CASE_READERS)
def notify(hearing_id: int):
    found = _acting_hearing(hearing_id)
    if not is_confirmed():
        return confirm_page(_notify_consequence(found), 422)
    return _step(
        found,
        lambda _f: hearings.notify(
            db.session,
            hearing_id=found.id,
            actor_id=current_user.id,
            scope=current_scope(*act_roles(found.act_kind)),
            now=utcnow(),
        ),
        _("The person has been notified of the preliminary decision."),
    )


@bp.route("/appeals/hearings/<int:hearing_id>/objections", methods=["POST"])
@allow(*CASE_READERS)
def enter_objection(hearing_id: int):
    found = _acting_hearing(hearing_id)
    form = ObjectionForm()
    return _step(
        found,
        lambda f: hearings.object(
            db.session,
            hearing_id=found.id,
            body=f.body.data,
            channel=f.channel.data,
            actor_id=current_user.id,
            now=utcnow(),
        ),
        _("The objection has been attached to the case."),
        form,
        "objection_form",
    )


def _carried_step(found: Hearing, form, form_name: str, consequence, action, message: str):
    """A step with typed-in fields: validated, then confirmed with them carried, then taken."""
    if not form.validate_on_submit():
        flash_form_errors(form)
        return hearing_page(found, 400, **{form_name: form})
    if not is_confirmed():
        return confirm_page(consequence(carried_fields()), 422)
    return _step(found, action, message, form, form_name)


@bp.route("/appeals/hearings/<int:hearing_id>/protocol", methods=["POST"])
@allow(*CASE_READERS)
def record_protocol(hearing_id: int):
    found = _acting_hearing(hearing_id)
    form = ProtocolForm()
    return _carried_step(
        found,
        form,
        "protocol_form",
        lambda carried: _consequence(
            found,
            _("Yes, record the protocol"),
            "appeals.record_protocol",
            _("The protocol is recorded as signed and sent to the person, who may add remarks."),
            carried,
        ),
        lambda f: hearings.record_protocol(
            db.session,
            hearing_id=found.id,
            held_at=f.held_at.data.replace(tzinfo=clock.zone()).astimezone(dt.UTC),
            mode=f.mode.data,
            attendees=f.attendees.data,
            body=f.body.data,
            actor_id=current_user.id,
            scope=current_scope(*act_roles(found.act_kind)),
            now=utcnow(),
            signed_on=f.signed_on.data,
        ),
        _("The protocol of the hearing has been recorded."),
    )


@bp.route("/appeals/hearings/<int:hearing_id>/adopt", methods=["POST"])
@allow(*CASE_READERS)
def adopt(hearing_id: int):
    found = _acting_hearing(hearing_id)
    form = _adopt_form(found.act_kind, request.form)
    return _carried_step(
        found,
        form,
        "adopt_form",
        lambda carried: _consequence(
            found,
            _("Yes, adopt the act"),
            "appeals.adopt",
            _(
                "The act takes effect and is sent to the person with how to complain about it. "
                "Only the body that reviews complaints can undo it."
            ),
            carried,
        ),
        lambda f: hearings.adopt(
            db.session,
            hearing_id=found.id,
            act_reasons=f.act_reasons.data,
            actor_id=current_user.id,
            scope=current_scope(*act_roles(found.act_kind)),
            exception_kind=f.exception_kind.data or None,
            exception_reason=f.exception_reason.data or None,
            execution_exception=f.execution_exception.data or None,
            now=utcnow(),
        ),
        _("The act has been adopted."),
    )


@bp.route("/appeals/hearings/<int:hearing_id>/withdraw", methods=["POST"])
@allow(*CASE_READERS)
def withdraw(hearing_id: int):
    found = _acting_hearing(hearing_id)
    form = WithdrawForm()
    return _carried_step(
        found,
        form,
        "withdraw_form",
        lambda carried: _consequence(
            found,
            _("Yes, withdraw the draft"),
            "appeals.withdraw",
            _("The preliminary decision is withdrawn and the person is told; no act follows."),
            carried,
        ),
        lambda f: hearings.withdraw(
            db.session,
            hearing_id=found.id,
            reason=f.reason.data,
            actor_id=current_user.id,
            scope=current_scope(*act_roles(found.act_kind)),
            now=utcnow(),
        ),
        _("The preliminary decision has been withdrawn."),
    )


def when(value) -> str:
    """A moment in the reader's time zone, for confirmation facts."""
    return local_time(value) if value else "—"
