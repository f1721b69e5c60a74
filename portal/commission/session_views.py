"""The secretary's sessions: planning, the agenda, attendance, votes on paper, closing."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import SelectChoice

from appeals import complaint_steps, hearings
from appeals.documents import complaints_for_minutes
from core import audit, bilingual, clock, documents
from core.db import utcnow
from incentives import agenda as agendas
from incentives import minutes, sessions, sittings
from incentives import policy as policies
from incentives import queries as reward_queries
from incentives.models import (
    AgendaItem,
    Commission,
    CommissionMember,
    CommissionSession,
    Nomination,
)
from portal.commission import confirm_steps
from portal.commission.blueprint import bp
from portal.commission.forms import ActForm, AgendaForm, OpenForm, PaperVoteForm, PlanForm, ScanForm
from portal.commission.page_reads import supports
from portal.commission.roles import SECRETARIES, SESSION_READERS
from portal.confirmation import confirm_page, is_confirmed
from portal.errors import flash_form_errors, on_refusal
from portal.extensions import db
from portal.forms import ConfirmForm, arg_int
from portal.i18n import local_dates
from portal.paging import PAGE_SIZE, other_args, page_of, read_page, row_link
from portal.security import allow, current_scope, holds, require_unit

# ---- the secretary: sessions, agenda, attendance, votes on paper, closing ---------------------


def _secretary_commissions() -> list[SelectChoice]:
    """The plan form's choices: the commissions of the secretary's units, by id and name."""
    query = reward_queries.commissions(current_scope(*SECRETARIES))
    columns = (Commission.id, Commission.name_kk, Commission.name_ru)
    return [
        SelectChoice(c.id, bilingual.in_language(c, "name", str(get_locale())))
        for c in db.session.execute(query.with_only_columns(*columns))
    ]


def _sessions_page(form: PlanForm | None = None, status: int = 200):
    query = reward_queries.sessions(current_scope(*SESSION_READERS), str(get_locale()))
    found = page_of(
        query.order_by(CommissionSession.held_on.desc(), CommissionSession.id.desc()), rows=True
    )
    if form is None and "secretary" in current_user.roles():
        form = PlanForm(held_on=clock.today())
    if form is not None:
        form.commission_id.choices = _secretary_commissions()
    return render_template(
        "commission/sessions.html",
        rows=found.rows,
        # Each date formatted once and one link pattern: 50 sittings fall on a few days.
        dates=local_dates(r.held_on for r in found.rows),
        session_href=row_link("commission.session_page", "session_id"),
        form=form,
        page=found.page,
        pages=found.pages,
        args=other_args(),
    ), status


@bp.route("/sessions")
@allow(*SESSION_READERS)
def sessions_list():
    return _sessions_page()


@bp.route("/sessions", methods=["POST"])
@allow(*SECRETARIES)
def plan_session():
    form = PlanForm()
    form.commission_id.choices = _secretary_commissions()
    if not form.validate_on_submit():
        return _sessions_page(form, 400)
    with on_refusal(lambda status: _sessions_page(form, status)):
        sitting = sessions.plan(
            db.session,
            commission_id=form.commission_id.data,
            held_on=form.held_on.data,
            place_kk=form.place_kk.data,
            place_ru=form.place_ru.data,
            on_paper=form.on_paper.data,
            actor_id=current_user.id,
        )
        # Nominations a complaint sent back go first on the commission's next agenda.
        complaint_steps.put_returned_on_agenda(
            db.session, session_id=sitting.id, actor_id=current_user.id
        )
    db.session.commit()
    flash(_("The session has been planned. Now put nominations on its agenda."), "success")
    return redirect(url_for("commission.session_page", session_id=sitting.id))


def session_in_scope(session_id: int, *roles: str) -> CommissionSession:
    """Return the session if ``roles`` reach its unit."""
    # With its commission, which the check reads and the page shows: one statement, not two.
    sitting = db.session.get(
        CommissionSession, session_id, options=[joinedload(CommissionSession.commission)]
    )
    if sitting is None:
        abort(404)
    require_unit(sitting.commission.unit_id, *roles, private=True)
    return sitting


def _item_of(sitting: CommissionSession, item_id: int) -> AgendaItem:
    item = db.session.get(AgendaItem, item_id)
    if item is None or item.session_id != sitting.id:
        abort(404)
    return item


def _waiting(sitting: CommissionSession) -> list[Nomination]:
    return list(
        db.session.scalars(
            select(Nomination)
            .where(
                Nomination.commission_id == sitting.commission_id,
                Nomination.status.in_(("submitted", "deferred")),
            )
            .order_by(Nomination.submitted_at, Nomination.id)
        )
    )


def _paper_form(item: AgendaItem, present: list[CommissionMember], formdata=None):
    form = PaperVoteForm(prefix=f"i{item.id}", formdata=formdata)
    form.commission_member_id.choices = [SelectChoice(m.id, m.user.full_name) for m in present]
    return form


def minutes_texts(sitting: CommissionSession) -> tuple[str, str]:
    """Compose the minutes of a closed session in Kazakh and in Russian."""
    texts = []
    # The complaints about the commission's decisions since its previous session (appeals).
    complaints = complaints_for_minutes(db.session, sitting)
    for lang in ("kk", "ru"):
        with force_locale(lang):
            blocks = minutes.compose(db.session, sitting, minutes.Language(lang, _), complaints)
            texts.append(documents.to_text(blocks))
    return texts[0], texts[1]


AGENDA_PAGE = PAGE_SIZE  # agenda items per page of a session


def _session_page(sitting: CommissionSession, status: int = 200, **forms):
    may_act = holds(sitting.commission.unit_id, *SECRETARIES)
    # Plain rows, not entities, a page at a time: a region's agenda may hold a couple of
    # hundred items (191 at bench/pages.py's larger scale, where the whole agenda on one page
    # cost eight times the floor's page, issue 16), too many to scroll on a phone as well.
    found = read_page(
        lambda skip, take: agendas.items_page(db.session, sitting.id, skip, take),
        lambda: agendas.count(db.session, sitting.id),
        size=AGENDA_PAGE,
    )
    agendas.add_ballots(db.session, found.rows)
    attendance = sessions.attendance_of(db.session, sitting.id)
    # As ``sessions.present_members``, from the attendance read once for the whole page.
    present = sorted((a.commission_member for a in attendance if a.present), key=lambda m: m.id)
    context = {
        "sitting": sitting,
        "commission": sitting.commission,
        "items": found.rows,
        "item_count": found.total,
        "page": found.page,
        "pages": found.pages,
        "quorum": minutes.quorum(db.session, sitting, attendance),
        "attendance": attendance,
        "present": present,
        "may_act": may_act,
        "trail": audit.events_for(db.session, "commission_session", sitting.id),
    }
    if may_act and sitting.status == "planned":
        waiting = _waiting(sitting)
        agenda_form = forms.get("agenda_form") or AgendaForm()
        agenda_form.nomination_ids.choices = [SelectChoice(n.id, str(n.id)) for n in waiting]
        open_form = forms.get("open_form") or OpenForm(
            present=[m.id for m in context["quorum"].members]
        )
        open_form.present.choices = [
            SelectChoice(m.id, m.user.full_name) for m in context["quorum"].members
        ]
        context.update(
            waiting={n.id: n for n in waiting},
            waiting_supports=supports(n.id for n in waiting),
            agenda_form=agenda_form,
            open_form=open_form,
        )
    if may_act and sitting.status == "open" and sitting.on_paper:
        posted = forms.get("paper_form")
        context["paper_forms"] = {
            i.id: posted
            if posted is not None and posted._prefix == f"i{i.id}-"
            else _paper_form(i, present)
            for i in found.rows
        }
    if sitting.status == "closed":
        # Composed on each view of a closed session only: that state lasts from closing to
        # finalising, the preview is what the secretary reviews then, and the text follows
        # names kept elsewhere (members, units), which a cache keyed on the session would miss.
        context["preview"] = minutes_texts(sittings.with_agenda(db.session, sitting.id))
    # Why the next steps are not yet possible, and what comes first (minutes → act → payment).
    context["act_waits"] = _why_not(sitting, "record_act") if not sitting.act_number else None
    context["payment_waits"] = sitting.status != "minutes_final" or not sitting.act_number
    if may_act and sitting.status == "minutes_final" and not sitting.act_number:
        context["act_form"] = forms.get("act_form") or ActForm(date=clock.today())
    if may_act and sitting.status == "minutes_final" and not sitting.scan_file_id:
        context["scan_form"] = forms.get("scan_form") or ScanForm()
    return render_template("commission/session.html", **context), status


def _why_not(sitting: CommissionSession, step: str) -> str | None:
    """Return, translated, why ``step`` cannot be taken yet (None when it can)."""
    if sitting.status in sessions.SESSION.step(step).sources:
        return None
    refused = sessions.refusal(db.session, sitting, step)
    return _(refused.message, **refused.params) if refused is not None else None


@bp.route("/sessions/<int:session_id>")
@allow(*SESSION_READERS)
def session_page(session_id: int):
    return _session_page(session_in_scope(session_id, *SESSION_READERS))


def secretary_action(session_id: int, action, message: str, form=None, form_name: str = ""):
    """Run one secretary's action on a session: validate, call the domain, commit, redirect."""
    sitting = session_in_scope(session_id, *SECRETARIES)
    form = form if form is not None else ConfirmForm()
    if not form.validate_on_submit():
        flash_form_errors(form)  # flash_form_errors: the page may not show the form (S13)
        return _session_page(sitting, 400, **({form_name: form} if form_name else {}))
    with on_refusal(
        lambda status: _session_page(sitting, status, **({form_name: form} if form_name else {}))
    ):
        result = action(sitting, form)
    db.session.commit()
    flash(message if not callable(message) else message(result), "success")
    # Back to the agenda's page the step was taken on (a paper vote on page 3 stays there).
    page = request.args.get("page", type=arg_int)
    return redirect(url_for("commission.session_page", session_id=session_id, page=page))


@bp.route("/sessions/<int:session_id>/agenda", methods=["POST"])
@allow(*SECRETARIES)
def agenda(session_id: int):
    sitting = session_in_scope(session_id, *SECRETARIES)
    form = AgendaForm()
    form.nomination_ids.choices = [SelectChoice(n.id, str(n.id)) for n in _waiting(sitting)]
    return secretary_action(
        session_id,
        lambda s, f: sessions.add_to_agenda(
            db.session,
            session_id=s.id,
            nomination_ids=f.nomination_ids.data or [],
            actor_id=current_user.id,
        ),
        lambda n: _("%(n)s nomination(s) put on the agenda.", n=n),
        form,
        "agenda_form",
    )


@bp.route("/sessions/<int:session_id>/open", methods=["POST"])
@allow(*SECRETARIES)
def open_session(session_id: int):
    sitting = session_in_scope(session_id, *SECRETARIES)
    form = OpenForm()
    form.present.choices = [
        SelectChoice(m.id, m.user.full_name)
        for m in policies.members_on(db.session, sitting.commission_id, sitting.held_on)
    ]

    def message(opened: CommissionSession) -> str:
        if opened.quorum_met:
            return _("The session is open: there is a quorum.")
        return _("The session is open, but there is no quorum: it cannot decide.")

    return secretary_action(
        session_id,
        lambda s, f: sessions.open_session(
            db.session,
            session_id=s.id,
            present_ids=set(f.present.data or []),
            actor_id=current_user.id,
            now=utcnow(),
        ),
        message,
        form,
        "open_form",
    )


@bp.route("/sessions/<int:session_id>/items/<int:item_id>/votes", methods=["POST"])
@allow(*SECRETARIES)
def paper_vote(session_id: int, item_id: int):
    sitting = session_in_scope(session_id, *SECRETARIES)
    item = _item_of(sitting, item_id)
    form = _paper_form(item, sessions.present_members(db.session, sitting.id), request.form)
    return secretary_action(
        session_id,
        lambda s, f: sessions.vote(
            db.session,
            item_id=item.id,
            commission_member_id=f.commission_member_id.data,
            choice=f.choice.data,
            reason=f.reason.data,
            entered_by_id=current_user.id,
        ),
        _("The vote has been recorded."),
        form,
        "paper_form",
    )


def confirm_step(session_id: int, consequence):
    """Show what a step will do to the session (its POST refuses it if it cannot be taken)."""
    return confirm_page(consequence(session_in_scope(session_id, *SECRETARIES)))


@bp.route("/sessions/<int:session_id>/close/confirm")
@allow(*SECRETARIES)
def close_session_confirm(session_id: int):
    return confirm_step(session_id, confirm_steps.close_session)


@bp.route("/sessions/<int:session_id>/close", methods=["POST"])
@allow(*SECRETARIES)
def close_session(session_id: int):
    if not is_confirmed():  # a double click on the old button, or a script: nothing happens
        sitting = session_in_scope(session_id, *SECRETARIES)
        return confirm_page(confirm_steps.close_session(sitting), 422)

    def close(sitting, _form):
        now = utcnow()
        closed = sessions.close(
            db.session, session_id=sitting.id, actor_id=current_user.id, now=now
        )
        # Each refused or deferred person is heard before the akimat's act (APPK Art. 73).
        hearings.draft_for_sitting(
            db.session, sitting_id=sitting.id, actor_id=current_user.id, now=now
        )
        return closed

    return secretary_action(
        session_id,
        close,
        _("The session has been closed. Review the minutes and finalise them."),
    )
