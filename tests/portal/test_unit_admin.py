"""The administrative units page: search, add and rename, within the admin's jurisdiction."""

from __future__ import annotations

from sqlalchemy import func, select

from core import accounts, audit, places
from tests.conftest import audit_count, login_as, translated

REGION, DISTRICT, ALMATY = "350000000", "354000000", "750000000"
REGIONAL = "units.regional@demo.kz"


def _regional_admin(session) -> None:
    region = places.by_kato(session, REGION)
    user = accounts.create_user(
        session,
        email=REGIONAL,
        phone=None,
        full_name="Units Regional",
        preferred_language="ru",
        unit_id=region.id,
        password="regional admin password",
        actor_id=None,
    )
    accounts.grant_role(session, user_id=user.id, role="admin", unit_id=region.id, actor_id=None)
    session.commit()


def _counts(session) -> tuple[int, int]:
    session.rollback()
    return (
        session.scalar(select(func.count()).select_from(places.AdminUnit)),
        session.scalar(select(func.count()).select_from(audit.AuditEvent)),
    )


def _new(parent_id: int, **fields) -> dict:
    return {
        "parent_id": str(parent_id),
        "level": "rural_okrug",
        "kato": "354099000",
        "name_kk": "Жаңа ауылдық округі",
        "name_ru": "Новый сельский округ",
        **fields,
    }


def test_admin_adds_and_renames_a_unit_in_three_languages(app, client, session):
    login_as(client, "admin@demo.kz")
    district = places.by_kato(session, DISTRICT)
    listing = client.get("/admin/units?q=3540")
    assert listing.status_code == 200 and "354030100" in listing.text
    assert "355600000" not in listing.text
    assert client.get(f"/admin/units/new?parent={district.id}").status_code == 200
    response = client.post("/admin/units/new", data=_new(district.id))
    assert response.status_code == 302
    session.rollback()
    unit = places.by_kato(session, "354099000")
    assert unit.parent_id == district.id and audit_count(
        session, "admin_unit.create", "admin_unit", unit.id
    )
    rename = f"/admin/units/{unit.id}/rename"
    assert client.get(rename).status_code == 200
    data = {"name_kk": "Ескі ауылдық округі", "name_ru": "Старый сельский округ"}
    assert client.post(rename, data=data).status_code == 302
    session.rollback()
    assert places.by_kato(session, "354099000").name_ru == "Старый сельский округ"
    assert audit_count(session, "admin_unit.rename", "admin_unit", unit.id) == 1
    # The page in every language, the trail naming the rename.
    for lang, name in (("kk", "Ескі ауылдық округі"), ("ru", "Старый сельский округ")):
        client.post("/language", data={"lang": lang})
        page = client.get("/admin/units?q=354099")
        assert name in page.text, lang
        trail = client.get(rename).text
        assert translated(app, "Administrative unit renamed", lang) in trail, lang
    client.post("/language", data={"lang": "en"})
    assert "Administrative units" in client.get("/admin/units").text


def test_search_finds_by_name_in_either_language(app, client, session):
    login_as(client, "admin@demo.kz")
    assert "111000000" in client.get("/admin/units?q=Кокшетау").text
    assert "111000000" in client.get("/admin/units?q=Көкшетау").text
    assert "111000000" not in client.get("/admin/units?q=Павлодар").text
    # Any case on SQLite too, and a Kazakh name typed on a Russian keyboard (core.search_text).
    assert "111000000" in client.get("/admin/units?q=КӨКШЕТАУ").text
    assert "111000000" in client.get("/admin/units?q=кокшетау").text
    assert client.get("/admin/units?q=%25").status_code == 200


def test_regional_admin_is_kept_to_the_region(app, client, session):
    _regional_admin(session)
    login_as(client, REGIONAL)
    almaty = places.by_kato(session, ALMATY)
    region = places.by_kato(session, REGION)
    country = places.by_kato(session, places.COUNTRY_KATO)
    listing = client.get("/admin/units?q=75")
    assert listing.status_code == 200 and "750000000" not in listing.text
    before = _counts(session)
    # Another region's unit does not exist for them; a parent outside is not a choice.
    assert client.get(f"/admin/units/{almaty.id}/rename").status_code == 404
    data = {"name_kk": "А", "name_ru": "Б"}
    assert client.post(f"/admin/units/{almaty.id}/rename", data=data).status_code == 404
    for parent in (almaty, country):
        response = client.post("/admin/units/new", data=_new(parent.id, kato="759900000"))
        assert response.status_code == 400
    # Their own region is theirs to read but not to rename (the unit above it is not).
    refused = client.post(f"/admin/units/{region.id}/rename", data=data)
    assert refused.status_code == 403
    assert _counts(session) == before
    # Below the region, they add.
    district = places.by_kato(session, DISTRICT)
    assert client.post("/admin/units/new", data=_new(district.id)).status_code == 302


def test_bad_input_is_a_4xx_with_a_message_and_nothing_written(app, client, session):
    login_as(client, "admin@demo.kz")
    district = places.by_kato(session, DISTRICT).id
    before = _counts(session)
    cases = [
        (_new(district, kato="12345"), 400, None),
        (_new(district, kato="36409900x"), 422, "A KATO code has exactly 9 digits."),
        (
            _new(district, kato="364099000"),
            422,
            "A KATO code under this unit begins with %(prefix)s.",
        ),
        (
            _new(district, level="region"),
            422,
            "A unit of this level cannot lie under the chosen unit.",
        ),
        (_new(district, level="nation"), 400, None),
        (
            _new(district, kato="354030100", level="settlement"),
            409,
            "A unit with this KATO code already exists.",
        ),
        (_new(district, name_ru=""), 400, None),
    ]
    for data, status, msgid in cases:
        response = client.post("/admin/units/new", data=data)
        assert response.status_code == status, data
        if msgid:
            expected = translated(app, msgid, "en", prefix="3540") if "%(" in msgid else msgid
            assert expected in response.text, data
    unit = places.by_kato(session, "354030100")
    same = {"name_kk": unit.name_kk, "name_ru": unit.name_ru}
    assert client.post(f"/admin/units/{unit.id}/rename", data=same).status_code == 422
    assert _counts(session) == before


def test_other_roles_get_403(app, client, session):
    login_as(client, "coordinator@demo.kz")
    assert client.get("/admin/units").status_code == 403
    assert client.post("/admin/units/new", data={}).status_code == 403
