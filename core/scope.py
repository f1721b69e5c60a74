"""Jurisdiction as a query scope: the ``Scope`` value and the scoped reads every list goes through.

A ``Scope`` is either everywhere (system jobs, the CLI) or within a set of administrative units
together with every unit below them; within no unit at all it covers nothing. There is no
``None``: a read that means "every unit" says ``Scope.everywhere()``. A scope ``resolved`` in a
session knows the ids it covers, and filters by them (the portal resolves the signed-in user's).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Select, bindparam, false, select, true
from sqlalchemy.orm import Session, aliased

from core import places
from core.errors import N_, NotFound

if TYPE_CHECKING:
    from core.accounts import User


# Every cache of statements built once per scope (``per_scope``), so that all can be emptied.
_STATEMENT_CACHES: list = []


def per_scope(build: Callable) -> Callable:
    """Keep the statements ``build(scope, …)`` returns, once per scope and arguments.

    Building a report's or a list's statements (and their cache keys) cost more CPU than
    running them, and those pages are read on every visit (issue 16). A ``Scope`` compares by
    the ids it covers, so a unit added since gives a statement of its own.
    """
    cached = functools.lru_cache(maxsize=256)(build)
    _STATEMENT_CACHES.append(cached)
    return cached


def forget_statements() -> None:
    """Empty every ``per_scope`` cache (a test that changes how scopes are written does)."""
    for cached in _STATEMENT_CACHES:
        cached.cache_clear()


@dataclass(frozen=True)
class Scope:
    """The administrative units a read may see: everywhere, or these units and all below them."""

    unit_ids: tuple[int, ...] = ()
    is_everywhere: bool = False
    # The ids of every unit covered, set by ``resolved`` only (never given, never carried over
    # by ``dataclasses.replace``). Compared and hashed with the rest: statements built once
    # per scope (``per_scope``) hold these ids, and a unit added since must give
    # a scope, and so a statement, of its own.
    covered: frozenset[int] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        # "Everywhere and within these units" would be read both ways: refuse to build it.
        if self.is_everywhere and self.unit_ids:
            raise ValueError("a scope is either everywhere or within units, not both")

    def __bool__(self) -> bool:
        # "if scope:" read as "has units" was always true for a Scope (the inquiry queue showed
        # its answering section to every deputy): say is_nothing or is_everywhere instead.
        raise TypeError("a Scope is not a truth value: use is_nothing or is_everywhere")

    @classmethod
    def everywhere(cls) -> Scope:
        """Every unit: for system jobs and the command line, never for a signed-in user."""
        return cls(is_everywhere=True)

    @classmethod
    def within(cls, unit_ids: Iterable[int]) -> Scope:
        """These units and every unit below them; no units at all means nothing."""
        return cls(unit_ids=tuple(sorted(set(unit_ids))))

    @classmethod
    def of(cls, user: User, *roles: str) -> Scope:
        """Where ``user`` holds any of ``roles`` (a national grant covers the whole tree)."""
        return cls.within(user.scope(*roles))

    @property
    def is_nothing(self) -> bool:
        """Tell whether the scope covers no unit at all."""
        return not self.is_everywhere and not self.unit_ids

    def resolved(self, session: Session) -> Scope:
        """Return this scope knowing the ids of the units it covers (one read per transaction).

        Its conditions then test ``unit_id IN (…)``. PostgreSQL cannot estimate the general
        test (a unit whose path begins with a scope unit's) and always guesses one unit, so a
        region's lists were planned as if for one district; and ``contains`` reads nothing.
        """
        if self.is_everywhere or self.covered is not None:
            return self
        resolved = Scope(unit_ids=self.unit_ids)
        object.__setattr__(resolved, "covered", places.covered_by(session, self.unit_ids))
        return resolved

    def units(self):
        """Return a SQL condition on ``AdminUnit`` selecting the units in the scope."""
        return self.clause(places.AdminUnit.id)

    def clause(self, unit_column):
        """Return a SQL condition that ``unit_column`` (an admin-unit id) lies in the scope."""
        if self.is_everywhere:
            return true()
        if not self.unit_ids:
            return false()
        if self.covered is not None:
            # Written into the statement, not sent as one parameter each: the country's few
            # hundred ids as parameters cost PostgreSQL 2-3 ms a statement, as text 0.3.
            ids = bindparam(
                "scope_units",
                sorted(self.covered),
                expanding=True,
                literal_execute=True,
                unique=True,
            )
            return unit_column.in_(ids)
        if unit_column is places.AdminUnit.id:
            # The statement joins the unit itself: test its path directly.
            return places.units_within_clause(self.unit_ids)
        # An alias of its own, so that the subquery is never correlated with an ``AdminUnit``
        # the outer statement already joins.
        unit = aliased(places.AdminUnit)
        covering = places.AdminUnit.__table__.alias("scope_unit")
        return unit_column.in_(
            select(unit.id).where(
                covering.c.id.in_(self.unit_ids),
                places.path_within_clause(unit.path, covering.c.path),
            )
        )

    def contains(self, session: Session, unit_id: int | None) -> bool:
        """Tell whether the unit ``unit_id`` lies in the scope."""
        if self.is_everywhere:
            return True
        if unit_id is None:
            return False
        if self.covered is not None:
            return unit_id in self.covered
        return places.within(session, unit_id, list(self.unit_ids))

    def unit_ids_covered(self, session: Session) -> list[int] | None:
        """Return the ids of every unit in the scope (``None`` when everywhere).

        Filtering a big table by this short list instead of ``clause`` lets the planner see how
        many rows match, so that a region-wide list is read in index order, not sorted whole.
        """
        if self.is_everywhere:
            return None
        return sorted(self.resolved(session).covered)


def scoped(stmt: Select, unit_column, scope: Scope) -> Select:
    """Return ``stmt`` restricted to rows whose ``unit_column`` lies in ``scope``."""
    return stmt.where(scope.clause(unit_column))


def get_scoped(session: Session, model_or_stmt, record_id: int, scope: Scope, unit_column=None):
    """Return the record ``record_id`` if it lies in ``scope``; raise ``NotFound`` otherwise.

    ``model_or_stmt`` is a mapped class with a ``unit_id``, or a select whose first entity has
    the id and that joins whatever ``unit_column`` names (then the row is returned, or its one
    entity). Outside the scope the record does not exist for the actor: the same answer as a
    missing one.
    """
    if isinstance(model_or_stmt, Select):
        entity = model_or_stmt.column_descriptions[0]["entity"]
        column = entity.unit_id if unit_column is None else unit_column
        stmt = model_or_stmt.add_columns(column).where(entity.id == record_id)
        row = session.execute(stmt).first()
        record = None if row is None else row[0] if len(row) == 2 else tuple(row[:-1])
        unit_id = None if row is None else row[-1]
    else:
        record = session.get(model_or_stmt, record_id)
        key = "unit_id" if unit_column is None else unit_column.key
        unit_id = None if record is None else getattr(record, key)
    if record is None or not scope.contains(session, unit_id):
        raise NotFound(N_("No such record."))
    return record
