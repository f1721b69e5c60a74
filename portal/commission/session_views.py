"""The secretary's sessions (agenda, attendance, votes on paper, closing, minutes, act, scan)
and the members' own agenda and votes."""

from __future__ import annotations

import io

from docx import Document
from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from wtforms import SelectChoice

from core import audit, places, uploads
from core.db import utcnow
from core.errors import N_, DomainError
from incentives import policy as policies
from incentives import sessions
from incentives.models import (
    AgendaItem,
    Attendance,
    Commission,
    CommissionMember,
    CommissionSession,
    ConflictDeclaration,
    Nomination,
    Vote,
)
from portal.commission.forms import (
    ActForm,
    AgendaForm,
    ConflictForm,
    OpenForm,
    PaperVoteForm,
    PlanForm,
    ScanForm,
    VoteForm,
)
from portal.commission.views import (
    SESSION_READERS,
    _holds,
    _in_scope,
    _supports,
    _today,
    _users,
    bp,
)
from portal.errors import flash_form_errors, refuse
from portal.extensions import csrf, db
from portal.forms import ConfirmForm  # arg_int: fuzzing fix (S13)
from portal.paging import other_args, page_of
from portal.security import allow, require_unit

SECRETARIES = ("secretary",)
VOTERS = ("member", "chair", "secretary")
SCAN_LIMIT = 10 * 1024 * 1024
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# ---- the secretary: sessions, agenda, attendance, votes on paper, minutes ---------------------


def _secretary_commissions() -> list[Commission]:
    return list(
        db.session.scalars(
            _in_scope(select(Commission), Commission.unit_id, *SECRETARIES).order_by(
                places.AdminUnit.path
            )
        )
    )


def _sessions_page(form: PlanForm | None = None, status: int = 200):
    query = _in_scope(
        select(CommissionSession, Commission).join(
            Commission, CommissionSession.commission_id == Commission.id
        ),
        Commission.unit_id,
        *SESSION_READERS,
    )
    found = page_of(
        query.order_by(CommissionSession.held_on.desc(), CommissionSession.id.desc()), rows=True
    )
    rows = found.rows
    # One count for the page, not a load of every session's agenda.
    sizes = dict(
        db.session.execute(
            select(AgendaItem.session_id, func.count())
            .where(AgendaItem.session_id.in_([s.id for s, _c in rows]))
            .group_by(AgendaItem.session_id)
        ).all()
    )
    if form is None and "secretary" in current_user.roles():
        form = PlanForm(held_on=_today())
    if form is not None:
        form.commission_id.choices = [SelectChoice(c.id, c.name) for c in _secretary_commissions()]
    return render_template(
        "commission/sessions.html",
        rows=rows,
        sizes=sizes,
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
    form.commission_id.choices = [SelectChoice(c.id, c.name) for c in _secretary_commissions()]
    if not form.validate_on_submit():
        return _sessions_page(form, 400)
    try:
        sitting = sessions.plan(
            db.session,
            commission_id=form.commission_id.data,
            held_on=form.held_on.data,
            place=form.place.data,
            on_paper=form.on_paper.data,
            actor_id=current_user.id,
        )
    except DomainError as exc:
        return _sessions_page(form, refuse(exc))
    db.session.commit()
    flash(_("The session has been planned. Now put nominations on its agenda."), "success")
    return redirect(url_for("commission.session_page", session_id=sitting.id))


def _session_in_scope(session_id: int, *roles: str) -> CommissionSession:
    sitting = db.session.get(CommissionSession, session_id)
    if sitting is None:
        abort(404)
    require_unit(sitting.commission.unit_id, *roles, private=True)
    return sitting


def _item_of(sitting: CommissionSession, item_id: int) -> AgendaItem:
    item = db.session.get(AgendaItem, item_id)
    if item is None or item.session_id != sitting.id:
        abort(404)
    return item


def _attendance(sitting: CommissionSession) -> list[Attendance]:
    return list(
        db.session.scalars(
            select(Attendance).where(Attendance.session_id == sitting.id).order_by(Attendance.id)
        )
    )


def _quorum(sitting: CommissionSession) -> dict:
    """Members serving on the day, how many must be present under the policy, how many are."""
    members = policies.members_on(db.session, sitting.commission_id, sitting.held_on)
    attendance = _attendance(sitting)
    commission = sitting.commission
    # Once the session is open, the attendance recorded then is the record of who served;
    # a secretary who does not vote under the rules counts for neither side of the quorum.
    serving = [a.commission_member for a in attendance] if attendance else members
    total = sum(1 for m in serving if sessions.votes(commission, m))
    try:
        rule = policies.policy_in_force(db.session, sitting.commission.unit_id, sitting.held_on)
    except DomainError:
        needed = None
    else:
        needed = sessions.quorum_needed(total, rule.quorum_numerator, rule.quorum_denominator)
    present = sum(
        1 for a in attendance if a.present and sessions.votes(commission, a.commission_member)
    )
    return {"members": members, "total": total, "needed": needed, "present": present}


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


def _minutes_context(sitting: CommissionSession) -> dict:
    attendance = _attendance(sitting)
    items = sitting.items
    present = [a.commission_member for a in attendance if a.present]
    return {
        "sitting": sitting,
        "commission": sitting.commission,
        "unit": db.session.get(places.AdminUnit, sitting.commission.unit_id),
        "present": present,
        "absent": [a.commission_member for a in attendance if not a.present],
        "presiding": sessions.presiding(sitting.commission, present),
        "quorum": _quorum(sitting),
        "items": items,
        "people": _users(i.nomination.nominator_id for i in items),
    }


def minutes_texts(sitting: CommissionSession) -> tuple[str, str]:
    """Render the minutes of a closed session in Kazakh and in Russian."""
    context = _minutes_context(sitting)
    texts = []
    for lang in ("kk", "ru"):
        with force_locale(lang):
            texts.append(render_template("commission/minutes.txt", **context).strip() + "\n")
    return texts[0], texts[1]


def _session_page(sitting: CommissionSession, status: int = 200, **forms):
    may_act = _holds(sitting.commission.unit_id, *SECRETARIES)
    items = sitting.items
    present = sessions.present_members(db.session, sitting.id)
    context = {
        "sitting": sitting,
        "commission": sitting.commission,
        "items": items,
        "supports": _supports(i.nomination_id for i in items),
        "people": _users(i.nomination.nominator_id for i in items),
        "quorum": _quorum(sitting),
        "attendance": _attendance(sitting),
        "present": present,
        "may_act": may_act,
        "confirm": ConfirmForm(),
        "trail": audit.events_for(db.session, "commission_session", sitting.id),
    }
    if may_act and sitting.status == "planned":
        waiting = _waiting(sitting)
        agenda_form = forms.get("agenda_form") or AgendaForm()
        agenda_form.nomination_ids.choices = [SelectChoice(n.id, str(n.id)) for n in waiting]
        open_form = forms.get("open_form") or OpenForm(
            present=[m.id for m in context["quorum"]["members"]]
        )
        open_form.present.choices = [
            SelectChoice(m.id, m.user.full_name) for m in context["quorum"]["members"]
        ]
        context.update(
            waiting={n.id: n for n in waiting},
            waiting_supports=_supports(n.id for n in waiting),
            agenda_form=agenda_form,
            open_form=open_form,
        )
    if may_act and sitting.status == "open" and sitting.on_paper:
        posted = forms.get("paper_form")
        context["paper_forms"] = {
            i.id: posted
            if posted is not None and posted._prefix == f"i{i.id}-"
            else _paper_form(i, present)
            for i in items
        }
    if sitting.status == "closed":
        context["preview"] = minutes_texts(sitting)
    # Why the next steps are not yet possible, and what comes first (minutes → act → payment).
    context["act_waits"] = _why_not(sitting, "record_act") if not sitting.act_number else None
    context["payment_waits"] = sitting.status != "minutes_final" or not sitting.act_number
    if may_act and sitting.status == "minutes_final" and not sitting.act_number:
        context["act_form"] = forms.get("act_form") or ActForm(date=_today())
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
    return _session_page(_session_in_scope(session_id, *SESSION_READERS))


def _secretary_action(session_id: int, action, message: str, form=None, form_name: str = ""):
    """Run one secretary's action on a session: validate, call the domain, commit, redirect."""
    sitting = _session_in_scope(session_id, *SECRETARIES)
    form = form if form is not None else ConfirmForm()
    if not form.validate_on_submit():
        flash_form_errors(form)  # flash_form_errors: the page may not show the form (S13)
        return _session_page(sitting, 400, **({form_name: form} if form_name else {}))
    try:
        result = action(sitting, form)
    except DomainError as exc:
        status = refuse(exc)
        sitting = db.session.get(CommissionSession, session_id)
        return _session_page(sitting, status, **({form_name: form} if form_name else {}))
    db.session.commit()
    flash(message if not callable(message) else message(result), "success")
    return redirect(url_for("commission.session_page", session_id=session_id))


@bp.route("/sessions/<int:session_id>/agenda", methods=["POST"])
@allow(*SECRETARIES)
def agenda(session_id: int):
    sitting = _session_in_scope(session_id, *SECRETARIES)
    form = AgendaForm()
    form.nomination_ids.choices = [SelectChoice(n.id, str(n.id)) for n in _waiting(sitting)]
    return _secretary_action(
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
    sitting = _session_in_scope(session_id, *SECRETARIES)
    form = OpenForm()
    form.present.choices = [
        SelectChoice(m.id, m.user.full_name)
        for m in policies.members_on(db.session, sitting.commission_id, sitting.held_on)
    ]

    def message(opened: CommissionSession) -> str:
        if opened.quorum_met:
            return _("The session is open: there is a quorum.")
        return _("The session is open, but there is no quorum: it cannot decide.")

    return _secretary_action(
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
    sitting = _session_in_scope(session_id, *SECRETARIES)
    item = _item_of(sitting, item_id)
    form = _paper_form(item, sessions.present_members(db.session, sitting.id), request.form)
    return _secretary_action(
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


@bp.route("/sessions/<int:session_id>/close", methods=["POST"])
@allow(*SECRETARIES)
def close_session(session_id: int):
    return _secretary_action(
        session_id,
        lambda s, f: sessions.close(
            db.session, session_id=s.id, actor_id=current_user.id, now=utcnow()
        ),
        _("The session has been closed. Review the minutes and finalise them."),
    )


@bp.route("/sessions/<int:session_id>/minutes", methods=["POST"])
@allow(*SECRETARIES)
def finalize_minutes(session_id: int):
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

    return _secretary_action(
        session_id, action, _("The minutes are final: they can be printed and no longer change.")
    )


@bp.route("/sessions/<int:session_id>/act", methods=["POST"])
@allow(*SECRETARIES)
def record_act(session_id: int):
    return _secretary_action(
        session_id,
        lambda s, f: sessions.record_act(
            db.session,
            session_id=s.id,
            number=f.number.data,
            date=f.date.data,
            actor_id=current_user.id,
        ),
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

    return _secretary_action(
        session_id,
        action,
        _("The signed scan has been attached."),
        ScanForm(),
        "scan_form",
    )


def _final(session_id: int) -> CommissionSession:
    sitting = _session_in_scope(session_id, *SESSION_READERS)
    if sitting.status != "minutes_final":
        abort(404)
    return sitting


@bp.route("/sessions/<int:session_id>/minutes")
@allow(*SESSION_READERS)
def print_minutes(session_id: int):
    return render_template("commission/minutes_print.html", sitting=_final(session_id))


@bp.route("/sessions/<int:session_id>/minutes.docx")
@allow(*SESSION_READERS)
def minutes_docx(session_id: int):
    sitting = _final(session_id)
    lang = request.args.get("lang", "kk")
    if lang not in ("kk", "ru"):
        abort(404)
    text = sitting.minutes_kk if lang == "kk" else sitting.minutes_ru
    document = Document()
    for line in text.splitlines():
        document.add_paragraph(line)
    document.add_paragraph(f"SHA-256: {sitting.minutes_hash}")
    out = io.BytesIO()
    document.save(out)
    out.seek(0)
    return send_file(
        out,
        mimetype=DOCX,
        as_attachment=True,
        download_name=f"minutes-{sitting.id}-{lang}.docx",
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


# ---- members and the chair: their agenda and votes --------------------------------------------


def _my_seats() -> list[CommissionMember]:
    return list(
        db.session.scalars(
            select(CommissionMember).where(CommissionMember.user_id == current_user.id)
        )
    )


def _my_sessions_page(
    status: int = 200, posted: VoteForm | None = None, posted_conflict: ConflictForm | None = None
):
    seats = _my_seats()
    seat_ids = [s.id for s in seats]
    sittings = (
        db.session.scalars(
            select(CommissionSession)
            .join(Attendance, Attendance.session_id == CommissionSession.id)
            .where(
                Attendance.commission_member_id.in_(seat_ids),
                Attendance.present,
                CommissionSession.status == "open",
            )
            .order_by(CommissionSession.held_on, CommissionSession.id)
        ).all()
        if seat_ids
        else []
    )
    planned = (
        db.session.scalars(
            select(CommissionSession)
            .where(
                CommissionSession.commission_id.in_({s.commission_id for s in seats}),
                CommissionSession.status == "planned",
            )
            .order_by(CommissionSession.held_on)
        ).all()
        if seats
        else []
    )
    mine = {}
    if seat_ids:
        for v in db.session.scalars(select(Vote).where(Vote.commission_member_id.in_(seat_ids))):
            mine[v.item_id] = v
    past = (
        db.session.execute(
            select(Vote, AgendaItem, CommissionSession)
            .join(AgendaItem, Vote.item_id == AgendaItem.id)
            .join(CommissionSession, AgendaItem.session_id == CommissionSession.id)
            .where(Vote.commission_member_id.in_(seat_ids), CommissionSession.status != "open")
            .order_by(CommissionSession.held_on.desc(), AgendaItem.position)
            .limit(100)
        ).all()
        if seat_ids
        else []
    )
    declared = {}
    if seat_ids:
        for d in db.session.scalars(
            select(ConflictDeclaration).where(
                ConflictDeclaration.commission_member_id.in_(seat_ids)
            )
        ):
            declared[d.item_id] = d
    conflict_forms = {
        item.id: (
            posted_conflict
            if posted_conflict is not None and posted_conflict._prefix == f"c{item.id}-"
            else ConflictForm(prefix=f"c{item.id}", formdata=None)
        )
        for s in planned
        for item in s.items
    }
    forms = {}
    for sitting in sittings:
        for item in sitting.items:
            prefix = f"i{item.id}"
            forms[item.id] = (
                posted if posted is not None and posted._prefix == prefix + "-" else None
            ) or VoteForm(prefix=prefix, formdata=None)
    items = [i for s in sittings for i in s.items]
    return render_template(
        "commission/my_sessions.html",
        seats=seats,
        sittings=sittings,
        planned=planned,
        mine=mine,
        past=past,
        forms=forms,
        declared=declared,
        conflict_forms=conflict_forms,
        supports=_supports(i.nomination_id for i in items),
    ), status


@bp.route("/my-sessions")
@allow(*VOTERS)
def my_sessions():
    return _my_sessions_page()


def _item_and_my_seat(item_id: int):
    """Return the agenda item and the signed-in member's seat on its commission, or 404."""
    item = db.session.get(AgendaItem, item_id)
    if item is None:
        abort(404)
    sitting = item.session
    seat = next(
        (
            s
            for s in _my_seats()
            if s.commission_id == sitting.commission_id and s.serves_on(sitting.held_on)
        ),
        None,
    )
    if seat is None:
        abort(404)
    return item, seat


@bp.route("/my-sessions/items/<int:item_id>/vote", methods=["POST"])
@allow(*VOTERS)
def vote(item_id: int):
    item, seat = _item_and_my_seat(item_id)
    form = VoteForm(prefix=f"i{item.id}")
    if not form.validate_on_submit():
        flash_form_errors(form)  # flash_form_errors: the page may not show the form (S13)
        return _my_sessions_page(400, form)
    try:
        sessions.vote(
            db.session,
            item_id=item.id,
            commission_member_id=seat.id,
            choice=form.choice.data,
            reason=form.reason.data,
            entered_by_id=current_user.id,
        )
    except DomainError as exc:
        return _my_sessions_page(refuse(exc), form)
    db.session.commit()
    flash(_("Your vote has been recorded."), "success")
    return redirect(url_for("commission.my_sessions"))


@bp.route("/my-sessions/items/<int:item_id>/conflict", methods=["POST"])
@allow(*VOTERS)
def declare_conflict(item_id: int):
    item, seat = _item_and_my_seat(item_id)
    form = ConflictForm(prefix=f"c{item.id}")
    if not form.validate_on_submit():
        flash_form_errors(form)  # flash_form_errors: the page may not show the form (S13)
        return _my_sessions_page(400, posted_conflict=form)
    try:
        sessions.declare_conflict(
            db.session,
            item_id=item.id,
            commission_member_id=seat.id,
            reason=form.reason.data,
            actor_id=current_user.id,
        )
    except DomainError as exc:
        return _my_sessions_page(refuse(exc), posted_conflict=form)
    db.session.commit()
    flash(_("Your conflict of interest is recorded: you are recused from this item."), "success")
    return redirect(url_for("commission.my_sessions"))
