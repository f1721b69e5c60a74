"""The whole country's KATO reference data: every region and city with its districts."""

from __future__ import annotations

import csv
from importlib import resources

import pytest
from sqlalchemy import func, select

from core import places
from core.place_admin import CHILD_LEVELS
from portal.extensions import db

# Districts and city administrations per top-level unit in S1 (admin_units_SOURCES.md).
S1_COUNTS = {
    "100000000": 10,  # Abai
    "110000000": 20,  # Akmola
    "150000000": 13,  # Aktobe
    "190000000": 10,  # Almaty region
    "230000000": 8,  # Atyrau
    "270000000": 13,  # West Kazakhstan
    "310000000": 11,  # Zhambyl
    "330000000": 10,  # Zhetisu
    "350000000": 13,  # Karaganda
    "390000000": 20,  # Kostanay
    "430000000": 9,  # Kyzylorda
    "470000000": 7,  # Mangystau
    "550000000": 13,  # Pavlodar
    "590000000": 14,  # North Kazakhstan
    "610000000": 17,  # Turkistan
    "620000000": 5,  # Ulytau
    "630000000": 11,  # East Kazakhstan
    "710000000": 4,  # Astana
    "750000000": 8,  # Almaty
    "790000000": 4,  # Shymkent
}


def _rows() -> list[dict]:
    with resources.files("core").joinpath("data/admin_units.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_reference_file_is_a_consistent_tree():
    rows = _rows()
    katos = [r["kato"] for r in rows]
    assert len(katos) == len(set(katos))
    seen: dict[str, dict] = {}
    for row in rows:
        assert len(row["kato"]) == 9 and row["kato"].isdigit(), row
        assert row["name_kk"].strip() and row["name_ru"].strip(), row
        parent = seen.get(row["parent_kato"]) if row["parent_kato"] else None
        if row["parent_kato"]:
            assert parent is not None, f"{row['kato']}: parent listed later or missing"
        parent_level = parent["level"] if parent else "country"
        assert row["level"] in CHILD_LEVELS[parent_level], row
        if parent and not parent["parent_kato"]:
            assert row["kato"][:2] == parent["kato"][:2], row
        seen[row["kato"]] = row


# Both databases: the bulk load of the tree.
@pytest.mark.both_databases
def test_every_region_and_city_has_its_districts(app, session):
    country = places.by_kato(session, places.COUNTRY_KATO)
    child = places.AdminUnit.__table__.alias("child")
    counts = dict(
        session.execute(
            select(places.AdminUnit.kato, func.count())
            .select_from(places.AdminUnit)
            .join(child, child.c.parent_id == places.AdminUnit.id)
            .where(places.AdminUnit.parent_id == country.id)
            .group_by(places.AdminUnit.kato)
        ).all()
    )
    # Karaganda also holds the demo's villages below its districts: direct children only.
    assert counts == S1_COUNTS
    almaty_districts = session.scalars(
        select(places.AdminUnit.name_ru).where(
            places.AdminUnit.parent_id == places.by_kato(session, "750000000").id
        )
    ).all()
    assert "Медеуский район" in almaty_districts
    kokshetau = places.by_kato(session, "111000000")
    assert (kokshetau.level, kokshetau.name_ru, kokshetau.name_kk) == (
        "city",
        "город Кокшетау",
        "Көкшетау қаласы",
    )


def test_places_load_twice_adds_nothing(app, session):
    before = session.scalar(select(func.count()).select_from(places.AdminUnit))
    result = app.test_cli_runner().invoke(args=["places", "load"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "0 administrative units added."
    with app.app_context():
        db.session.remove()
    session.rollback()
    assert session.scalar(select(func.count()).select_from(places.AdminUnit)) == before
    assert before >= len(_rows()) + 1  # the country, every row, the demo's extra villages
