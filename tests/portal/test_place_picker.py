"""Place pickers: names in the reader's language by hierarchy, starting on the user's unit."""

from __future__ import annotations

import re

import lxml.html
import pytest

from portal.forms import collation_key
from tests.conftest import login_as, translated
from tests.factories.volunteers import unit, user

KATO = re.compile(r"\d{9}")


def _picker(response):
    page = lxml.html.fromstring(response.get_data(as_text=True))
    (select,) = page.xpath('//select[@name="unit_id"]')
    return page, select


def test_coordinators_picker_shows_names_by_district_and_starts_on_their_unit(app, session):
    coordinator = user(session, "coordinator@demo.kz")
    (own,) = coordinator.scope("coordinator")
    police = app.test_client()
    login_as(police, "coordinator@demo.kz")
    page, select = _picker(police.get("/volunteers/applications/new"))
    lang = page.get("lang")
    options = select.xpath(".//option")
    labels = [o.text_content().strip() for o in options]
    assert labels and not any(KATO.search(label) for label in labels), labels
    # The user's own jurisdiction, not the list's first unit (Karaganda city before).
    assert [o.get("value") for o in options if o.get("selected") is not None] == [str(own)]
    botakara = unit(session, "354030100")
    assert botakara.name(lang) in labels
    district = unit(session, "354000000")
    region = session.get(type(district), district.parent_id)
    groups = [g.get("label") for g in select.xpath(".//optgroup")]
    assert f"{district.name(lang)}, {region.name(lang)}" in groups, groups
    # The settlement sits in its district's group; the filter box may match it by KATO code.
    (option,) = select.xpath(f'.//option[@value="{botakara.id}"]')
    assert option.getparent().get("label").startswith(district.name(lang))
    assert "354030100" in option.get("data-search")
    assert select.get("data-place-filter")


def test_citizens_picker_is_in_russian_and_starts_on_their_home_unit(app, session):
    volunteer = user(session, "volunteer@demo.kz")
    volunteer.preferred_language = "ru"
    session.commit()
    citizen = app.test_client()
    login_as(citizen, "volunteer@demo.kz")
    page, select = _picker(citizen.get("/apply"))
    assert page.get("lang") == "ru"
    chosen = select.xpath(".//option[@selected]")
    assert [o.get("value") for o in chosen] == [str(volunteer.unit_id)]
    home = unit(session, "354030100")
    labels = [o.text_content().strip() for o in select.xpath(".//option")]
    assert home.name_ru in labels and home.name_kk not in labels
    assert not any(KATO.search(label) for label in labels)


def test_anonymous_sign_up_has_no_preset_place_and_asks_to_choose(app, session):
    visitor = app.test_client()
    page, select = _picker(visitor.get("/signup", headers={"Accept-Language": "ru"}))
    chosen = select.xpath(".//option[@selected]")
    assert (
        len(chosen) == 1 and chosen[0].get("value") == "" and chosen[0].get("disabled") is not None
    )
    response = visitor.post(
        "/signup",
        data={
            "full_name": "Асқар",
            "email": "a@example.kz",
            "password": "x" * 12,
            "confirm": "x" * 12,
        },
        headers={"Accept-Language": "ru"},
    )
    assert response.status_code == 422
    page, select = _picker(response)
    error = page.get_element_by_id(select.get("aria-describedby").split()[-1])
    assert translated(app, "Choose a place from the list.", "ru") in error.text_content()


def test_places_sort_in_kazakh_alphabetical_order():
    names = ["Іле", "Үржар", "Ақсуат", "Абай", "Талғар", "Ырғыз"]
    assert sorted(names, key=collation_key) == ["Абай", "Ақсуат", "Талғар", "Үржар", "Ырғыз", "Іле"]


def test_a_renamed_place_shows_its_new_name_in_the_next_picker(app, session):
    """The pickers' lists are kept by their units' rows: a rename is seen on the next page."""
    from core import accounts, place_admin

    coordinator = app.test_client()
    login_as(coordinator, "coordinator@demo.kz")
    botakara = unit(session, "354030100")
    before = _picker(coordinator.get("/volunteers/applications/new"))[1]
    (option,) = before.xpath(f'.//option[@value="{botakara.id}"]')
    assert "Жаңа Ботакара" not in option.text_content()
    place_admin.rename_unit(
        session,
        unit_id=botakara.id,
        name_kk="Жаңа Ботакара",
        name_ru="Новая Ботакара",
        actor_id=accounts.find_by_login(session, "admin@demo.kz").id,
    )
    session.commit()
    after = _picker(coordinator.get("/volunteers/applications/new"))[1]
    (option,) = after.xpath(f'.//option[@value="{botakara.id}"]')
    assert option.text_content().strip() in ("Жаңа Ботакара", "Новая Ботакара")
    assert "жаңа ботакара новая ботакара 354030100" in option.get("data-search")


# Per-dialect SQL: the units above the scope are found by their paths.
@pytest.mark.both_databases
def test_a_picker_reads_its_places_and_the_units_above_them_in_one_statement(app, session):
    """A district's picker names its places under the district and the region above it: both
    come with the places, in the one statement the picker runs (it used to run two)."""
    from sqlalchemy import event

    from portal.extensions import db

    coordinator = app.test_client()
    login_as(coordinator, "coordinator@demo.kz")
    coordinator.get("/volunteers/applications/new")
    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def collect(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", collect)
    try:
        page, select = _picker(coordinator.get("/volunteers/applications/new"))
    finally:
        event.remove(engine, "before_cursor_execute", collect)
    district = unit(session, "354000000")
    region = session.get(type(district), district.parent_id)
    lang = page.get("lang")
    groups = [g.get("label") for g in select.xpath(".//optgroup")]
    assert f"{district.name(lang)}, {region.name(lang)}" in groups, groups
    picker = [s for s in seen if "admin_unit.path, admin_unit.level, admin_unit.kato" in s]
    assert len(picker) == 1, picker
