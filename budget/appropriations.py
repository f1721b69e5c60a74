"""Programs, budget lines and the maslikhat decisions that approve and amend them (four eyes)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from budget.models import (
    DECISION_KINDS,
    PURPOSES,
    Amendment,
    BudgetLine,
    BudgetProgram,
    FiscalYearClosure,
    MaslikhatDecision,
)
from core import audit
from core.db import utcnow
from core.errors import N_, Conflict, DomainError, NotFound, PermissionDenied
from core.money import format_tiyn


def create_program(session: Session, *, actor_id: int | None, **fields) -> BudgetProgram:
    """Register a budget program with its classification code parts."""
    program = BudgetProgram(**fields)
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
    if session.get(BudgetProgram, program_id) is None:
        raise NotFound(N_("No such budget program."))
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
    if not number.strip() or not amendments:
        raise DomainError(N_("A decision needs its number and at least one line change."))
    decision = MaslikhatDecision(
        unit_id=unit_id,
        number=number.strip(),
        decided_on=decided_on,
        session_number=session_number.strip(),
        kind=kind,
        reference=reference.strip(),
        entered_by_id=actor_id,
    )
    session.add(decision)
    session.flush()
    for line_id, delta in amendments:
        if delta == 0:
            raise DomainError(N_("A line change cannot be zero."))
        if session.get(BudgetLine, line_id) is None:
            raise NotFound(N_("No such budget line."))
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


def verify_decision(session: Session, *, decision_id: int, actor_id: int) -> MaslikhatDecision:
    """A second finance user verifies: every amendment applies, or none does."""
    decision = session.get(MaslikhatDecision, decision_id)
    if decision is None:
        raise NotFound(N_("No such decision."))
    if decision.verified_at is not None:
        raise Conflict(N_("The decision is already verified."))
    if decision.entered_by_id == actor_id:
        raise PermissionDenied(
            N_("A decision must be verified by someone other than who entered it.")
        )
    amendments = session.scalars(
        select(Amendment).where(Amendment.decision_id == decision.id).order_by(Amendment.line_id)
    ).all()
    for amendment in amendments:
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
            raise Conflict(
                N_(
                    "Line %(line)s: the approved amount cannot fall below %(spent)s already "
                    "committed or paid."
                ),
                line=amendment.line_id,
                spent=format_tiyn(current.committed_tiyn + current.disbursed_tiyn),
            )
    decision.verified_by_id = actor_id
    decision.verified_at = utcnow()
    session.expire_all()
    audit.record(
        session,
        action="budget.decision_verify",
        object_type="maslikhat_decision",
        object_id=decision.id,
        actor_id=actor_id,
        payload={"changes": [[a.line_id, a.delta_tiyn] for a in amendments]},
    )
    return decision


def close_fiscal_year(session: Session, *, unit_id: int, year: int, actor_id: int) -> None:
    """Close a jurisdiction's fiscal year: no new commitments on its lines."""
    if session.get(FiscalYearClosure, (unit_id, year)) is not None:
        raise Conflict(N_("The fiscal year is already closed."))
    session.add(FiscalYearClosure(unit_id=unit_id, fiscal_year=year, closed_by_id=actor_id))
    session.flush()
    audit.record(
        session,
        action="budget.year_close",
        object_type="admin_unit",
        object_id=unit_id,
        actor_id=actor_id,
        payload={"year": year},
    )
