"""Budget screens: lines and their ledger, programs, maslikhat decisions (four eyes), MCI.

Finance officers and deputies read everything inside their jurisdictions; finance officers
record programs, lines and decisions and verify each other's decisions; administrators of the
whole country keep the MCI by year.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from wtforms import SelectChoice

from budget import appropriations
from budget.models import (
    DECISION_KINDS,
    ENTRY_KINDS,
    PURPOSES,
    Amendment,
    BudgetLine,
    BudgetProgram,
    FiscalYearClosure,
    LedgerEntry,
    MaslikhatDecision,
    MCIRate,
)
from budget.workflow import DECISION
from core import audit, clock, places
from core.accounts import User
from core.errors import N_, DomainError
from core.money import format_tiyn, parse_tenge
from portal import jobs, session_policy
from portal.errors import refuse_page
from portal.extensions import db
from portal.finance.forms import CloseYearForm, DecisionForm, LineForm, MCIForm, ProgramForm
from portal.forms import ConfirmForm, arg_date, arg_int, unit_choices  # arg_int: fuzzing fix (S13)
from portal.i18n import translate_error, unit_name
from portal.labels import DECISION_KIND_LABELS, LEDGER_KIND_LABELS, PURPOSE_LABELS
from portal.paging import PAGE_SIZE, page_of, pages_for
from portal.security import (
    administers_country,
    allow,
    get_in_scope,
    require_country_admin,
    require_unit,
)

bp = Blueprint("finance", __name__, url_prefix="/finance")
READERS = ("finance", "deputy")
BUDGET_LEVELS = ("region", "city", "district")  # where a maslikhat adopts a budget


@bp.context_processor
def _labels():
    return {
        "PURPOSE_LABELS": PURPOSE_LABELS,
        "DECISION_KIND_LABELS": DECISION_KIND_LABELS,
        "LEDGER_KIND_LABELS": LEDGER_KIND_LABELS,
    }


def _in_scope(query, unit_column, *roles: str):
    """Restrict ``query`` to records whose ``unit_column`` lies inside the user's ``roles``."""
    return query.join(places.AdminUnit, unit_column == places.AdminUnit.id).where(
        places.units_within_clause(current_user.scope(*roles))
    )


def _users(ids) -> dict[int, User]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def shares(line) -> dict[str, int]:
    """Return whole percents of the approved amount: paid, committed and used (both)."""
    approved = line.approved_tiyn
    if approved <= 0:
        return {"paid": 0, "committed": 0, "used": 0}
    paid = line.disbursed_tiyn * 100 // approved
    used = (line.committed_tiyn + line.disbursed_tiyn) * 100 // approved
    return {"paid": paid, "committed": used - paid, "used": used}


def _closed_years(unit_ids) -> set[tuple[int, int]]:
    unit_ids = set(unit_ids)
    if not unit_ids:
        return set()
    rows = db.session.execute(
        select(FiscalYearClosure.unit_id, FiscalYearClosure.fiscal_year).where(
            FiscalYearClosure.unit_id.in_(unit_ids)
        )
    )
    return {(unit_id, year) for unit_id, year in rows}


# ---- lines ------------------------------------------------------------------------------------


@bp.route("/lines")
@allow(*READERS)
def lines():
    args = request.args
    page = max(args.get("page", 1, type=arg_int), 1)
    query = _in_scope(
        select(BudgetLine, BudgetProgram, places.AdminUnit).join(
            BudgetProgram, BudgetLine.program_id == BudgetProgram.id
        ),
        BudgetProgram.unit_id,
        *READERS,
    )
    year = args.get("year", type=arg_int)
    if year:
        query = query.where(BudgetProgram.fiscal_year == year)
    if args.get("purpose") in PURPOSES:
        query = query.where(BudgetLine.purpose == args["purpose"])
    unit = args.get("unit", type=arg_int)
    if unit:
        query = query.where(places.units_within_clause([unit]))
    sub = query.with_only_columns(
        BudgetLine.approved_tiyn, BudgetLine.committed_tiyn, BudgetLine.disbursed_tiyn
    ).subquery()
    count, approved, committed, disbursed = db.session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(sub.c.approved_tiyn), 0),
            func.coalesce(func.sum(sub.c.committed_tiyn), 0),
            func.coalesce(func.sum(sub.c.disbursed_tiyn), 0),
        )
    ).one()
    totals = SimpleNamespace(
        approved_tiyn=int(approved), committed_tiyn=int(committed), disbursed_tiyn=int(disbursed)
    )
    rows = db.session.execute(
        query.order_by(
            BudgetProgram.fiscal_year.desc(),
            places.AdminUnit.path,
            BudgetProgram.program,
            BudgetProgram.sub_program,
            BudgetLine.purpose,
        )
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    years = db.session.scalars(
        _in_scope(select(BudgetProgram.fiscal_year), BudgetProgram.unit_id, *READERS)
        .distinct()
        .order_by(BudgetProgram.fiscal_year.desc())
    ).all()
    return render_template(
        "finance/lines.html",
        rows=rows,
        totals=totals,
        total_shares=shares(totals),
        shares=shares,
        code=appropriations.program_code,
        count=count,
        page=page,
        pages=pages_for(count),
        args=args,
        years=years,
        units=unit_choices(current_user.scope(*READERS), BUDGET_LEVELS),
        closed=_closed_years(p.unit_id for _line, p, _unit in rows),
        confirm=ConfirmForm(),
    )


def _line_in_scope(line_id: int, *roles: str) -> tuple[BudgetLine, BudgetProgram]:
    line = db.session.get(BudgetLine, line_id)
    if line is None:
        abort(404)
    program = db.session.get(BudgetProgram, line.program_id)
    require_unit(program.unit_id, *roles, private=True)
    return line, program


def _local_day_start(day: dt.date) -> dt.datetime:
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return dt.datetime.combine(day, dt.time(), tzinfo=zone)


@bp.route("/lines/<int:line_id>")
@allow(*READERS)
def line(line_id: int):
    line, program = _line_in_scope(line_id, *READERS)
    args = request.args
    history = db.session.execute(
        select(Amendment, MaslikhatDecision)
        .join(MaslikhatDecision, Amendment.decision_id == MaslikhatDecision.id)
        .where(Amendment.line_id == line.id)
        .order_by(MaslikhatDecision.decided_on, MaslikhatDecision.id)
    ).all()
    entries = select(LedgerEntry).where(LedgerEntry.line_id == line.id)
    if args.get("kind") in ENTRY_KINDS:
        entries = entries.where(LedgerEntry.kind == args["kind"])
    since = args.get("from", type=arg_date)  # arg_date: bounded (fuzzing fix, S13)
    until = args.get("to", type=arg_date)
    if since:
        entries = entries.where(LedgerEntry.at >= _local_day_start(since))
    if until:
        entries = entries.where(LedgerEntry.at < _local_day_start(until + dt.timedelta(days=1)))
    found = page_of(entries.order_by(LedgerEntry.at.desc(), LedgerEntry.id.desc()))
    ledger = found.rows
    people = _users(
        [e.actor_id for e in ledger]
        + [d.entered_by_id for _a, d in history]
        + [d.verified_by_id for _a, d in history]
    )
    return render_template(
        "finance/line.html",
        line=line,
        program=program,
        unit=db.session.get(places.AdminUnit, program.unit_id),
        code=appropriations.program_code(program),
        shares=shares(line),
        history=history,
        ledger=ledger,
        total=found.total,
        page=found.page,
        pages=found.pages,
        args=args,
        since=since,
        until=until,
        people=people,
        year_closed=db.session.get(FiscalYearClosure, (program.unit_id, program.fiscal_year))
        is not None,
        trail=audit.events_for(db.session, "budget_line", line.id),
    )


def _program_choices() -> list[SelectChoice]:
    """Programs in the officer's jurisdiction whose fiscal year is still open."""
    rows = db.session.execute(
        _in_scope(select(BudgetProgram, places.AdminUnit), BudgetProgram.unit_id, "finance")
        .where(
            ~select(FiscalYearClosure)
            .where(
                FiscalYearClosure.unit_id == BudgetProgram.unit_id,
                FiscalYearClosure.fiscal_year == BudgetProgram.fiscal_year,
            )
            .exists()
        )
        .order_by(BudgetProgram.fiscal_year.desc(), places.AdminUnit.path, BudgetProgram.program)
    ).all()
    return [
        SelectChoice(
            p.id,
            f"{p.fiscal_year} · {appropriations.program_code(p)} · {unit_name(u)} · "
            + (p.name_ru if str(get_locale()) == "ru" else p.name_kk),
        )
        for p, u in rows
    ]


@bp.route("/lines/new", methods=["GET", "POST"])
@allow("finance")
def new_line():
    form = LineForm(program_id=request.args.get("program", type=arg_int))
    form.program_id.choices = _program_choices()
    if form.validate_on_submit():
        try:
            created = appropriations.create_line(
                db.session,
                program_id=form.program_id.data,
                purpose=form.purpose.data,
                actor_id=current_user.id,
            )
        except DomainError as exc:
            return refuse_page("finance/line_form.html", exc, form=form)
        db.session.commit()
        flash(_("The line has been opened. A maslikhat decision approves its amount."), "success")
        return redirect(url_for("finance.line", line_id=created.id))
    return render_template("finance/line_form.html", form=form), 400 if form.errors else 200


# ---- programs ---------------------------------------------------------------------------------


@bp.route("/programs")
@allow(*READERS)
def programs():
    year = request.args.get("year", type=arg_int)
    query = _in_scope(select(BudgetProgram, places.AdminUnit), BudgetProgram.unit_id, *READERS)
    if year:
        query = query.where(BudgetProgram.fiscal_year == year)
    rows = db.session.execute(
        query.order_by(
            BudgetProgram.fiscal_year.desc(),
            places.AdminUnit.path,
            BudgetProgram.program,
            BudgetProgram.sub_program,
        ).limit(500)
    ).all()
    lines_of: dict[int, list[BudgetLine]] = {}
    if rows:
        for row in db.session.scalars(
            select(BudgetLine)
            .where(BudgetLine.program_id.in_([p.id for p, _u in rows]))
            .order_by(BudgetLine.purpose)
        ):
            lines_of.setdefault(row.program_id, []).append(row)
    return render_template(
        "finance/programs.html",
        rows=rows,
        lines_of=lines_of,
        code=appropriations.program_code,
        year=year,
    )


@bp.route("/programs/new", methods=["GET", "POST"])
@allow("finance")
def new_program():
    form = ProgramForm()
    form.unit_id.choices = unit_choices(current_user.scope("finance"), BUDGET_LEVELS)
    if form.validate_on_submit():
        try:
            program = appropriations.create_program(
                db.session,
                actor_id=current_user.id,
                unit_id=form.unit_id.data,
                fiscal_year=form.fiscal_year.data,
                functional_group=form.functional_group.data.strip(),
                sub_function=form.sub_function.data.strip(),
                administrator=form.administrator.data.strip(),
                program=form.program.data.strip(),
                sub_program=(form.sub_program.data or "").strip(),
                name_kk=form.name_kk.data.strip(),
                name_ru=form.name_ru.data.strip(),
                administrator_body=form.administrator_body.data.strip(),
            )
        except DomainError as exc:
            return refuse_page("finance/program_form.html", exc, form=form)
        db.session.commit()
        flash(_("The budget program has been created. Now open its lines."), "success")
        return redirect(url_for("finance.new_line", program=program.id))
    return render_template("finance/program_form.html", form=form), 400 if form.errors else 200


# ---- maslikhat decisions ----------------------------------------------------------------------


@bp.route("/decisions")
@allow(*READERS)
def decisions():
    query = _in_scope(select(MaslikhatDecision), MaslikhatDecision.unit_id, *READERS)
    if request.args.get("pending"):
        query = query.where(MaslikhatDecision.status == "entered")
    if request.args.get("kind") in DECISION_KINDS:
        query = query.where(MaslikhatDecision.kind == request.args["kind"])
    found = page_of(
        query.order_by(MaslikhatDecision.decided_on.desc(), MaslikhatDecision.id.desc())
    )
    rows = found.rows
    return render_template(
        "finance/decisions.html",
        decisions=rows,
        people=_users([d.entered_by_id for d in rows] + [d.verified_by_id for d in rows]),
        units={
            u.id: u
            for u in db.session.scalars(
                select(places.AdminUnit).where(places.AdminUnit.id.in_({d.unit_id for d in rows}))
            )
        },
        total=found.total,
        page=found.page,
        pages=found.pages,
        args=request.args,
    )


def _line_choices() -> list[SelectChoice]:
    """Lines a finance officer may change: inside their jurisdiction, fiscal year open."""
    rows = db.session.execute(
        _in_scope(
            select(BudgetLine, BudgetProgram, places.AdminUnit).join(
                BudgetProgram, BudgetLine.program_id == BudgetProgram.id
            ),
            BudgetProgram.unit_id,
            "finance",
        )
        .where(
            ~select(FiscalYearClosure)
            .where(
                FiscalYearClosure.unit_id == BudgetProgram.unit_id,
                FiscalYearClosure.fiscal_year == BudgetProgram.fiscal_year,
            )
            .exists()
        )
        .order_by(BudgetProgram.fiscal_year.desc(), places.AdminUnit.path, BudgetLine.purpose)
    ).all()
    return [SelectChoice(0, "—")] + [
        SelectChoice(
            line.id,
            f"#{line.id} · {p.fiscal_year} · {unit_name(u)} · {appropriations.program_code(p)} · "
            f"{PURPOSE_LABELS[line.purpose]} ({format_tiyn(line.approved_tiyn)})",
        )
        for line, p, u in rows
    ]


def _decision_form() -> DecisionForm:
    form = DecisionForm()
    form.unit_id.choices = unit_choices(current_user.scope("finance"), BUDGET_LEVELS)
    choices = _line_choices()
    for entry in form.changes:
        entry.form.line_id.choices = choices
    return form


def _changes(form: DecisionForm) -> list[tuple[int, int]]:
    """Return (line, delta in tiyn) for the filled rows; raise DomainError on a bad amount."""
    changes = []
    for entry in form.changes:
        line_id, text = entry.form.line_id.data, (entry.form.amount.data or "").strip()
        if not line_id and not text:
            continue
        if not line_id:
            raise DomainError(N_("Choose the line for the amount %(amount)s."), amount=text)
        changes.append((line_id, parse_tenge(text)))
    return changes


@bp.route("/decisions/new", methods=["GET", "POST"])
@allow("finance")
def new_decision():
    form = _decision_form()
    if form.validate_on_submit():
        try:
            decision = appropriations.enter_decision(
                db.session,
                unit_id=form.unit_id.data,
                number=form.number.data,
                decided_on=form.decided_on.data,
                session_number=form.session_number.data,
                kind=form.kind.data,
                reference=form.reference.data,
                amendments=_changes(form),
                actor_id=current_user.id,
            )
        except DomainError as exc:
            return refuse_page("finance/decision_form.html", exc, form=form)
        db.session.commit()
        flash(
            _(
                "The decision has been entered. It changes nothing until another finance "
                "officer verifies it."
            ),
            "success",
        )
        return redirect(url_for("finance.decision", decision_id=decision.id))
    return render_template("finance/decision_form.html", form=form), 400 if form.errors else 200


def _decision_page(decision: MaslikhatDecision, status: int = 200):
    changes = db.session.execute(
        select(Amendment, BudgetLine, BudgetProgram, places.AdminUnit)
        .join(BudgetLine, Amendment.line_id == BudgetLine.id)
        .join(BudgetProgram, BudgetLine.program_id == BudgetProgram.id)
        .join(places.AdminUnit, BudgetProgram.unit_id == places.AdminUnit.id)
        .where(Amendment.decision_id == decision.id)
        .order_by(Amendment.id)
    ).all()
    may_verify = DECISION.can(decision, "verify") and places.within(
        db.session, decision.unit_id, current_user.scope("finance")
    )
    return render_template(
        "finance/decision.html",
        decision=decision,
        unit=db.session.get(places.AdminUnit, decision.unit_id),
        changes=changes,
        code=appropriations.program_code,
        people=_users([decision.entered_by_id, decision.verified_by_id]),
        may_verify=may_verify,
        confirm=ConfirmForm(),
        trail=audit.events_for(db.session, "maslikhat_decision", decision.id),
    ), status


@bp.route("/decisions/<int:decision_id>")
@allow(*READERS)
def decision(decision_id: int):
    return _decision_page(get_in_scope(MaslikhatDecision, decision_id, *READERS))


@bp.route("/decisions/<int:decision_id>/verify", methods=["POST"])
@allow("finance")
@session_policy.fresh_required
def verify_decision(decision_id: int):
    decision = get_in_scope(MaslikhatDecision, decision_id, "finance")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        appropriations.verify_decision(
            db.session, decision_id=decision.id, actor_id=current_user.id
        )
    except DomainError as exc:
        db.session.rollback()
        flash(translate_error(exc), "danger")
        return _decision_page(db.session.get(MaslikhatDecision, decision_id), exc.status)
    db.session.commit()
    flash(_("The decision has been verified; its line changes apply."), "success")
    return redirect(url_for("finance.decision", decision_id=decision.id))


# ---- fiscal years -----------------------------------------------------------------------------


def _years_page(form: CloseYearForm | None = None, status: int = 200):
    closures = db.session.execute(
        _in_scope(
            select(FiscalYearClosure, places.AdminUnit), FiscalYearClosure.unit_id, *READERS
        ).order_by(FiscalYearClosure.fiscal_year.desc(), places.AdminUnit.path)
    ).all()
    if form is None and "finance" in current_user.roles():
        form = CloseYearForm(year=clock.today().year)
    if form is not None:
        form.unit_id.choices = unit_choices(current_user.scope("finance"), BUDGET_LEVELS)
    return render_template(
        "finance/years.html",
        closures=closures,
        people=_users(c.closed_by_id for c, _u in closures),
        form=form,
    ), status


@bp.route("/years")
@allow(*READERS)
def years():
    return _years_page()


@bp.route("/years/close", methods=["POST"])
@allow("finance")
@session_policy.fresh_required
def close_year():
    form = CloseYearForm()
    form.unit_id.choices = unit_choices(current_user.scope("finance"), BUDGET_LEVELS)
    if not form.validate_on_submit():
        return _years_page(form, 400)
    try:
        appropriations.close_fiscal_year(
            db.session, unit_id=form.unit_id.data, year=form.year.data, actor_id=current_user.id
        )
    except DomainError as exc:
        db.session.rollback()
        flash(translate_error(exc), "danger")
        return _years_page(form, exc.status)
    db.session.commit()
    flash(_("The fiscal year has been closed: its lines take no new commitments."), "success")
    return redirect(url_for("finance.years"))


# ---- checks and reference data ----------------------------------------------------------------


@bp.route("/reconcile", methods=["POST"])
@allow(*READERS)
def reconcile():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    run = jobs.submit("budget.reconcile", requested_by_id=current_user.id, unit_id=None)
    db.session.commit()
    return redirect(url_for("jobruns.show", run_id=run.id))


def _mci_page(form: MCIForm | None = None, status: int = 200):
    if form is None and administers_country():
        form = MCIForm(year=request.args.get("year", type=arg_int))
        if form.year.data:
            rate = db.session.get(MCIRate, form.year.data)
            form.amount.data = format_tiyn(rate.amount_tiyn).removesuffix("\u00a0₸") if rate else ""
    rates = db.session.scalars(select(MCIRate).order_by(MCIRate.year.desc())).all()
    return render_template(
        "finance/mci.html",
        rates=rates,
        form=form,
        this_year=clock.today().year,
        trail=db.session.scalars(
            select(audit.AuditEvent)
            .where(audit.AuditEvent.object_type == "mci_rate")
            .order_by(audit.AuditEvent.seq.desc())
            .limit(50)
        ).all(),
    ), status


@bp.route("/mci")
@allow("admin", *READERS)
def mci():
    return _mci_page()


@bp.route("/mci", methods=["POST"])
@allow("admin")
def set_mci():
    require_country_admin()
    form = MCIForm()
    if not form.validate_on_submit():
        return _mci_page(form, 400)
    try:
        appropriations.set_mci_rate(
            db.session,
            year=form.year.data,
            amount_tiyn=parse_tenge(form.amount.data),
            actor_id=current_user.id,
            today=clock.today(),
        )
    except DomainError as exc:
        db.session.rollback()
        flash(translate_error(exc), "danger")
        return _mci_page(form, exc.status)
    db.session.commit()
    flash(_("The MCI of %(year)s has been saved.", year=form.year.data), "success")
    return redirect(url_for("finance.mci"))
