"""Jurisdiction as a query scope: the ``Scope`` value, scoped reads, and the matrix without it."""

from __future__ import annotations

import dataclasses

import pytest
import sqlalchemy.event
from sqlalchemy import func, select

from budget.queries import fiscal_years
from core import places
from core.errors import NotFound
from core.queries import with_units
from core.scope import Scope, get_scoped, scoped
from volunteers.models import Member

REGION, DISTRICT, VILLAGE, OTHER_REGION = "350000000", "355600000", "355635100", "750000000"


def _unit(session, kato: str) -> int:
    return places.by_kato(session, kato).id


def _units(session, scope: Scope) -> set[int]:
    return set(session.scalars(scoped(select(places.AdminUnit.id), places.AdminUnit.id, scope)))


def test_a_scope_is_everywhere_or_within_units_and_never_none():
    assert Scope.everywhere().is_everywhere and not Scope.everywhere().is_nothing
    assert Scope.within([]).is_nothing and not Scope.within([]).is_everywhere
    assert Scope.within([3, 1, 3]).unit_ids == (1, 3)
    assert Scope.within([1]) == Scope.within([1, 1])  # a value: compared, hashed, frozen
    with pytest.raises(AttributeError):
        Scope.within([1]).unit_ids = (2,)
    with pytest.raises(ValueError):
        Scope(unit_ids=(1,), is_everywhere=True)  # read both ways: refused
    with pytest.raises(TypeError):
        bool(Scope.within([]))  # "if scope:" would read a scope of nothing as true


def test_of_takes_the_units_of_the_users_grants_for_those_roles():
    class Holder:
        def scope(self, *roles):
            return {"deputy": [7], "finance": [5, 7]}.get(roles[0], []) if roles else []

    assert Scope.of(Holder(), "finance") == Scope.within([5, 7])
    assert Scope.of(Holder(), "admin").is_nothing


def test_within_covers_the_units_below_and_nothing_beside(app, session):
    region, district = _unit(session, REGION), _unit(session, DISTRICT)
    village, other = _unit(session, VILLAGE), _unit(session, OTHER_REGION)
    below_district = _units(session, Scope.within([district]))
    assert {district, village} <= below_district and region not in below_district
    assert below_district < _units(session, Scope.within([region]))
    assert other not in _units(session, Scope.within([region]))
    assert Scope.within([district]).contains(session, village)
    assert not Scope.within([district]).contains(session, region)
    assert set(Scope.within([district]).unit_ids_covered(session)) == below_district


def test_an_empty_scope_reads_nothing_and_everywhere_reads_everything(app, session):
    every = session.scalar(select(func.count()).select_from(places.AdminUnit))
    assert _units(session, Scope.within([])) == set()
    assert len(_units(session, Scope.everywhere())) == every
    assert not Scope.within([]).contains(session, _unit(session, VILLAGE))
    assert Scope.everywhere().contains(session, _unit(session, VILLAGE))
    assert Scope.everywhere().unit_ids_covered(session) is None


def test_the_national_grant_covers_every_unit(app, session):
    country = _unit(session, places.COUNTRY_KATO)
    every = session.scalar(select(func.count()).select_from(places.AdminUnit))
    assert len(_units(session, Scope.within([country]))) == every


def test_get_scoped_answers_not_found_outside_the_scope(app, session):
    member = session.scalars(select(Member).limit(1)).one()
    unit = session.get(places.AdminUnit, member.unit_id)
    assert get_scoped(session, Member, member.id, Scope.within([member.unit_id])) is member
    assert get_scoped(session, Member, member.id, Scope.everywhere()) is member
    row = get_scoped(
        session,
        select(Member, places.AdminUnit).join(
            places.AdminUnit, Member.unit_id == places.AdminUnit.id
        ),
        member.id,
        Scope.within([member.unit_id]),
    )
    assert row == (member, unit)
    with pytest.raises(NotFound):
        get_scoped(session, Member, member.id, Scope.within([_unit(session, OTHER_REGION)]))
    with pytest.raises(NotFound):
        get_scoped(session, Member, member.id, Scope.within([]))
    with pytest.raises(NotFound):
        get_scoped(session, Member, 10**9, Scope.everywhere())


# Per-dialect SQL: the ids are written into the statement; savepoints.
@pytest.mark.both_databases
def test_a_resolved_scope_reads_the_same_units_by_their_ids(app, session):
    region, district = _unit(session, REGION), _unit(session, DISTRICT)
    village, other = _unit(session, VILLAGE), _unit(session, OTHER_REGION)
    for scope in (Scope.within([district]), Scope.within([region, other]), Scope.within([])):
        resolved = scope.resolved(session)
        assert resolved.unit_ids == scope.unit_ids and resolved.covered is not None
        assert resolved == scope.resolved(session) != scope  # a key of its own for caches
        assert _units(session, resolved) == _units(session, scope)
        assert resolved.unit_ids_covered(session) == sorted(_units(session, scope))
    members = select(func.count()).select_from(Member)
    listed = select(Member.id, places.AdminUnit.name_ru)
    for scope in (Scope.within([region]), Scope.within([district])):
        assert session.scalar(scoped(members, Member.unit_id, scope.resolved(session))) == (
            session.scalar(scoped(members, Member.unit_id, scope))
        )
        assert set(session.execute(with_units(listed, Member.unit_id, scope.resolved(session))))
        assert set(session.execute(with_units(listed, Member.unit_id, scope))) == set(
            session.execute(with_units(listed, Member.unit_id, scope.resolved(session)))
        )
    # The ids are set by ``resolved`` alone: a copy with other units does not carry them over.
    assert dataclasses.replace(resolved, unit_ids=(region,)).covered is None
    assert Scope.everywhere().resolved(session) == Scope.everywhere()

    # Rights on a page's records are then answered without reading anything.
    resolved = Scope.within([district]).resolved(session)
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sqlalchemy.event.listen(session.bind, "before_cursor_execute", count)
    try:
        assert resolved.contains(session, village) and not resolved.contains(session, region)
        assert not resolved.contains(session, None)
        assert Scope.within([district]).contains(session, village) and statements  # unresolved
        statements.clear()
        assert resolved.contains(session, village) and statements == []
    finally:
        sqlalchemy.event.remove(session.bind, "before_cursor_execute", count)


def _settlement(session, district, kato: str) -> places.AdminUnit:
    return places.add_unit(
        session,
        kato=kato,
        name_kk="Жаңа ауыл",
        name_ru="Новое село",
        level="settlement",
        parent=district,
    )


# Per-dialect SQL: the ids are written into the statement; savepoints.
@pytest.mark.both_databases
def test_a_unit_added_in_the_transaction_is_in_the_scopes_above_it(app, db_url):
    from sqlalchemy.orm import Session

    from portal.extensions import db

    with app.app_context():
        engine = db.engine
    with Session(engine) as session:
        district = places.by_kato(session, DISTRICT)
        before = Scope.within([district.id]).resolved(session)
        added = _settlement(session, district, "355635999")
        after = Scope.within([district.id]).resolved(session)
        assert not before.contains(session, added.id)  # a value resolved before: as it was
        assert after.contains(session, added.id)
        assert added.id in _units(session, after)
        # Statements built once per scope hold the ids: the wider scope gets one of its own.
        assert after != before and fiscal_years(after) is not fiscal_years(before)
        session.rollback()
        assert added.id not in Scope.within([district.id]).resolved(session).covered

        # A unit added in a savepoint that is rolled back is gone from the scope again.
        district = places.by_kato(session, DISTRICT)
        with session.begin_nested() as savepoint:
            kept = _settlement(session, district, "355635998")
            assert Scope.within([district.id]).resolved(session).contains(session, kept.id)
            savepoint.rollback()
        assert kept.id not in Scope.within([district.id]).resolved(session).covered
        session.rollback()


# Per-dialect SQL: the ids come back as text (string_agg on PostgreSQL, group_concat on SQLite).
@pytest.mark.both_databases
def test_scopes_resolve_from_the_subtrees_read_with_the_user(app, db_url):
    """The signed-in user's statement brings the units below each grant (portal.auth_setup):
    a scope of those units resolves without a statement, to what the query would give, and a
    unit added in the transaction, or a scope over other units, is read again."""
    from sqlalchemy.orm import Session

    from core.account_models import GRANT_SUBTREES
    from core.accounts import RoleGrant, User
    from portal.extensions import db

    with app.app_context():
        engine = db.engine
    with Session(engine) as session:
        region, district = _unit(session, REGION), _unit(session, DISTRICT)
        other = _unit(session, OTHER_REGION)
        user = session.scalars(select(User).order_by(User.id)).first()
        for unit_id, role in ((region, "deputy"), (district, "coordinator")):
            session.add(RoleGrant(user_id=user.id, role=role, unit_id=unit_id))
        session.flush()
        expected = {
            key: set(
                session.scalars(select(places.AdminUnit.id).where(places.units_within_clause(key)))
            )
            for key in ((region,), (district,), (region, district))
        }
        pairs = session.scalar(select(GRANT_SUBTREES).where(User.id == user.id))
        session.commit()  # a new transaction: nothing of the reads above is remembered

        places.remember_subtrees(session, pairs)
        statements = []

        def count(conn, cursor, statement, *args):
            statements.append(statement)

        sqlalchemy.event.listen(engine, "before_cursor_execute", count)
        try:
            for key, units in expected.items():
                assert Scope.within(key).resolved(session).covered == units
            assert statements == []  # none read: the user's statement brought them
            assert Scope.within([other]).resolved(session).covered and statements  # not a grant
        finally:
            sqlalchemy.event.remove(engine, "before_cursor_execute", count)

        places.remember_subtrees(session, pairs)
        added = _settlement(session, session.get(places.AdminUnit, district), "355635997")
        assert added.id in Scope.within([district]).resolved(session).covered
        session.rollback()

        places.remember_subtrees(session, None)  # a user without grants
        assert Scope.within([district]).resolved(session).covered == expected[(district,)]
        session.rollback()


def test_units_among_answers_a_resolved_scope_without_reading(app, session):
    """Which of a page's units lie in a scope: the same answer as the query, read from the ids
    a resolved scope holds (a page of flags or a member's record asks it for every row)."""
    from core.queries import units_among

    region, district = _unit(session, REGION), _unit(session, DISTRICT)
    village, other = _unit(session, VILLAGE), _unit(session, OTHER_REGION)
    asked = [region, district, village, other, None, 2_000_000_000]  # no unit has that id
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    for scope in (Scope.within([district]), Scope.within([region]), Scope.within([other])):
        resolved = scope.resolved(session)
        statements.clear()
        sqlalchemy.event.listen(session.bind, "before_cursor_execute", count)
        try:
            answer = units_among(session, asked, resolved)
        finally:
            sqlalchemy.event.remove(session.bind, "before_cursor_execute", count)
        assert statements == []
        assert answer == units_among(session, asked, scope)  # unresolved: by the query
    assert units_among(session, asked, Scope.within([district]).resolved(session)) == {
        district,
        village,
    }


def test_statements_kept_per_scope_are_built_again_once_forgotten(app, session):
    """The matrix's negative control empties every cache of statements built per scope
    (``forget_statements``); a scope covering other units gets a statement of its own."""
    from core.scope import forget_statements

    district = Scope.within([_unit(session, DISTRICT)]).resolved(session)
    region = Scope.within([_unit(session, REGION)]).resolved(session)
    kept = fiscal_years(district)
    assert fiscal_years(district) is kept and fiscal_years(region) is not kept
    forget_statements()
    assert fiscal_years(district) is not kept
