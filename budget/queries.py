"""Scoped reads of the budget: lines, programs, fiscal years, decisions and year closures.

The finance pages, the deputies' pages and the exports list these through here, limited to a
``Scope`` in one place; each statement joins ``AdminUnit`` for the callers' filters and order.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from budget.models import BudgetLine, BudgetProgram, FiscalYearClosure, MaslikhatDecision
from core.places import AdminUnit
from core.queries import with_units
from core.scope import Scope, per_scope, scoped


def lines(scope: Scope) -> Select:
    """Return (line, program, unit) rows for the budget lines of ``scope``."""
    return with_units(
        select(BudgetLine, BudgetProgram, AdminUnit).join(
            BudgetProgram, BudgetLine.program_id == BudgetProgram.id
        ),
        BudgetProgram.unit_id,
        scope,
    )


def filtered_lines(
    scope: Scope, *, year: int | None, purpose: str | None, unit: int | None
) -> Select:
    """Return ``lines(scope)`` narrowed by the lines list's filters (page and API alike):
    a fiscal year, a purpose, a unit and everything below it; None leaves a filter off."""
    query = lines(scope)
    if year:
        query = query.where(BudgetProgram.fiscal_year == year)
    if purpose:
        query = query.where(BudgetLine.purpose == purpose)
    if unit:
        query = scoped(query, AdminUnit.id, Scope.within([unit]))
    return query


def closed_years(session: Session, unit_ids: Iterable[int]) -> set[tuple[int, int]]:
    """Return the (unit id, fiscal year) pairs closed among ``unit_ids``: one query per page."""
    wanted = set(unit_ids)
    if not wanted:
        return set()
    return set(
        session.execute(
            select(FiscalYearClosure.unit_id, FiscalYearClosure.fiscal_year).where(
                FiscalYearClosure.unit_id.in_(wanted)
            )
        ).all()
    )


def programs(scope: Scope) -> Select:
    """Return (program, unit) rows for the budget programs of ``scope``."""
    return with_units(select(BudgetProgram, AdminUnit), BudgetProgram.unit_id, scope)


@per_scope
def fiscal_years(scope: Scope) -> Select:
    """Return the fiscal years that have a program in ``scope``, latest first.

    Built once per scope: the budget lines and the dashboard read it on every request, and
    building it (with its cache key) cost more CPU than running it (issue 16).
    """
    return (
        with_units(select(BudgetProgram.fiscal_year), BudgetProgram.unit_id, scope)
        .distinct()
        .order_by(BudgetProgram.fiscal_year.desc())
    )


def decisions(scope: Scope) -> Select:
    """Return the maslikhat's decisions of ``scope``."""
    return with_units(select(MaslikhatDecision), MaslikhatDecision.unit_id, scope)


def closures(scope: Scope) -> Select:
    """Return (closure, unit) rows for the closed fiscal years of ``scope``, latest first."""
    return with_units(
        select(FiscalYearClosure, AdminUnit), FiscalYearClosure.unit_id, scope
    ).order_by(FiscalYearClosure.fiscal_year.desc(), AdminUnit.path)
