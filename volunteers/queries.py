"""Scoped reads of volunteers: applications, members, patrol units, shifts and contributions.

Views, reports and exports list these records through here so that each list is limited to a
``Scope`` in one place; a detail read goes through ``core.scope.get_scoped``.
"""

from __future__ import annotations

from sqlalchemy import Select, func, select

from core.queries import with_units
from core.scope import Scope
from volunteers.activity_models import Contribution, Shift
from volunteers.models import Application, Member, PatrolUnit


def applications(scope: Scope) -> Select:
    """Return the applications filed in ``scope``."""
    return with_units(select(Application), Application.unit_id, scope)


def members(scope: Scope) -> Select:
    """Return the register's members of ``scope`` (their unit joined for filters)."""
    return with_units(select(Member), Member.unit_id, scope)


def patrol_units(scope: Scope) -> Select:
    """Return the patrol units of ``scope``, by name."""
    return with_units(select(PatrolUnit), PatrolUnit.unit_id, scope).order_by(PatrolUnit.name)


def patrol_units_with_strength(scope: Scope) -> Select:
    """Return (patrol unit, active members) for the patrol units of ``scope``, by name."""
    return (
        with_units(select(PatrolUnit, func.count(Member.id)), PatrolUnit.unit_id, scope)
        .outerjoin(Member, (Member.patrol_unit_id == PatrolUnit.id) & (Member.status == "active"))
        .group_by(PatrolUnit.id)
        .order_by(PatrolUnit.name)
    )


def shifts(unit_ids: list[int] | None) -> Select:
    """Return the shifts of the units ``unit_ids`` (every unit when ``None``).

    A list of ids (``Scope.unit_ids_covered``), not a correlated test per shift: the planner then
    sees how many shifts match and reads a region's history in index order instead of sorting it.
    """
    stmt = select(Shift)
    return stmt if unit_ids is None else stmt.where(Shift.unit_id.in_(unit_ids))


def contributions_to_confirm(scope: Scope) -> Select:
    """Return the logged contributions of ``scope`` waiting for a decision, oldest first."""
    return (
        with_units(select(Contribution), Contribution.unit_id, scope)
        .where(Contribution.status == "logged")
        .order_by(Contribution.occurred_on, Contribution.id)
    )
