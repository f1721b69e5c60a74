"""Budget decisions (four eyes), fiscal years, reconciliation and the MCI by year."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from budget import appropriations
from budget import queries as budget_queries
from budget.models import (
    DECISION_KINDS,
    Amendment,
    BudgetLine,
    BudgetProgram,
    FiscalYearClosure,
    MaslikhatDecision,
    MCIRate,
)
from budget.workflow import DECISION
from core import audit, clock, places
from core.accounts import users_by_id
from core.errors import N_, DomainError
from core.money import format_tiyn, parse_tenge
from portal import jobs, session_policy
from portal.errors import on_refusal
from portal.extensions import db
from portal.finance.blueprint import bp
from portal.finance.forms import CloseYearForm, DecisionForm, MCIForm
from portal.finance.roles import BUDGET_LEVELS, READERS
from portal.forms import ConfirmForm, arg_int, unit_choices  # arg_int: fuzzing fix (S13)
from portal.i18n import unit_name
from portal.labels import PURPOSE_LABELS
from portal.paging import page_of
from portal.security import (
    administers_country,
    allow,
    current_scope,
    get_in_scope,
    holds,
    require_country_admin,
)

# ---- maslikhat decisions ----------------------------------------------------------------------


@bp.route("/decisions")
@allow(*READERS)
def decisions():
    query = budget_queries.decisions(current_scope(*READERS))
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
        people=users_by_id(
            db.session, [d.entered_by_id for d in rows] + [d.verified_by_id for d in rows]
        ),
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
        budget_queries.lines(current_scope("finance"))
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
    form.unit_id.choices = unit_choices(current_scope("finance"), BUDGET_LEVELS)
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
        with on_refusal("finance/decision_form.html", form=form):
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
    may_verify = DECISION.can(decision, "verify") and holds(decision.unit_id, "finance")
    return render_template(
        "finance/decision.html",
        decision=decision,
        unit=db.session.get(places.AdminUnit, decision.unit_id),
        changes=changes,
        code=appropriations.program_code,
        people=users_by_id(db.session, [decision.entered_by_id, decision.verified_by_id]),
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
    with on_refusal(lambda status: _decision_page(decision, status)):
        appropriations.verify_decision(
            db.session, decision_id=decision.id, actor_id=current_user.id
        )
    db.session.commit()
    flash(_("The decision has been verified; its line changes apply."), "success")
    return redirect(url_for("finance.decision", decision_id=decision.id))


# ---- fiscal years -----------------------------------------------------------------------------


def _years_page(form: CloseYearForm | None = None, status: int = 200):
    closures = db.session.execute(budget_queries.closures(current_scope(*READERS))).all()
    if form is None and "finance" in current_user.roles():
        form = CloseYearForm(year=clock.today().year)
    if form is not None:
        form.unit_id.choices = unit_choices(current_scope("finance"), BUDGET_LEVELS)
    return render_template(
        "finance/years.html",
        closures=closures,
        people=users_by_id(db.session, (c.closed_by_id for c, _u in closures)),
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
    form.unit_id.choices = unit_choices(current_scope("finance"), BUDGET_LEVELS)
    if not form.validate_on_submit():
        return _years_page(form, 400)
    with on_refusal(lambda status: _years_page(form, status)):
        appropriations.close_fiscal_year(
            db.session, unit_id=form.unit_id.data, year=form.year.data, actor_id=current_user.id
        )
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
    with on_refusal(lambda status: _mci_page(form, status)):
        appropriations.set_mci_rate(
            db.session,
            year=form.year.data,
            amount_tiyn=parse_tenge(form.amount.data),
            actor_id=current_user.id,
            today=clock.today(),
        )
    db.session.commit()
    flash(_("The MCI of %(year)s has been saved.", year=form.year.data), "success")
    return redirect(url_for("finance.mci"))
