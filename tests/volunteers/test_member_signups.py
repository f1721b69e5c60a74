"""What a member's own pages list: their sign-ups, the shifts open to them, points per quarter."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy

from tests.factories.volunteers import make_member, unit
from volunteers.activity_models import Shift, Signup
from volunteers.attendance import UNDO_WINDOW
from volunteers.models import PatrolUnit
from volunteers.queries import (
    PAST_SHOWN,
    first_open_shifts_to_join,
    member_signups,
    open_shifts_to_join,
)
from volunteers.shift_planning import district_of, visible_to

NOW = dt.datetime(2026, 3, 20, 6, 0, tzinfo=dt.UTC)


def _shift(session, day: int, *, status="planned", unit_id=None, patrol_unit_id=None):
    starts = NOW + dt.timedelta(days=day)
    shift = Shift(
        unit_id=unit_id or unit(session, "354030100").id,
        patrol_unit_id=patrol_unit_id,
        place=f"Park, day {day}",
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=4),
        capacity=3,
        status=status,
    )
    session.add(shift)
    session.flush()
    return shift


def _signup(session, member, day: int, status: str, *, shift_status="planned", out=None):
    """A sign-up of ``member`` on a shift of its own, ``day`` days from NOW."""
    shift = _shift(session, day, status=shift_status)
    starts = shift.starts_at
    finished = status in ("checked_in", "completed")
    signup = Signup(
        shift_id=shift.id,
        member_id=member.id,
        status=status,
        starts_at=shift.starts_at,
        ends_at=shift.ends_at,
        checked_in_at=starts if finished else None,
        checked_out_at=out or (starts + dt.timedelta(hours=4) if status == "completed" else None),
    )
    session.add(signup)
    session.flush()
    return signup


@pytest.mark.both_databases
def test_each_list_holds_its_own_sign_ups_in_order_read_in_one_statement(app, session):
    member = make_member(session, 8301)
    later = _signup(session, member, 2, "signed_up")
    sooner = _signup(session, member, 1, "checked_in")
    _signup(session, member, 3, "signed_up", shift_status="cancelled")  # the shift was called off
    _signup(session, member, 4, "cancelled")  # the member gave the place back
    just_out = _signup(session, member, -1, "completed", out=NOW - UNDO_WINDOW / 2)
    _signup(session, member, -2, "completed", out=NOW - UNDO_WINDOW * 2)  # too late to undo
    older = [
        _signup(session, member, -day, "no_show" if day % 3 else "completed")
        for day in range(3, 3 + PAST_SHOWN)
    ]
    other = make_member(session, 8302)
    _signup(session, other, 5, "signed_up")  # someone else's
    member_id = member.id
    session.commit()

    statements = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):  # not SQLite's BEGIN
            statements.append(statement)

    sqlalchemy.event.listen(session.bind, "before_cursor_execute", count)
    try:
        found = member_signups(session, member_id, NOW)
        places = [s.shift.place for s in found.upcoming + found.undoable + found.past]
    finally:
        sqlalchemy.event.remove(session.bind, "before_cursor_execute", count)
    assert len(statements) == 1, statements  # the shifts and their units came with them
    assert all(places)

    assert [s.id for s in found.upcoming] == [sooner.id, later.id]
    assert [s.id for s in found.undoable] == [just_out.id]
    # The latest PAST_SHOWN finished ones, latest first: the oldest no longer shows.
    assert len(found.past) == PAST_SHOWN
    assert found.past[0].id == just_out.id
    assert [s.id for s in found.past[2:]] == [s.id for s in older[: PAST_SHOWN - 2]]
    assert all(s.member_id == member_id for s in found.upcoming + found.past)


@pytest.mark.both_databases
def test_confirmed_points_add_up_per_quarter_newest_first(app, session):
    from volunteers.activity_models import Contribution, ContributionKind
    from volunteers.contributions import points_by_quarter

    member, other = make_member(session, 8303), make_member(session, 8304)
    kind = session.scalars(sqlalchemy.select(ContributionKind.code)).first()
    decided = NOW - dt.timedelta(days=1)
    for who, day, status, points in (
        (member, dt.date(2025, 12, 31), "confirmed", 4),  # 2025 Q4
        (member, dt.date(2026, 1, 1), "confirmed", 3),  # 2026 Q1
        (member, dt.date(2026, 3, 31), "confirmed", 5),
        (member, dt.date(2026, 4, 1), "confirmed", 2),  # 2026 Q2
        (member, dt.date(2026, 3, 15), "logged", None),  # not yet confirmed: not counted
        (member, dt.date(2026, 3, 16), "rejected", 9),
        (other, dt.date(2026, 3, 17), "confirmed", 7),  # someone else's
    ):
        session.add(
            Contribution(
                member_id=who.id,
                unit_id=who.unit_id,
                kind=kind,
                occurred_on=day,
                description="patrol",
                status=status,
                points=points,
                decided_at=None if status == "logged" else decided,
                rejection_reason="not so" if status == "rejected" else None,
            )
        )
    session.commit()
    assert points_by_quarter(session, member.id) == [
        (2026, 2, 2, 1),
        (2026, 1, 8, 2),
        (2025, 4, 4, 1),
    ]
    assert points_by_quarter(session, other.id) == [(2026, 1, 7, 1)]


@pytest.mark.both_databases
def test_open_shifts_are_the_districts_and_the_patrol_units_the_member_has_no_place_on(
    app, session
):
    from core.places import AdminUnit

    walker, patroller = make_member(session, 8305), make_member(session, 8306)
    patrol = PatrolUnit(name="Night watch", unit_id=walker.unit_id)
    session.add(patrol)
    session.flush()
    patroller.patrol_unit_id = patrol.id
    district = district_of(session, walker.unit_id)
    elsewhere = session.scalars(
        sqlalchemy.select(AdminUnit.id).where(
            AdminUnit.level == "settlement", AdminUnit.path.not_like(district.path + "%")
        )
    ).first()
    shared = _shift(session, 1)
    later = _shift(session, 2)
    patrols = _shift(session, 3, patrol_unit_id=patrol.id)  # the patrol unit's own
    _shift(session, 4, unit_id=elsewhere)  # another district's
    _shift(session, -1)  # begun already
    _shift(session, 5, status="cancelled")
    taken = _signup(session, walker, 6, "signed_up").shift
    ids = {"walker": walker.id, "patroller": patroller.id}
    session.commit()

    walker, patroller = (session.get(type(walker), i) for i in ids.values())
    assert [s.id for s in first_open_shifts_to_join(session, walker, NOW)] == [shared.id, later.id]
    seen = first_open_shifts_to_join(session, patroller, NOW)
    assert [s.id for s in seen] == [shared.id, later.id, patrols.id, taken.id]
    # The statement a caller composes on (the API pages it) lists the same.
    assert session.scalars(open_shifts_to_join(patroller, NOW)).all() == seen
    # And each is one the sign-up's own check lets the member see.
    assert all(visible_to(session, patroller, s) for s in seen)


@pytest.mark.both_databases  # the district's path is found by comparing paths in SQL
def test_the_open_shifts_district_is_district_of_for_every_unit(app, session):
    """The open shifts' statement finds the member's district in SQL: for each unit of the
    register, at every level (the country, a region, a district, a rural okrug, a settlement,
    one right under its region), it is the unit ``district_of`` returns."""
    from core import places
    from core.places import AdminUnit
    from volunteers.shift_planning import _DISTRICT_PATH

    # A settlement right under a region, with no district between: its region keeps it.
    region = session.scalars(
        sqlalchemy.select(AdminUnit).where(AdminUnit.level == "region")
    ).first()
    places.add_unit(
        session, kato="359999001", name_kk="Ауыл", name_ru="Село", level="settlement", parent=region
    )
    units = session.scalars(sqlalchemy.select(AdminUnit)).all()
    assert {u.level for u in units} >= {"country", "region", "district", "rural_okrug"}
    found = {
        u.id: session.scalar(sqlalchemy.select(_DISTRICT_PATH), {"unit_id": u.id}) for u in units
    }
    assert found == {u.id: district_of(session, u.id).path for u in units}
