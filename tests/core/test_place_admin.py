"""Administrators add and rename units: audited, within their jurisdiction, valid codes only."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core import accounts, audit, place_admin, places
from core.errors import Conflict, DomainError, PermissionDenied

REGION, DISTRICT, ALMATY = "350000000", "354000000", "750000000"


def _admin(session, kato: str) -> int:
    user = accounts.create_user(
        session,
        email=f"admin.{kato}@demo.kz",
        phone=None,
        full_name="Regional Administrator",
        preferred_language="ru",
        unit_id=places.by_kato(session, kato).id,
        password="regional admin password",
        actor_id=None,
    )
    unit_id = places.by_kato(session, kato).id
    accounts.grant_role(session, user_id=user.id, role="admin", unit_id=unit_id, actor_id=None)
    return user.id


def _counts(session) -> tuple[int, int]:
    return (
        session.scalar(select(func.count()).select_from(places.AdminUnit)),
        session.scalar(select(func.count()).select_from(audit.AuditEvent)),
    )


# Both databases: the audit chain's append lock is taken before the checks.
@pytest.mark.both_databases
def test_add_and_rename_are_audited_with_old_and_new_names(app, session):
    actor = _admin(session, REGION)
    district = places.by_kato(session, DISTRICT)
    unit = place_admin.create_unit(
        session,
        parent_id=district.id,
        kato="354099000",
        level="rural_okrug",
        name_kk=" Жаңа ауылдық округі ",
        name_ru="Новый сельский округ",
        actor_id=actor,
    )
    assert unit.path == f"{district.path}{unit.id}/" and unit.name_kk == "Жаңа ауылдық округі"
    place_admin.rename_unit(
        session, unit_id=unit.id, name_kk="Ескі округ", name_ru="Старый округ", actor_id=actor
    )
    assert places.by_kato(session, "354099000").name_ru == "Старый округ"
    created, renamed = reversed(audit.events_for(session, "admin_unit", unit.id))
    assert (created.action, created.actor_id) == ("admin_unit.create", actor)
    assert created.data["kato"] == "354099000" and created.data["level"] == "rural_okrug"
    assert renamed.action == "admin_unit.rename"
    assert renamed.data["old"] == {
        "name_kk": "Жаңа ауылдық округі",
        "name_ru": "Новый сельский округ",
    }
    assert renamed.data["new"] == {"name_kk": "Ескі округ", "name_ru": "Старый округ"}
    assert audit.verify_chain(session).ok


def test_only_the_country_admin_adds_a_top_level_unit(app, session):
    country = places.by_kato(session, places.COUNTRY_KATO)
    regional = _admin(session, REGION)
    national = accounts.find_by_login(session, "admin@demo.kz").id
    fields = dict(kato="990000000", level="region", name_kk="Жаңа облыс", name_ru="Новая область")
    before = _counts(session)
    with pytest.raises(PermissionDenied):
        place_admin.create_unit(session, parent_id=country.id, actor_id=regional, **fields)
    assert _counts(session) == before
    unit = place_admin.create_unit(session, parent_id=country.id, actor_id=national, **fields)
    assert unit.level == "region" and unit.path == f"{country.path}{unit.id}/"


def test_outside_the_jurisdiction_nothing_is_written(app, session):
    actor = _admin(session, REGION)
    before = _counts(session)
    with pytest.raises(PermissionDenied):
        place_admin.create_unit(
            session,
            parent_id=places.by_kato(session, ALMATY).id,
            kato="751900000",
            level="district",
            name_kk="А",
            name_ru="Б",
            actor_id=actor,
        )
    # A regional administrator renames units below the region, not the region itself.
    for kato in (ALMATY, REGION):
        with pytest.raises(PermissionDenied):
            place_admin.rename_unit(
                session,
                unit_id=places.by_kato(session, kato).id,
                name_kk="А",
                name_ru="Б",
                actor_id=actor,
            )
    assert _counts(session) == before


@pytest.mark.parametrize(
    ("kato", "level", "names", "error"),
    [
        ("35409900", "rural_okrug", ("А", "Б"), place_admin.UnitRefused),  # 8 digits
        ("35409900x", "rural_okrug", ("А", "Б"), place_admin.UnitRefused),
        ("３５４０９９０００", "rural_okrug", ("А", "Б"), place_admin.UnitRefused),  # full width
        ("364099000", "rural_okrug", ("А", "Б"), place_admin.UnitRefused),  # another district
        ("354099000", "region", ("А", "Б"), place_admin.UnitRefused),  # level under a district
        ("354099000", "nation", ("А", "Б"), place_admin.UnitRefused),
        ("354099000", "rural_okrug", ("", "Б"), place_admin.UnitRefused),
        ("354099000", "rural_okrug", ("А", "x" * 201), place_admin.UnitRefused),
        ("354099000", "rural_okrug", ("А\nB", "Б"), place_admin.UnitRefused),
        # An IIN-like number would be refused by the audit chain: a 500 (found by fuzzing).
        ("354099000", "rural_okrug", ("000000000000", "Б"), place_admin.UnitRefused),
        ("354030100", "settlement", ("А", "Б"), Conflict),  # Botakara exists
    ],
)
def test_bad_units_are_refused_and_nothing_is_written(app, session, kato, level, names, error):
    actor = _admin(session, REGION)
    before = _counts(session)
    with pytest.raises(error) as refused:
        place_admin.create_unit(
            session,
            parent_id=places.by_kato(session, DISTRICT).id,
            kato=kato,
            level=level,
            name_kk=names[0],
            name_ru=names[1],
            actor_id=actor,
        )
    assert isinstance(refused.value, DomainError) and 400 <= refused.value.status < 500
    assert _counts(session) == before


def test_kato_prefix_follows_the_code_structure(app, session):
    def prefix(kato):
        return place_admin.kato_prefix(session, places.by_kato(session, kato))

    assert prefix(places.COUNTRY_KATO) == ""
    assert (prefix(REGION), prefix(ALMATY), prefix(DISTRICT)) == ("35", "75", "3540")
    assert (prefix("351000000"), prefix("355635000")) == ("3510", "355635")
