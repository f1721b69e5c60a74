"""Jurisdictions: the KATO reference data and the unit tree."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core import places

# Both databases: recursive unit queries.
pytestmark = pytest.mark.both_databases


def test_reference_data_has_the_twenty_top_level_units(app, session):
    country = session.scalar(
        select(places.AdminUnit).where(places.AdminUnit.kato == places.COUNTRY_KATO)
    )
    top = session.scalars(
        select(places.AdminUnit).where(places.AdminUnit.parent_id == country.id)
    ).all()
    assert len(top) == 20
    assert {u.level for u in top} == {"region", "city"}
    names = {u.name_ru for u in top}
    assert "Карагандинская область" in names and len(names) == 20


def test_demo_region_has_districts_and_real_villages(app, session):
    region = session.scalar(select(places.AdminUnit).where(places.AdminUnit.kato == "350000000"))
    below = session.scalars(
        select(places.AdminUnit).where(places.AdminUnit.path.startswith(region.path))
    ).all()
    levels = {u.level for u in below}
    assert {"district", "city", "settlement"} <= levels
    assert sum(u.level == "settlement" for u in below) >= 12


def test_loading_reference_data_twice_adds_nothing(app, session):
    count = session.scalar(select(func.count()).select_from(places.AdminUnit))
    assert places.load_reference_units(session) == 0
    assert session.scalar(select(func.count()).select_from(places.AdminUnit)) == count


def test_within_follows_the_tree(app, session):
    def unit(kato):
        return session.scalar(select(places.AdminUnit.id).where(places.AdminUnit.kato == kato))

    region, district, village = unit("350000000"), unit("355600000"), unit("355635100")
    assert places.within(session, village, [region])
    assert places.within(session, village, [district])
    assert not places.within(session, region, [district])
    assert not places.within(session, village, [unit("750000000")])
    covered = set(
        session.scalars(select(places.AdminUnit.id).where(places.units_within_clause([district])))
    )
    assert village in covered and region not in covered


# A path against another, and whether it lies within: the same unit, a child, a grandchild, the
# parent (no), a sibling, and ids 1 and 12 (a prefix as text, not as a path).
PATHS = [
    ("/1/7/", "/1/7/", True),
    ("/1/7/42/", "/1/7/", True),
    ("/1/7/42/420/", "/1/", True),
    ("/1/7/", "/1/7/42/", False),
    ("/1/8/", "/1/7/", False),
    ("/12/", "/1/", False),
    ("/1/12/5/", "/1/1/", False),
]


@pytest.mark.parametrize(("path", "outer", "inside"), PATHS)
def test_the_within_rule_is_the_same_in_python_and_in_sql(app, session, path, outer, inside):
    assert places.path_within(path, outer) is inside
    assert bool(session.scalar(select(places.path_within_clause(path, outer)))) is inside


def test_the_within_clause_takes_a_column_on_either_side(app, session):
    village = session.scalar(select(places.AdminUnit).where(places.AdminUnit.kato == "355635100"))
    unit = places.AdminUnit
    # The units the village lies within: its chain up to the country, nearest last.
    above = session.scalars(
        select(unit.id)
        .where(places.path_within_clause(village.path, unit.path))
        .order_by(unit.path)
    ).all()
    assert above == list(reversed(places.chain_ids(session, village.id)))
    # The units within the village's district: the village among them, the region not.
    district = session.scalar(select(unit).where(unit.kato == "355600000"))
    below = set(
        session.scalars(select(unit.id).where(places.path_within_clause(unit.path, district.path)))
    )
    assert village.id in below and district.id in below and district.parent_id not in below
    assert below == places.covered_by(session, [district.id])
