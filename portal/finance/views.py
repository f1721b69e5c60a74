"""Budget screens: lines and their ledger, and programs.

Finance officers and deputies read everything inside their jurisdictions; finance officers
record programs and lines. Decisions, fiscal years and the MCI are in ``decision_views.py``.
"""

from __future__ import annotations

from types import SimpleNamespace

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Select, bindparam, func, select
from wtforms import SelectChoice

from budget import appropriations
from budget import queries as budget_queries
from budget.models import (
    ENTRY_KINDS,
    PURPOSES,
    Amendment,
    BudgetLine,
    BudgetProgram,
    FiscalYearClosure,
    LedgerEntry,
    MaslikhatDecision,
)
from core import audit, clock, places
from core.accounts import users_by_id
from core.scope import Scope, per_scope
from portal.errors import on_refusal
from portal.extensions import db
from portal.finance.blueprint import bp
from portal.finance.forms import LineForm, ProgramForm
from portal.finance.roles import BUDGET_LEVELS, READERS
from portal.forms import ConfirmForm, arg_date, arg_int, unit_choices  # arg_int: fuzzing fix (S13)
from portal.i18n import unit_name
from portal.labels import DECISION_KIND_LABELS, LEDGER_KIND_LABELS, PURPOSE_LABELS
from portal.oversight.record_links import ledger_reasons
from portal.paging import PAGE_SIZE, page_of, pages_for, row_link
from portal.security import allow, current_scope, require_unit


@bp.context_processor
def _labels():
    return {
        "PURPOSE_LABELS": PURPOSE_LABELS,
        "DECISION_KIND_LABELS": DECISION_KIND_LABELS,
        "LEDGER_KIND_LABELS": LEDGER_KIND_LABELS,
    }


def shares(line) -> dict[str, int]:
    """Return whole percents of the approved amount: paid, committed and used (both)."""
    approved = line.approved_tiyn
    if approved <= 0:
        return {"paid": 0, "committed": 0, "used": 0}
    paid = line.disbursed_tiyn * 100 // approved
    used = (line.committed_tiyn + line.disbursed_tiyn) * 100 // approved
    return {"paid": paid, "committed": used - paid, "used": used}


# ---- lines ------------------------------------------------------------------------------------


@per_scope
def _lines_statements(
    scope: Scope, year: int | None, purpose: str | None, unit: int | None
) -> tuple[Select, Select]:
    """Return (count and sums, one page of (line, program, unit) rows from ``:offset``)."""
    query = budget_queries.filtered_lines(scope, year=year, purpose=purpose, unit=unit)
    sub = query.with_only_columns(
        BudgetLine.approved_tiyn, BudgetLine.committed_tiyn, BudgetLine.disbursed_tiyn
    ).subquery()
    figures = select(
        func.count(),
        func.coalesce(func.sum(sub.c.approved_tiyn), 0),
        func.coalesce(func.sum(sub.c.committed_tiyn), 0),
        func.coalesce(func.sum(sub.c.disbursed_tiyn), 0),
    )
    listed = (
        query.order_by(
            BudgetProgram.fiscal_year.desc(),
            places.AdminUnit.path,
            BudgetProgram.program,
            BudgetProgram.sub_program,
            BudgetLine.purpose,
        )
        .offset(bindparam("offset"))
        .limit(PAGE_SIZE)
    )
    return figures, listed


@bp.route("/lines")
@allow(*READERS)
def lines():
    args = request.args
    page = max(args.get("page", 1, type=arg_int), 1)
    year = args.get("year", type=arg_int)
    purpose = args.get("purpose") if args.get("purpose") in PURPOSES else None
    unit = args.get("unit", type=arg_int)
    scope = current_scope(*READERS)
    figures, listed = _lines_statements(scope, year or None, purpose, unit or None)
    count, approved, committed, disbursed = db.session.execute(figures).one()
    totals = SimpleNamespace(
        approved_tiyn=int(approved), committed_tiyn=int(committed), disbursed_tiyn=int(disbursed)
    )
    rows = db.session.execute(listed, {"offset": (page - 1) * PAGE_SIZE}).all()
    years = db.session.scalars(budget_queries.fiscal_years(scope)).all()
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
        line_href=row_link("finance.line", "line_id"),
        years=years,
        units=unit_choices(scope, BUDGET_LEVELS),
        closed=budget_queries.closed_years(db.session, (p.unit_id for _line, p, _unit in rows)),
        confirm=ConfirmForm(),
    )


def _line_in_scope(line_id: int, *roles: str) -> tuple[BudgetLine, BudgetProgram]:
    line = db.session.get(BudgetLine, line_id)
    if line is None:
        abort(404)
    program = db.session.get(BudgetProgram, line.program_id)
    require_unit(program.unit_id, *roles, private=True)
    return line, program


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
        entries = entries.where(LedgerEntry.at >= clock.local_day_bounds(since)[0])
    if until:
        entries = entries.where(LedgerEntry.at < clock.local_day_bounds(until)[1])
    found = page_of(entries.order_by(LedgerEntry.at.desc(), LedgerEntry.id.desc()))
    ledger = found.rows
    people = users_by_id(
        db.session,
        [e.actor_id for e in ledger]
        + [d.entered_by_id for _a, d in history]
        + [d.verified_by_id for _a, d in history],
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
        reasons=ledger_reasons(ledger),
        year_closed=db.session.get(FiscalYearClosure, (program.unit_id, program.fiscal_year))
        is not None,
        trail=audit.events_for(db.session, "budget_line", line.id),
    )


def _program_choices() -> list[SelectChoice]:
    """Programs in the officer's jurisdiction whose fiscal year is still open."""
    rows = db.session.execute(
        budget_queries.programs(current_scope("finance"))
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
        with on_refusal("finance/line_form.html", form=form):
            created = appropriations.create_line(
                db.session,
                program_id=form.program_id.data,
                purpose=form.purpose.data,
                actor_id=current_user.id,
            )
        db.session.commit()
        flash(_("The line has been opened. A maslikhat decision approves its amount."), "success")
        return redirect(url_for("finance.line", line_id=created.id))
    return render_template("finance/line_form.html", form=form), 400 if form.errors else 200


# ---- programs ---------------------------------------------------------------------------------


@bp.route("/programs")
@allow(*READERS)
def programs():
    year = request.args.get("year", type=arg_int)
    query = budget_queries.programs(current_scope(*READERS))
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
    form.unit_id.choices = unit_choices(current_scope("finance"), BUDGET_LEVELS)
    if form.validate_on_submit():
        with on_refusal("finance/program_form.html", form=form):
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
        db.session.commit()
        flash(_("The budget program has been created. Now open its lines."), "success")
        return redirect(url_for("finance.new_line", program=program.id))
    return render_template("finance/program_form.html", form=form), 400 if form.errors else 200
