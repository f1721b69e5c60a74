"""Administrative units (jurisdictions) with KATO codes, their tree and the reference data."""

from __future__ import annotations

import csv
import functools
from collections.abc import Iterable
from importlib import resources

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    cast,
    event,
    exists,
    func,
    literal,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, validates

from core.db import Base
from core.search_text import KEY_LENGTH, search_key

LEVELS = ("country", "region", "city", "district", "rural_okrug", "settlement")

# The country itself has no KATO code of its own; this reserved code anchors national grants.
COUNTRY_KATO = "000000000"


class AdminUnit(Base):
    """A jurisdiction: the country, a region, a city, a district, a rural okrug or a settlement."""

    __tablename__ = "admin_unit"
    __table_args__ = (
        CheckConstraint(f"level IN {LEVELS!r}", name="level_known"),
        CheckConstraint("length(kato) = 9", name="kato_nine_digits"),
        Index(
            "ix_admin_unit_search_name",
            "search_name",
            postgresql_using="gin",
            postgresql_ops={"search_name": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kato: Mapped[str] = mapped_column(String(9), unique=True)
    name_kk: Mapped[str] = mapped_column(String(200))
    name_ru: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    # Materialized path "/1/7/42/": a unit lies within another when its path starts with the
    # other's path, one indexed comparison instead of a recursive query.
    path: Mapped[str] = mapped_column(String(400), index=True)
    # Both names' search key (core.search_text), kept by ``_key_names``.
    search_name: Mapped[str | None] = mapped_column(String(KEY_LENGTH))

    @validates("name_kk", "name_ru")
    def _key_names(self, key, value):
        names = {"name_kk": self.name_kk, "name_ru": self.name_ru, key: value}
        self.search_name = search_key(" ".join(n for n in names.values() if n))
        return value

    def name(self, locale: str) -> str:
        """Return the unit's name for ``locale`` (Russian for ru, Kazakh otherwise)."""
        return self.name_ru if locale == "ru" else self.name_kk


def add_unit(
    session: Session, *, kato: str, name_kk: str, name_ru: str, level: str, parent: AdminUnit | None
) -> AdminUnit:
    """Insert a unit under ``parent`` and compute its path."""
    unit = AdminUnit(kato=kato, name_kk=name_kk, name_ru=name_ru, level=level, path="")
    unit.parent_id = parent.id if parent else None
    session.add(unit)
    session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    session.flush()
    _forget_scopes(session)
    return unit


def by_kato(session: Session, kato: str) -> AdminUnit:
    """Return the unit with this KATO code or raise LookupError."""
    unit = session.scalar(select(AdminUnit).where(AdminUnit.kato == kato))
    if unit is None:
        raise LookupError(f"no administrative unit with KATO {kato}")
    return unit


# ``Session.info`` key of the unit paths read in the current transaction (``_paths``).
_PATHS = "core.places.paths"
# ``Session.info`` key of the units covered by each set of scope units read in the current
# transaction (``covered_by``).
_WITHIN = "core.places.within"


def _paths(session: Session, unit_ids: list[int]) -> dict[int, str]:
    """Return the path of each unit of ``unit_ids`` that exists.

    A unit's path is set once, when it is created, from its ancestors' ids and its own (no
    unit moves), so a path read once holds for the whole transaction: a page that checks the
    same units' rights several times (the record, its actions, its trail) reads them once.
    """
    memo = session.info.setdefault(_PATHS, {})
    missing = [i for i in unit_ids if i not in memo]
    if missing:
        rows = session.execute(
            select(AdminUnit.id, AdminUnit.path).where(AdminUnit.id.in_(missing))
        )
        # A unit being created has an empty path until its id is known (add_unit).
        memo.update((unit_id, path) for unit_id, path in rows if path)
    return {i: memo[i] for i in unit_ids if i in memo}


@event.listens_for(Session, "after_transaction_end")
def _forget_paths(session: Session, transaction) -> None:
    # A savepoint's end too: a unit made inside a savepoint rolled back is gone, and its id
    # may be given again.
    session.info.pop(_PATHS, None)
    _forget_scopes(session)


def _forget_scopes(session: Session) -> None:
    # A unit added lies within every scope above it: what each scope covered is read again.
    session.info.pop(_WITHIN, None)
    session.info.pop(_SUBTREES, None)


# ``Session.info`` key of the units below each unit of the signed-in user's grants, read in the
# statement that loads the user (``subtree_pairs``): "unit:below,…" until ``covered_by`` first
# needs it, then {unit id: frozenset of the ids below it, its own included}.
_SUBTREES = "core.places.subtrees"


def subtree_pairs(unit_ids):
    """Return a scalar SQL expression listing the units below each of ``unit_ids`` (a select
    of unit ids, correlated as the caller needs) as text: ``"35:35,35:354,…"``, or NULL.

    A statement that has to be run anyway (the signed-in user's) brings it along, and
    ``remember_subtrees`` hands it to ``covered_by``: as a statement of its own, resolving the
    scope cost an official's list page 0.2-0.9 ms of CPU (2-9 % in paired runs), most of it
    the few hundred ids read back as rows.
    """
    top = AdminUnit.__table__.alias("subtree_top")
    pair = cast(top.c.id, String) + ":" + cast(AdminUnit.id, String)
    return (
        select(func.aggregate_strings(pair, ","))
        .select_from(AdminUnit.__table__.join(top, path_within_clause(AdminUnit.path, top.c.path)))
        .where(top.c.id.in_(unit_ids))
        .scalar_subquery()
    )


def remember_subtrees(session: Session, pairs: str | None) -> None:
    """Keep what ``subtree_pairs`` read for ``covered_by``, for the current transaction."""
    _forget_scopes(session)
    session.info[_SUBTREES] = pairs or ""


def _known_subtrees(session: Session) -> dict[int, frozenset[int]] | None:
    known = session.info.get(_SUBTREES)
    if known is None or isinstance(known, dict):
        return known
    below: dict[int, set[int]] = {}
    for pair in known.split(",") if known else ():
        top, unit = pair.split(":")
        below.setdefault(int(top), set()).add(int(unit))
    parsed = {top: frozenset(units) for top, units in below.items()}
    session.info[_SUBTREES] = parsed
    return parsed


def path_of(session: Session, unit_id: int) -> str | None:
    """Return the unit's materialized path (``/1/35/354/``), or None for no such unit."""
    return _paths(session, [unit_id]).get(unit_id)


def chain_ids(session: Session, unit_id: int) -> list[int]:
    """Return the unit's id and the ids of the units above it, nearest first (empty when there
    is no such unit): where a setting is looked up from a unit up to the country."""
    path = path_of(session, unit_id)
    return [] if path is None else [int(x) for x in reversed(path.strip("/").split("/"))]


def path_within(path: str, outer: str) -> bool:
    """Tell whether the unit at ``path`` is the unit at ``outer`` or lies below it.

    The rule of materialized paths ("/1/7/42/" lies within "/1/7/"), written once for Python;
    ``path_within_clause`` is the same rule in SQL.
    """
    return path.startswith(outer)


def path_within_clause(path, outer):
    """Return the SQL condition that the unit at ``path`` is at ``outer`` or lies below it.

    Either side is a column, another SQL expression or a path as text: one prefix comparison
    instead of walking the tree.
    """
    return (literal(path) if isinstance(path, str) else path).like(outer + "%")


def nearest_first(path):
    """Return the SQL ordering that puts the nearest of the units at or above one first.

    Of units a unit lies within, the nearest has the longest path: where a setting is set at
    several levels (a policy, a tax rate, the district of a member), the nearest one applies.
    """
    return func.length(path).desc()


def within(session: Session, unit_id: int, scope_ids: list[int]) -> bool:
    """Tell whether ``unit_id`` is one of ``scope_ids`` or lies below one of them."""
    if not scope_ids:
        return False
    paths = _paths(session, [unit_id, *scope_ids])
    path = paths.get(unit_id)
    if path is None:
        return False
    return any(path_within(path, paths[i]) for i in scope_ids if i in paths)


def units_within_clause(scope_ids: Iterable[int]):
    """Return a SQL condition on ``AdminUnit`` selecting the units covered by ``scope_ids``."""
    return _units_within(tuple(scope_ids))


@functools.lru_cache(maxsize=1024)
def _units_within(scope_ids: tuple[int, ...]):
    # Built once per set of units (a clause is immutable, and statements share it): building
    # the alias and the EXISTS anew was most of the cost of scoping a list (issue 16).
    scope = AdminUnit.__table__.alias("scope_unit")
    return exists().where(
        scope.c.id.in_(scope_ids), path_within_clause(AdminUnit.path, scope.c.path)
    )


def covered_by(session: Session, scope_ids: Iterable[int]) -> frozenset[int]:
    """Return the ids of the units covered by ``scope_ids`` (a few hundred at most).

    Filtering a big table by these ids instead of ``units_within_clause`` lets the planner see
    how many rows match, so that a region-wide list is read in index order, not sorted whole.
    The answer holds for the transaction: no unit moves, and adding one forgets it.
    """
    key = tuple(sorted(set(scope_ids)))
    if not key:
        return frozenset()
    memo = session.info.setdefault(_WITHIN, {})
    if key not in memo:
        below = _known_subtrees(session)
        if below is not None and all(unit_id in below for unit_id in key):
            memo[key] = frozenset().union(*(below[unit_id] for unit_id in key))
        else:
            memo[key] = frozenset(
                session.scalars(select(AdminUnit.id).where(units_within_clause(key)))
            )
    return memo[key]


def load_reference_units(session: Session) -> int:
    """Load the bundled KATO reference data; existing codes are left as they are.

    Returns the number of units added.
    """
    with resources.files("core").joinpath("data/admin_units.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    by_kato = {u.kato: u for u in session.scalars(select(AdminUnit))}
    added = 0
    country = by_kato.get(COUNTRY_KATO)
    if country is None:
        country = add_unit(
            session,
            kato=COUNTRY_KATO,
            name_kk="Қазақстан Республикасы",
            name_ru="Республика Казахстан",
            level="country",
            parent=None,
        )
        by_kato[COUNTRY_KATO] = country
        added += 1
    pending = [r for r in rows if r["kato"] not in by_kato]
    # One generation at a time (units whose parent is known), one flush for its ids and one
    # for its paths: two flushes per unit made the whole country's list slow to load.
    while pending:
        ready = [r for r in pending if not r["parent_kato"] or r["parent_kato"] in by_kato]
        if not ready:
            missing = sorted({r["parent_kato"] for r in pending})
            raise ValueError(f"reference data names unknown parent KATO codes: {missing}")
        batch = []
        for row in ready:
            parent = by_kato[row["parent_kato"]] if row["parent_kato"] else country
            unit = AdminUnit(
                kato=row["kato"],
                name_kk=row["name_kk"],
                name_ru=row["name_ru"],
                level=row["level"],
                parent_id=parent.id,
                path="",
            )
            batch.append((unit, parent))
        session.add_all(unit for unit, _ in batch)
        session.flush()
        for unit, parent in batch:
            unit.path = f"{parent.path}{unit.id}/"
            by_kato[unit.kato] = unit
        session.flush()
        added += len(batch)
        done = {r["kato"] for r in ready}
        pending = [r for r in pending if r["kato"] not in done]
    _forget_scopes(session)
    return added
