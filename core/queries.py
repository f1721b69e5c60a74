"""Scoped reads of the shared kernel: units and accounts within a ``Scope``, and the unit join."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import Session

from core.accounts import RoleGrant, User
from core.bilingual import in_language
from core.places import AdminUnit, path_within_clause
from core.scope import Scope, scoped


def with_units(stmt: Select, unit_column, scope: Scope) -> Select:
    """Join each row's unit (by ``unit_column``) and keep the rows whose unit is in ``scope``.

    The joined ``AdminUnit`` is there for the caller to select, filter or order by.
    """
    joined = stmt.join(AdminUnit, unit_column == AdminUnit.id)
    # A resolved scope tests the row's own column against the ids it covers: the planner then
    # reads the table by its unit index (it carries no id list across a join). An unresolved
    # one tests the joined unit's path.
    return scoped(joined, AdminUnit.id if scope.covered is None else unit_column, scope)


def units(scope: Scope, levels: Iterable[str] | None = None) -> Select:
    """Return the units in ``scope`` (of ``levels`` when given), in tree order."""
    stmt = scoped(select(AdminUnit), AdminUnit.id, scope)
    if levels:
        stmt = stmt.where(AdminUnit.level.in_(tuple(levels)))
    return stmt.order_by(AdminUnit.path)


def units_and_above(scope: Scope) -> Select:
    """Return the units in ``scope`` and every unit above the scope's own, in tree order: the
    places a picker of the scope lists, with the district and region each comes under, in one
    statement (the picker read the units above in a second one, issue 16)."""
    if scope.is_everywhere or not scope.unit_ids:
        return units(scope)
    top = AdminUnit.__table__.alias("scope_top")
    above = exists().where(
        top.c.id.in_(scope.unit_ids), path_within_clause(top.c.path, AdminUnit.path)
    )
    return select(AdminUnit).where(or_(scope.clause(AdminUnit.id), above)).order_by(AdminUnit.path)


def units_among(session: Session, unit_ids: Iterable[int | None], scope: Scope) -> set[int]:
    """Return which of ``unit_ids`` lie in ``scope``: one query for a whole page of records."""
    wanted = {u for u in unit_ids if u is not None}
    if not wanted or scope.is_nothing:
        return set()
    if scope.covered is not None:
        return wanted & scope.covered  # a resolved scope knows its units: nothing to read
    return set(
        session.scalars(
            scoped(select(AdminUnit.id).where(AdminUnit.id.in_(wanted)), AdminUnit.id, scope)
        )
    )


def account_ids(scope: Scope) -> Select:
    """Return the ids of the accounts whose home unit is in ``scope`` (for use as a subquery)."""
    return with_units(select(User.id), User.unit_id, scope)


def accounts(scope: Scope) -> Select:
    """Return the accounts whose home unit is in ``scope``."""
    return with_units(select(User), User.unit_id, scope)


def account_rows(scope: Scope, language: str) -> Select:
    """Return ``accounts`` as the plain columns a list of accounts shows: ``id``,
    ``full_name``, ``email``, ``phone``, ``is_active`` and the home ``unit``'s name in
    ``language``. Accounts with their eagerly loaded unit and grants were half of the
    administrators' list (issue 16); ``live_roles`` gives a page's roles in one statement."""
    return with_units(
        select(
            User.id,
            User.full_name,
            User.email,
            User.phone,
            User.is_active,
            in_language(AdminUnit, "name", language).label("unit"),
        ),
        User.unit_id,
        scope,
    )


def live_roles(session: Session, user_ids: Iterable[int]) -> dict[int, list[str]]:
    """Return the roles each of ``user_ids`` holds anywhere by a live grant, sorted."""
    ids = set(user_ids)
    held: dict[int, set[str]] = {}
    if ids:
        stmt = select(RoleGrant.user_id, RoleGrant.role).where(
            RoleGrant.user_id.in_(ids), RoleGrant.revoked_at.is_(None)
        )
        for user_id, role in session.execute(stmt):
            held.setdefault(user_id, set()).add(role)
    return {user_id: sorted(roles) for user_id, roles in held.items()}


def holders(scope: Scope, role: str) -> Select:
    """Return the accounts holding a live ``role`` grant on a unit in ``scope``, by name."""
    return (
        with_units(
            select(User).join(RoleGrant, RoleGrant.user_id == User.id), RoleGrant.unit_id, scope
        )
        .where(RoleGrant.role == role, RoleGrant.revoked_at.is_(None))
        .distinct()
        .order_by(User.full_name)
    )
