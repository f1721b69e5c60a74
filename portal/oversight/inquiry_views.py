"""Deputies' inquiries: ask about a record, the akimat's queue and answers, close or follow up."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import HiddenField, TextAreaField
from wtforms.validators import Length

from core import audit, clock
from core.accounts import users_by_id
from core.errors import DomainError
from incentives import inquiries
from incentives.inquiry_models import Inquiry
from portal.errors import on_refusal
from portal.extensions import db
from portal.forms import ConfirmForm, PortalForm, arg_int  # arg_int: fuzzing fix (S13)
from portal.labels import INQUIRY_OBJECT_LABELS as OBJECT_LABELS
from portal.labels import INQUIRY_STATUS_LABELS as STATUS_LABELS
from portal.oversight.blueprint import bp
from portal.paging import PAGE_SIZE, pages_for
from portal.security import allow, current_scope, holds

ANSWERERS = ("secretary", "finance")
INQUIRY_USERS = ("deputy", *ANSWERERS)
# Where each kind of record is shown: object type -> (endpoint, argument).
RECORD_LINKS = {
    "budget_line": ("finance.line", "line_id"),
    "maslikhat_decision": ("finance.decision", "decision_id"),
    "commission_session": ("commission.session_page", "session_id"),
    "payout": ("commission.payout", "item_id"),
}
MESSAGE_LABELS = {"question": _l("Question"), "answer": _l("Answer"), "follow_up": _l("Follow-up")}


class QuestionForm(PortalForm):
    object_type = HiddenField()
    object_id = HiddenField()
    text = TextAreaField(_l("Your question"), validators=[Length(max=inquiries.TEXT_LIMIT)])


class AnswerForm(PortalForm):
    text = TextAreaField(_l("Answer"), validators=[Length(max=inquiries.TEXT_LIMIT)])


class FollowUpForm(PortalForm):
    text = TextAreaField(_l("Follow-up question"), validators=[Length(max=inquiries.TEXT_LIMIT)])


def record_url(object_type: str, object_id: int) -> str:
    """Return the address of the page of the record an inquiry is about."""
    endpoint, arg = RECORD_LINKS[object_type]
    return url_for(endpoint, **{arg: object_id})


@bp.context_processor
def _inquiry_labels():
    return {
        "INQUIRY_OBJECT_LABELS": OBJECT_LABELS,
        "INQUIRY_STATUS_LABELS": STATUS_LABELS,
        "INQUIRY_MESSAGE_LABELS": MESSAGE_LABELS,
        "inquiry_record_url": record_url,
    }


def _today():
    return clock.today()


def _may_answer(inquiry: Inquiry) -> bool:
    return holds(inquiry.unit_id, *ANSWERERS)


def _visible(inquiry_id: int) -> Inquiry:
    inquiry = db.session.get(Inquiry, inquiry_id)
    if inquiry is None or not (
        inquiry.deputy_id == current_user.id or holds(inquiry.unit_id, *INQUIRY_USERS)
    ):
        abort(404)
    return inquiry


@bp.route("/inquiries")
@allow(*INQUIRY_USERS)
def inquiry_list():
    args = request.args
    page = max(args.get("page", 1, type=arg_int), 1)
    mine_page = max(args.get("mine_page", 1, type=arg_int), 1)
    asking = current_user.has_any("deputy")
    mine = (
        inquiries.asked_by(
            db.session, current_user.id, limit=PAGE_SIZE, offset=(mine_page - 1) * PAGE_SIZE
        )
        if asking
        else []
    )
    mine_total = inquiries.count_asked_by(db.session, current_user.id) if asking else 0
    scope = current_scope(*ANSWERERS)
    closed = bool(args.get("all"))
    queue = inquiries.queue(
        db.session, scope, include_closed=closed, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    total = inquiries.count_queue(db.session, scope, include_closed=closed)
    return render_template(
        "oversight/inquiries.html",
        mine=mine,
        queue=queue,
        answers=not scope.is_nothing,
        today=_today(),
        people=users_by_id(db.session, (i.deputy_id for i in queue)),
        page=page,
        pages=pages_for(total),
        mine_page=mine_page,
        mine_pages=pages_for(mine_total),
        args=args,
    )


def _new_page(form: QuestionForm, status: int = 200):
    try:
        target = inquiries.resolve_target(
            # arg_int: a huge id overflowed the query, a 500 found by fuzzing (S13).
            db.session,
            form.object_type.data or "",
            arg_int(form.object_id.data or "0"),
        )
    except (DomainError, ValueError):
        abort(404)
    if not holds(target.unit_id, "deputy"):
        abort(404)
    return render_template(
        "oversight/inquiry_new.html",
        form=form,
        target=target,
        earlier=inquiries.for_record(db.session, target.object_type, target.object_id),
    ), status


@bp.route("/inquiries/new")
@allow("deputy")
def new_inquiry():
    form = QuestionForm(
        object_type=request.args.get("object_type", ""),
        object_id=request.args.get("object_id", ""),
    )
    return _new_page(form)


@bp.route("/inquiries", methods=["POST"])
@allow("deputy")
def ask_inquiry():
    form = QuestionForm()
    if not form.validate_on_submit():
        return _new_page(form, 400)
    try:
        object_id = arg_int(form.object_id.data or "0")  # bounded: fuzzing fix (S13)
    except ValueError:
        abort(404)
    with on_refusal(lambda status: _new_page(form, status)):
        inquiry = inquiries.ask(
            db.session,
            object_type=form.object_type.data or "",
            object_id=object_id,
            text=form.text.data,
            deputy_id=current_user.id,
            scope=current_scope("deputy"),
            today=_today(),
        )
    db.session.commit()
    flash(_("Your question is sent to the akimat."), "success")
    return redirect(url_for("oversight.inquiry", inquiry_id=inquiry.id))


def _inquiry_page(inquiry: Inquiry, status: int = 200, **forms):
    mine = inquiry.deputy_id == current_user.id
    return render_template(
        "oversight/inquiry.html",
        inquiry=inquiry,
        today=_today(),
        people=users_by_id(
            db.session, [inquiry.deputy_id, *(m.author_id for m in inquiry.messages)]
        ),
        answer_form=forms.get("answer_form") or AnswerForm(prefix="answer"),
        may_answer=_may_answer(inquiry) and inquiry.status != "closed",
        mine=mine,
        follow_form=forms.get("follow_form") or FollowUpForm(prefix="follow"),
        close_form=ConfirmForm(),
        trail=audit.events_for(db.session, "inquiry", inquiry.id),
    ), status


@bp.route("/inquiries/<int:inquiry_id>")
@allow(*INQUIRY_USERS)
def inquiry(inquiry_id: int):
    return _inquiry_page(_visible(inquiry_id))


def _act(inquiry_id: int, form, form_name: str, action, message: str):
    inquiry = _visible(inquiry_id)
    if not form.validate_on_submit():
        return _inquiry_page(inquiry, 400, **{form_name: form})
    with on_refusal(lambda status: _inquiry_page(inquiry, status, **{form_name: form})):
        action(form)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("oversight.inquiry", inquiry_id=inquiry_id))


@bp.route("/inquiries/<int:inquiry_id>/answer", methods=["POST"])
@allow(*INQUIRY_USERS)  # a deputy reaches the domain, which refuses with its message
def answer_inquiry(inquiry_id: int):
    return _act(
        inquiry_id,
        AnswerForm(prefix="answer"),
        "answer_form",
        lambda form: inquiries.answer(
            db.session,
            inquiry_id=inquiry_id,
            text=form.text.data,
            actor_id=current_user.id,
            scope=current_scope(*ANSWERERS),
        ),
        _("The answer is recorded and the deputy is told."),
    )


@bp.route("/inquiries/<int:inquiry_id>/close", methods=["POST"])
@allow("deputy")
def close_inquiry(inquiry_id: int):
    return _act(
        inquiry_id,
        ConfirmForm(),
        "close_form",
        lambda _form: inquiries.close(db.session, inquiry_id=inquiry_id, actor_id=current_user.id),
        _("The inquiry is closed."),
    )


@bp.route("/inquiries/<int:inquiry_id>/follow-up", methods=["POST"])
@allow("deputy")
def follow_up_inquiry(inquiry_id: int):
    return _act(
        inquiry_id,
        FollowUpForm(prefix="follow"),
        "follow_form",
        lambda form: inquiries.follow_up(
            db.session,
            inquiry_id=inquiry_id,
            text=form.text.data,
            actor_id=current_user.id,
            today=_today(),
        ),
        _("Your follow-up question is sent; the inquiry is open again."),
    )
