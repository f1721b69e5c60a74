"""Scoped reads of sober settlements that the registry and initiative screens share."""

from __future__ import annotations

from sqlalchemy import Select, select

from core.places import AdminUnit
from core.queries import with_units
from core.scope import Scope
from incentives.sober_models import Initiative, SoberDeclaration


def sober_declarations(scope: Scope) -> Select:
    """Return the sober-settlement declarations of ``scope``."""
    return with_units(select(SoberDeclaration), SoberDeclaration.unit_id, scope)


def initiatives(scope: Scope, submitted_by_id: int) -> Select:
    """Return the initiatives of ``scope`` and those ``submitted_by_id`` submitted anywhere."""
    mine = Initiative.submitted_by_id == submitted_by_id
    stmt = select(Initiative).join(AdminUnit, Initiative.unit_id == AdminUnit.id)
    return stmt.where(mine | scope.clause(AdminUnit.id))
