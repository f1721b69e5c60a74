"""Search boxes of the register, the applications and the accounts: names in any case and
spelling, certificate numbers as printed, whole IINs by their blind index, always in scope."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text

from core import accounts
from core.scope import Scope
from portal.volunteers.roles import VETTING
from tests.conftest import login_as
from tests.factories.volunteers import TODAY, fields, iin_for, make_member, user
from volunteers import enrolment, erasure, importing, queries, register
from volunteers.models import Application, Member

# Both databases: SQLite's lower() and LIKE ignore Cyrillic case, PostgreSQL's do not.
pytestmark = pytest.mark.both_databases

NAMES = {
    7801: "Иванов Иван Петрович",
    7802: "Айгерім Сейітқызы Нұрланова",
    7803: "Әбілқасымова Гүлмира Серікқызы",
}
ELSEWHERE = "Иванова Мария"  # registered in another district: outside the coordinator's scope
RENAMED = "Жұмабаев Иван Петрович"
# The names these tests give; the template's other members are no business of theirs.
KNOWN = {*NAMES.values(), ELSEWHERE, RENAMED}


def _register(session) -> dict[int, Member]:
    members = {}
    for serial, name in NAMES.items():
        member = make_member(session, serial)
        member.full_name = name  # a register edit: the search key follows the name
        members[serial] = member
    members[7804] = make_member(session, 7804, kato="355630100")
    members[7804].full_name = ELSEWHERE
    session.commit()
    return members


def _found(client, q: str, page: str = "/volunteers/members") -> str:
    response = client.get(page, query_string={"q": q})
    assert response.status_code == 200, (q, response.status_code)
    return response.get_data(as_text=True)


def _names_found(client, q: str) -> set[str]:
    page = _found(client, q)
    return {n for n in [*NAMES.values(), ELSEWHERE] if n in page}


def _coordinator_finds(session, q: str) -> set[str]:
    """The names the register's search gives the demo coordinator (one district), as the page
    reads them: the coordinator's scope, and IINs where they vet (that same district)."""
    scope = Scope.of(user(session, "coordinator@demo.kz"), *VETTING)
    stmt = queries.members(scope).where(queries.member_search(q, iin_scope=scope))
    return set(session.scalars(stmt.with_only_columns(Member.full_name))) & KNOWN


def test_register_finds_names_in_any_case_and_spelling_and_follows_renames_and_erasure(
    app, session
):
    members = _register(session)
    ivanov, aigerim, abilkasymova = NAMES.values()
    for typed, expected in {
        "Иванов": ivanov,
        "иванов": ivanov,
        "ИВАНОВ": ivanov,
        "иван петр": ivanov,  # the beginnings of two words
        "Айгерім": aigerim,
        "айгерім": aigerim,
        "АЙГЕРІМ": aigerim,
        "Айгерим": aigerim,  # typed on a Russian keyboard
        "Нұрланова": aigerim,
        "Әбілқасымова": abilkasymova,
        "әбілқасымова": abilkasymova,
        "ӘБІЛҚАСЫМОВА": abilkasymova,
        "Абилкасымова": abilkasymova,
        "гүлмира": abilkasymova,
    }.items():
        assert _coordinator_finds(session, typed) == {expected}, typed
    # Words begin words: the middle of a name is not a match, nor is punctuation alone.
    assert _coordinator_finds(session, "ванов") == set()
    assert _coordinator_finds(session, "%") == set()
    # The page itself, on both databases.
    client = app.test_client()
    login_as(client, "coordinator@demo.kz")
    assert _names_found(client, "ӘБІЛҚАСЫМОВА") == {abilkasymova}
    # A register edit renames: found by the new name only.
    members[7801].full_name = RENAMED
    session.commit()
    assert _coordinator_finds(session, "иванов") == set()
    assert _coordinator_finds(session, "жумабаев") == {RENAMED}
    # Erased by retention: found by nothing at all.
    register.change_status(
        session,
        member_id=members[7803].id,
        to_status="expelled",
        reason="Тәртіп бұзғаны үшін",
        actor_id=user(session, "registrar@demo.kz").id,
    )
    session.commit()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=37 * 31)
    after = 0
    while (batch := erasure.erase_due(session, now=later, after_id=after)).last_id is not None:
        session.commit()
        after = batch.last_id
    session.commit()
    session.expire_all()
    assert session.get(Member, members[7803].id).search_name == ""
    application = session.get(Application, members[7803].application_id)
    assert application.erased_at is not None and application.search_name == ""
    assert _coordinator_finds(session, "Әбілқасымова") == set()
    assert _coordinator_finds(session, erasure.ERASED_NAME) == set()


def test_register_finds_a_whole_iin_and_a_certificate_as_printed_and_nothing_out_of_scope(
    app, session
):
    members = _register(session)
    ivanov = members[7801]
    iin = iin_for(7801)
    assert _coordinator_finds(session, iin) == {ivanov.full_name}
    assert _coordinator_finds(session, f"{iin[:6]} {iin[6:]}") == {ivanov.full_name}
    assert _coordinator_finds(session, iin[:11]) == set()  # a part of an IIN finds nobody
    number = ivanov.certificate_no
    kato, year, seq = number.split("-")
    for typed in (number, f"№{kato} {year} {int(seq)}"):
        assert _coordinator_finds(session, typed) == {ivanov.full_name}, typed
    # Outside the coordinator's district: not by name, not by IIN, not by certificate.
    elsewhere = members[7804]
    for typed in ("Иванова", iin_for(7804), elsewhere.certificate_no):
        assert ELSEWHERE not in _coordinator_finds(session, typed), typed
    # The pages: the coordinator finds by "№ ..." and by IIN; a deputy (the whole region) finds
    # both by name, but an IIN is no lookup key for them.
    coordinator, deputy = app.test_client(), app.test_client()
    login_as(coordinator, "coordinator@demo.kz")
    login_as(deputy, "deputy@demo.kz")
    assert _names_found(coordinator, f"№ {number}") == {ivanov.full_name}
    assert _names_found(coordinator, iin) == {ivanov.full_name}
    assert _names_found(deputy, "иванов") == {ivanov.full_name, ELSEWHERE}
    assert _names_found(deputy, iin) == set()


def test_imported_members_get_their_search_key(app, session):
    report = importing.import_rows(
        session,
        [
            {
                "iin": iin_for(7811),
                "full_name": "ҚАСЫМОВ  Ерлан",
                "kind": "public_assistant",
                "kato": "354030100",
                "phone": "",
                "email": "",
                "address": "Ботақара 1",
                "issued_on": "",
            }
        ],
        actor_id=user(session, "registrar@demo.kz").id,
        scope=Scope.everywhere(),
        today=TODAY,
    )
    session.commit()
    assert not report.problems
    keys = session.scalars(
        select(Member.search_name).where(Member.full_name == "ҚАСЫМОВ Ерлан")
    ).all()
    assert keys == ["касымов ерлан"]


def test_applications_and_accounts_are_found_by_name_in_any_case(app, session):
    application = enrolment.submit_application(
        session, **fields(session, iin=iin_for(7821), full_name="Әбілқасымова Айгерім")
    )
    session.commit()
    coordinator, admin = app.test_client(), app.test_client()
    login_as(coordinator, "coordinator@demo.kz")
    login_as(admin, "admin@demo.kz")
    for typed in ("ӘБІЛҚАСЫМОВА", "абилкасымова айгерим", iin_for(7821)):
        page = _found(coordinator, typed, "/volunteers/applications")
        assert f"/volunteers/applications/{application.id}" in page, typed
    assert "Әбілқасымова" not in _found(coordinator, "Иванов", "/volunteers/applications")
    # The demo volunteer's account, "Айгерім Сапарова", in the admin's list of accounts.
    for typed in ("айгерім", "САПАРОВА", "Айгерим"):
        assert "Айгерім Сапарова" in _found(admin, typed, "/admin/users"), typed
    volunteer = user(session, "volunteer@demo.kz")
    accounts.update_profile(
        session,
        user_id=volunteer.id,
        email=volunteer.email,
        phone=volunteer.phone,
        full_name="Айгерім Нұрланова",
        preferred_language="kk",
        unit_id=volunteer.unit_id,
        actor_id=user(session, "admin@demo.kz").id,
    )
    session.commit()
    assert "Айгерім Нұрланова" in _found(admin, "нурланова", "/admin/users")
    assert "Айгерім" not in _found(admin, "сапарова", "/admin/users")


def test_a_row_without_a_key_is_found_by_its_name_as_typed(app, session):
    """A row the previous release wrote during a rolling upgrade has no key yet."""
    member = make_member(session, 7831)
    session.commit()
    session.execute(text("UPDATE member SET search_name = NULL WHERE id = :id"), {"id": member.id})
    session.commit()
    client = app.test_client()
    login_as(client, "coordinator@demo.kz")
    assert member.full_name in _found(client, member.full_name.split()[0])
