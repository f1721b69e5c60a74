"""Programs, budget lines and the maslikhat decisions that approve and amend them (four eyes)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from budget.models import (
    DECISION_KINDS,
    PURPOSES,
    Amendment,
    BudgetLine,
    BudgetProgram,
    FiscalYearClosure,
    MaslikhatDecision,
    MCIRate,
)
from budget.workflow import DECISION
from core import audit, clock, places
from core.doc_numbers import without_sign
from core.errors import N_, Conflict, DomainError, NotFound, PermissionDenied
from core.money import format_tiyn, require_positive
from core.transitions import advance

CODE_PARTS = ("functional_group", "sub_function", "administrator", "program", "sub_program")


def code_of(parts) -> str:
    """Join classification code parts, the empty ones left out: ``03-1-252-003``.

    The one way a program's code is written, on every page, report and export.
    """
    return "-".join(p for p in parts if p)


def program_code(program: BudgetProgram) -> str:
    """Return the classification code as people write it, e.g. ``03-6-252-003-100``."""
    return code_of(getattr(program, part) for part in CODE_PARTS)


def _year_closed(session: Session, unit_id: int, year: int) -> bool:
    return session.get(FiscalYearClosure, (unit_id, year)) is not None


def create_program(session: Session, *, actor_id: int | None, **fields) -> BudgetProgram:
    """Register a budget program with its classification code parts."""
    fields.setdefault("sub_program", "")
    duplicate = session.scalar(
        select(BudgetProgram.id).where(
            BudgetProgram.unit_id == fields["unit_id"],
            BudgetProgram.fiscal_year == fields["fiscal_year"],
            *(getattr(BudgetProgram, part) == fields[part] for part in CODE_PARTS),
        )
    )
    program = BudgetProgram(**fields)
    if duplicate is not None:
        raise Conflict(
            N_("The program %(code)s of %(year)s already exists in this jurisdiction."),
            code=program_code(program),
            year=program.fiscal_year,
        )
    session.add(program)
    session.flush()
    audit.record(
        session,
        action="budget.program_create",
        object_type="budget_program",
        object_id=program.id,
        actor_id=actor_id,
        payload={"year": program.fiscal_year, "program": program.program},
    )
    return program


def create_line(
    session: Session, *, program_id: int, purpose: str, actor_id: int | None
) -> BudgetLine:
    """Open a line of a program at zero; decisions approve its amount."""
    if purpose not in PURPOSES:
        raise DomainError(N_("Choose the purpose of the line from the list."))
    program = session.get(BudgetProgram, program_id)
    if program is None:
        raise NotFound(N_("No such budget program."))
    if _year_closed(session, program.unit_id, program.fiscal_year):
        raise Conflict(
            N_("The fiscal year %(year)s is closed: no new lines."), year=program.fiscal_year
        )
    if session.scalar(
        select(BudgetLine.id).where(
            BudgetLine.program_id == program_id, BudgetLine.purpose == purpose
        )
    ):
        raise Conflict(
            N_("The program %(code)s already has a line for this purpose."),
            code=program_code(program),
        )
    line = BudgetLine(
        program_id=program_id, purpose=purpose, approved_tiyn=0, committed_tiyn=0, disbursed_tiyn=0
    )
    session.add(line)
    session.flush()
    audit.record(
        session,
        action="budget.line_create",
        object_type="budget_line",
        object_id=line.id,
        actor_id=actor_id,
        payload={"purpose": purpose},
    )
    return line


def enter_decision(
    session: Session,
    *,
    unit_id: int,
    number: str,
    decided_on: dt.date,
    session_number: str,
    kind: str,
    reference: str,
    amendments: list[tuple[int, int]],
    actor_id: int,
) -> MaslikhatDecision:
    """Record a decision with its line changes; nothing changes until another user verifies."""
    if kind not in DECISION_KINDS:
        raise DomainError(N_("Choose adoption or clarification."))
    number = without_sign(number)  # documents print the "№" themselves
    if not number or not amendments:
        raise DomainError(N_("A decision needs its number and at least one line change."))
    if len(number) > 40:
        raise DomainError(N_("The number of the decision is at most 40 characters."))
    decision = MaslikhatDecision(
        unit_id=unit_id,
        number=number,
        decided_on=decided_on,
        session_number=session_number.strip(),
        kind=kind,
        reference=reference.strip(),
        entered_by_id=actor_id,
    )
    session.add(decision)
    session.flush()
    seen = set()
    for line_id, delta in amendments:
        if line_id in seen:
            raise DomainError(N_("Line %(line)s appears twice in the decision."), line=line_id)
        seen.add(line_id)
        if delta == 0:
            raise DomainError(N_("A line change cannot be zero."))
        if kind == "adoption" and delta < 0:
            raise DomainError(
                N_("An adoption approves amounts; %(amount)s for line %(line)s is negative."),
                amount=format_tiyn(delta),
                line=line_id,
            )
        line = _changeable_line(session, line_id, unit_id)
        if line.approved_tiyn + delta < line.committed_tiyn + line.disbursed_tiyn:
            raise _below_spent(line, delta)
        session.add(Amendment(decision_id=decision.id, line_id=line_id, delta_tiyn=delta))
    session.flush()
    audit.record(
        session,
        action="budget.decision_enter",
        object_type="maslikhat_decision",
        object_id=decision.id,
        actor_id=actor_id,
        payload={"number": decision.number, "changes": len(amendments)},
    )
    return decision


def _changeable_line(session: Session, line_id: int, unit_id: int) -> BudgetLine:
    """Return a line a decision of ``unit_id``'s maslikhat may change, or refuse."""
    line = session.get(BudgetLine, line_id)
    if line is None:
        raise NotFound(N_("No such budget line."))
    program = session.get(BudgetProgram, line.program_id)
    if not places.within(session, program.unit_id, [unit_id]):
        raise PermissionDenied(
            N_("Line %(line)s is outside the jurisdiction of this maslikhat."), line=line_id
        )
    if _year_closed(session, program.unit_id, program.fiscal_year):
        raise Conflict(
            N_("The fiscal year %(year)s of line %(line)s is closed: its amount cannot change."),
            year=program.fiscal_year,
            line=line_id,
        )
    return line


def _below_spent(line: BudgetLine, delta: int) -> Conflict:
    return Conflict(
        N_(
            "Line %(line)s: the approved amount cannot fall below %(spent)s already "
            "committed or paid (it would be %(approved)s)."
        ),
        line=line.id,
        spent=format_tiyn(line.committed_tiyn + line.disbursed_tiyn),
        approved=format_tiyn(line.approved_tiyn + delta),
    )


def verify_decision(session: Session, *, decision_id: int, actor_id: int) -> MaslikhatDecision:
    """A second finance user verifies: the decision moves to verified and every amendment applies.

    The step is taken first, by one guarded UPDATE of the decision's status: of two requests
    verifying the same decision (a double click, ten parallel posts) exactly one moves it, and
    only that one applies the amendments; the other gets a 409 and changes nothing. A line that
    can no longer take its amendment undoes the whole verification.
    """
    decision = session.get(MaslikhatDecision, decision_id)
    if decision is None:
        raise NotFound(N_("No such decision."))
    if decision.entered_by_id == actor_id:
        raise PermissionDenied(
            N_("A decision must be verified by someone other than who entered it.")
        )
    # Lock order: the audit chain first, then the decision and line rows (as budget.ledger
    # does), so that a verification and a ledger movement on the same line cannot deadlock.
    audit.take_append_lock(session)
    try:
        with session.begin_nested():
            amendments = _verify(session, decision, actor_id)
    except DomainError:
        session.expire(decision)
        raise
    audit.record(
        session,
        action="budget.decision_verify",
        object_type="maslikhat_decision",
        object_id=decision.id,
        actor_id=actor_id,
        payload={"changes": [[a.line_id, a.delta_tiyn] for a in amendments]},
    )
    return decision


def _verify(session: Session, decision: MaslikhatDecision, actor_id: int) -> list[Amendment]:
    """Take the verify step, then apply the decision's amendments; raise to undo both."""
    advance(
        session,
        DECISION,
        decision,
        "verify",
        values={"verified_by_id": actor_id, "verified_at": clock.now()},
    )
    amendments = session.scalars(
        select(Amendment).where(Amendment.decision_id == decision.id).order_by(Amendment.line_id)
    ).all()
    for amendment in amendments:
        _changeable_line(session, amendment.line_id, decision.unit_id)
        line = BudgetLine
        done = session.execute(
            update(line)
            .where(
                line.id == amendment.line_id,
                line.approved_tiyn + amendment.delta_tiyn
                >= line.committed_tiyn + line.disbursed_tiyn,
            )
            .values(approved_tiyn=line.approved_tiyn + amendment.delta_tiyn)
            .execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:
            current = session.get(BudgetLine, amendment.line_id)
            session.refresh(current)
            raise _below_spent(current, amendment.delta_tiyn)
    for amendment in amendments:
        session.expire(session.get(BudgetLine, amendment.line_id))
    return amendments


def close_fiscal_year(session: Session, *, unit_id: int, year: int, actor_id: int) -> None:
    """Close a jurisdiction's fiscal year: no new commitments on its lines.

    Closing twice at once leaves one closure: the second insert meets the first's primary key
    and is refused with a 409, not an error page.
    """
    already = Conflict(N_("The fiscal year is already closed."))
    if session.get(FiscalYearClosure, (unit_id, year)) is not None:
        raise already
    audit.take_append_lock(session)
    try:
        with session.begin_nested():
            session.add(FiscalYearClosure(unit_id=unit_id, fiscal_year=year, closed_by_id=actor_id))
            session.flush()
    except IntegrityError:
        raise already from None
    audit.record(
        session,
        action="budget.year_close",
        object_type="admin_unit",
        object_id=unit_id,
        actor_id=actor_id,
        payload={"year": year},
    )


def set_mci_rate(
    session: Session, *, year: int, amount_tiyn: int, actor_id: int, today: dt.date
) -> MCIRate:
    """Add a year's MCI, or correct one not yet in force; past and current years stay fixed.

    Rewards are capped in MCI of their year, so changing a year already in force would change
    the meaning of caps already applied.
    """
    require_positive(amount_tiyn)
    if not 2000 <= year <= 2100:
        raise DomainError(N_("Enter a year between 2000 and 2100."))
    rate = session.get(MCIRate, year)
    old = rate.amount_tiyn if rate else None
    if rate is not None and year <= today.year:
        raise Conflict(
            N_("The MCI of %(year)s, %(amount)s, is in force and cannot be changed."),
            year=year,
            amount=format_tiyn(rate.amount_tiyn),
        )
    if rate is None:
        rate = MCIRate(year=year, amount_tiyn=amount_tiyn)
        session.add(rate)
    else:
        rate.amount_tiyn = amount_tiyn
    session.flush()
    audit.record(
        session,
        action="budget.mci_set",
        object_type="mci_rate",
        object_id=year,
        actor_id=actor_id,
        payload={"year": year, "old_tiyn": old, "new_tiyn": amount_tiyn},
    )
    return rate
