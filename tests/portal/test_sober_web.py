"""Sober settlements in the browser: registry, indicators and their import, initiatives, the
public page, and who may see what."""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import load_workbook
from sqlalchemy import func, select

import sober
from core import accounts, clock
from core.db import utcnow
from core.scope import Scope
from incentives.sober_models import IndicatorValue, Initiative, SoberDeclaration
from tests.conftest import login, login_as, translated, wait_for_jobs
from tests.factories.volunteers import unit, user

BOTAKARA = "354030100"  # Bukhar-Zhyrau district, the demo coordinator's
GABIDEN = "354081100"  # Bukhar-Zhyrau district
OSAKAROVKA = "355630100"  # Osakarov district: another district


def _today() -> dt.date:
    return clock.local_date(utcnow())


def _declaration_form(session, **overrides) -> dict:
    data = {
        "unit_id": str(unit(session, BOTAKARA).id),
        "gathered_on": (_today() - dt.timedelta(days=30)).isoformat(),
        "attendance": "215",
        "record_reference": "Хаттама № 7",
        "outlets-0-name": "«Береке» дүкені",
        "outlets-0-stopped_on": (_today() - dt.timedelta(days=29)).isoformat(),
    }
    for i in range(6):
        data[f"signatories-{i}-full_name"] = ""
        data[f"signatories-{i}-role"] = "other"
    data["signatories-0-full_name"] = "Серіков Ерлан"
    data["signatories-0-role"] = "rural_akim"
    data["signatories-1-full_name"] = "Оспанов Арман"
    data["signatories-1-role"] = "police_inspector"
    data.update(overrides)
    return data


def _declarations(session) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(SoberDeclaration))


def _declare_directly(session, kato: str, confirm: bool = True) -> SoberDeclaration:
    """A declaration recorded by a region-level actor, for set-up."""
    region = unit(session, "350000000")
    actor = user(session, "registrar@demo.kz")
    declaration = sober.declare(
        session,
        unit_id=unit(session, kato).id,
        gathered_on=dt.date(2025, 6, 1),
        attendance=150,
        record_reference="Хаттама",
        record_file_id=None,
        signatories=[("Жасырын Есім Ақсақал", "elders_council")],
        outlets=[],
        actor_id=actor.id,
        scope=Scope.within([region.id]),
        today=_today(),
    )
    if confirm:
        sober.confirm(
            session,
            declaration_id=declaration.id,
            actor_id=actor.id,
            scope=Scope.within([region.id]),
        )
    session.commit()
    return declaration


def test_coordinator_declares_with_a_pdf_and_bad_input_is_refused(app, client, session):
    login_as(client, "coordinator@demo.kz")
    assert client.get("/sober/declare").status_code == 200
    before = _declarations(session)
    future = (_today() + dt.timedelta(days=1)).isoformat()
    for overrides, message, status in [
        ({"gathered_on": future}, "The date of the gathering cannot be in the future.", 422),
        ({"gathered_on": ""}, "Enter the date of the gathering.", 422),
        (
            {"attendance": "0"},
            "Enter how many residents attended the gathering (more than zero).",
            422,
        ),
    ]:
        response = client.post("/sober/declare", data=_declaration_form(session, **overrides))
        assert response.status_code == status, overrides
        assert translated(app, message, "kk") in response.text
        assert _declarations(session) == before
    data = _declaration_form(session, record_reference="")
    data["record_file"] = (io.BytesIO(b"%PDF-1.4\n1 0 obj\n%%EOF"), "хаттама.pdf")
    response = client.post("/sober/declare", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert "Серіков Ерлан" in page.text and "«Береке» дүкені" in page.text
    session.rollback()
    declaration = session.scalar(select(SoberDeclaration).order_by(SoberDeclaration.id.desc()))
    assert declaration.status == "declared" and declaration.record_file_id
    pdf = client.get(f"/sober/declarations/{declaration.id}/record")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    # Not a PDF: refused with a message, nothing stored.
    data = _declaration_form(session, unit_id=str(unit(session, GABIDEN).id), record_reference="")
    data["record_file"] = (io.BytesIO(b"MZ not a pdf"), "record.pdf")
    response = client.post("/sober/declare", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert translated(app, "The record of the gathering must be a PDF file.", "kk") in response.text
    assert _declarations(session) == before + 1


def test_confirm_revoke_and_confirming_a_revoked_status_is_refused(app, client, session):
    login_as(client, "coordinator@demo.kz")
    client.post("/sober/declare", data=_declaration_form(session))
    session.rollback()
    declaration = session.scalar(select(SoberDeclaration).order_by(SoberDeclaration.id.desc()))
    url = f"/sober/declarations/{declaration.id}"
    assert client.post(url + "/confirm").status_code == 302
    missing = client.post(url + "/revoke", data={"reason": ""})
    assert missing.status_code == 422
    assert translated(app, "Write the reason for revoking the status.", "kk") in missing.text
    assert client.post(url + "/revoke", data={"reason": "Дүкен қайта сатады"}).status_code == 302
    refused = client.post(url + "/confirm")
    assert refused.status_code == 409
    assert (
        translated(
            app, "A revoked status cannot be confirmed. Record a new declaration instead.", "kk"
        )
        in refused.text
    )
    session.rollback()
    found = session.get(SoberDeclaration, declaration.id)
    assert found.status == "revoked"
    assert [h.to_status for h in found.history] == ["declared", "confirmed", "revoked"]
    page = client.get(url).text
    assert "Дүкен қайта сатады" in page
    # The deputy reads the record but cannot act on it.
    other = app.test_client()
    login_as(other, "deputy@demo.kz")
    assert other.get(url).status_code == 200
    assert other.post(url + "/confirm").status_code == 403


def test_coordinator_records_indicators_and_bad_values_are_refused(app, client, session):
    login_as(client, "coordinator@demo.kz")
    settlement = unit(session, BOTAKARA).id
    last_year, last_q = sober.shift_quarter(sober.quarter_of(_today()), -1)
    next_year, next_q = sober.shift_quarter(sober.quarter_of(_today()), 1)
    good = {
        "unit_id": str(settlement),
        "kind": "alcohol_crimes",
        "year": str(last_year),
        "quarter": str(last_q),
        "value": "4",
    }
    assert client.get("/sober/indicators/new").status_code == 200
    assert client.post("/sober/indicators/new", data=good).status_code == 302
    for overrides, message, status in [
        ({"value": "-2"}, "The value cannot be negative.", 422),
        (
            {"year": str(next_year), "quarter": str(next_q)},
            "A value cannot be recorded for a future quarter.",
            422,
        ),
        (
            {"value": "9"},
            "%(year)s Q%(quarter)s is already recorded for this settlement and kind.",
            409,
        ),
    ]:
        response = client.post("/sober/indicators/new", data={**good, **overrides})
        assert response.status_code == status, overrides
        expected = translated(app, message, "kk", year=last_year, quarter=last_q)
        if "%(" not in message:
            expected = translated(app, message, "kk")
        assert expected in response.text
    session.rollback()
    values = session.scalars(
        select(IndicatorValue.value).where(IndicatorValue.unit_id == settlement)
    ).all()
    assert values == [4]
    page = client.get(f"/sober/settlements/{settlement}")
    assert page.status_code == 200 and "<svg" in page.text and "<table" in page.text


def test_indicator_import_job_reports_bad_rows(app, client, session):
    login_as(client, "coordinator@demo.kz")
    year, quarter = sober.shift_quarter(sober.quarter_of(_today()), -1)
    content = (
        "kato,kind,year,quarter,value\n"
        f"{BOTAKARA},alcohol_crimes,{year},{quarter},2\n"
        f"{BOTAKARA},public_drinking,{year},{quarter},5\n"
        f"{BOTAKARA},alcohol_crimes,{year},{quarter},-3\n"
        f"{OSAKAROVKA},alcohol_crimes,{year},{quarter},1\n"
        f"{BOTAKARA},alcohol_crimes,{year + 1},{quarter},1\n"
        f"{BOTAKARA},=HYPERLINK(1),{year},{quarter},1\n"
        f"{BOTAKARA},alcohol_crimes,{year},{quarter},2\n"
    ).encode()
    bad = client.post(
        "/sober/indicators/import",
        data={"file": (io.BytesIO(b"a,b\n1,2\n"), "x.csv")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422
    response = client.post(
        "/sober/indicators/import",
        data={"file": (io.BytesIO(content), "indicators.csv")},
        content_type="multipart/form-data",
    )
    page = response.headers["Location"]
    wait_for_jobs(app)
    status = client.get(page + "/status.json").get_json()
    assert status["status"] == "succeeded", status
    counts = {k: status["result"][k] for k in ("read", "imported", "duplicates", "rejected")}
    # Each row counted once (issue 19, finding 6): the duplicate is not also "rejected".
    assert counts == {"read": 7, "imported": 2, "duplicates": 1, "rejected": 4}
    assert client.get(page).status_code == 200
    report = client.get(status["result_url"])
    book = load_workbook(io.BytesIO(report.data))
    cells = [c for row in book.worksheets[0].iter_rows() for c in row]
    assert [r[0] for r in book.worksheets[0].iter_rows(min_row=2, values_only=True)] == [
        4,
        5,
        6,
        7,
        8,
    ]
    assert not [c.coordinate for c in cells if c.data_type == "f"]  # a planted formula is text
    session.rollback()
    assert session.scalar(select(func.count()).select_from(IndicatorValue)) == 2


def test_initiative_submitted_reviewed_and_commented(app, client, session):
    login_as(client, "volunteer@demo.kz")
    form = {
        "unit_id": str(unit(session, BOTAKARA).id),
        "proposer_role": "activist",
        "title": "Ішімдіксіз той",
        "description": "Тойлар алкогольсіз өтеді",
        "measures": "Кездесулер мен спорт",
        "team": "Ауыл белсенділері",
        "requested_incentive": "Алғыс хат",
    }
    outside = client.post(
        "/sober/initiatives/new", data={**form, "unit_id": str(unit(session, OSAKAROVKA).id)}
    )
    assert outside.status_code == 400  # not among the settlements offered
    response = client.post("/sober/initiatives/new", data=form)
    assert response.status_code == 302
    url = response.headers["Location"]
    initiative_id = int(url.rsplit("/", 1)[1])
    assert "Ішімдіксіз той" in client.get(url).text
    assert client.post(url + "/review", data={"to_status": "under_review"}).status_code == 403
    coordinator = app.test_client()
    login_as(coordinator, "coordinator@demo.kz")
    assert "Ішімдіксіз той" in coordinator.get("/sober/initiatives").text
    assert coordinator.post(url + "/review", data={"to_status": "supported"}).status_code == 400
    assert (
        coordinator.post(
            url + "/review", data={"to_status": "under_review", "comment": "Қарап жатырмыз"}
        ).status_code
        == 302
    )
    # Declining is an act after a hearing (issue 20): the review form refuses it.
    declined = coordinator.post(url + "/review", data={"to_status": "declined", "comment": ""})
    assert declined.status_code == 409
    refusal = (
        "An initiative is declined only by an act adopted after a hearing: "
        "prepare a preliminary decision first."
    )
    assert translated(app, refusal, "kk") in declined.text
    assert client.post(url + "/comments", data={"body": "Рақмет!"}).status_code == 302
    assert coordinator.post(url + "/review", data={"to_status": "supported"}).status_code == 302
    session.rollback()
    found = session.get(Initiative, initiative_id)
    assert found.status == "supported"
    assert [c.to_status for c in found.comments] == ["under_review", None, "supported"]
    page = client.get(url).text
    assert "Қарап жатырмыз" in page and "Рақмет!" in page
    # Someone else's initiative is not theirs to see.
    stranger = app.test_client()
    login_as(stranger, "finance@demo.kz")
    assert stranger.get(url).status_code == 404


def test_public_page_without_login_shows_confirmed_settlements_only(app, client, session):
    confirmed = _declare_directly(session, OSAKAROVKA)
    _declare_directly(session, BOTAKARA, confirm=False)
    settlement = unit(session, OSAKAROVKA)
    rows = [
        {
            "kato": OSAKAROVKA,
            "kind": "alcohol_crimes",
            "year": str(y),
            "quarter": str(q),
            "value": v,
        }
        for (y, q), v in [
            *[(q, "4") for q in sober.quarters_between((2021, 1), (2025, 1))],
            ((2025, 3), "2"),
            ((2025, 4), "2"),
        ]
    ]
    sober.import_indicator_rows(
        session,
        rows,
        actor_id=user(session, "registrar@demo.kz").id,
        scope=Scope.within([unit(session, "350000000").id]),
        today=_today(),
    )
    session.commit()
    home = client.get("/")
    assert 'href="/sober-settlements"' in home.text
    page = client.get("/sober-settlements")
    assert page.status_code == 200
    assert settlement.name_kk in page.text
    assert unit(session, BOTAKARA).name_kk not in page.text  # declared, not yet confirmed
    assert "-50" in page.text  # 4 a quarter before, 2 after
    assert "Жасырын Есім Ақсақал" not in page.text  # no signatories, no people
    assert "Хаттама" not in page.text
    assert confirmed.id and "<svg" in page.text


def test_access_across_districts(app, client, session):
    other = _declare_directly(session, OSAKAROVKA, confirm=False)
    osakarovka = unit(session, OSAKAROVKA).id
    login_as(client, "coordinator@demo.kz")
    assert client.get(f"/sober/declarations/{other.id}").status_code == 404
    assert client.post(f"/sober/declarations/{other.id}/confirm").status_code == 404
    assert (
        client.post(f"/sober/declarations/{other.id}/revoke", data={"reason": "x"}).status_code
        == 404
    )
    assert client.get(f"/sober/settlements/{osakarovka}").status_code == 404
    assert client.get(f"/sober/districts/{unit(session, '355600000').id}").status_code == 404
    assert osakarovka and "Осакаров" not in client.get("/sober").text
    outside = client.post(
        "/sober/indicators/new",
        data={
            "unit_id": str(osakarovka),
            "kind": "alcohol_crimes",
            "year": "2025",
            "quarter": "1",
            "value": "1",
        },
    )
    assert outside.status_code == 400
    session.rollback()
    assert session.get(SoberDeclaration, other.id).status == "declared"
    volunteer = app.test_client()
    login_as(volunteer, "volunteer@demo.kz")
    assert volunteer.get("/sober").status_code == 403
    assert volunteer.get(f"/sober/declarations/{other.id}").status_code == 403
    assert volunteer.get("/sober/indicator-kinds").status_code == 403
    deputy = app.test_client()
    login(deputy, "deputy@demo.kz")  # the whole region, read only
    assert deputy.get(f"/sober/declarations/{other.id}").status_code == 200
    assert deputy.get(f"/sober/districts/{unit(session, '355600000').id}").status_code == 200
    assert deputy.get("/sober/declare").status_code == 403


def test_admin_adds_an_indicator_kind(app, client, session):
    login_as(client, "admin@demo.kz")
    response = client.post(
        "/sober/indicator-kinds",
        data={
            "code": "hooliganism",
            "name_kk": "Бұзақылық",
            "name_ru": "Хулиганство",
            "name_en": "Hooliganism",
            "position": "40",
            "active": "y",
        },
    )
    assert response.status_code == 302
    assert "Hooliganism" in client.get("/sober/indicator-kinds").text
    coordinator = app.test_client()
    login_as(coordinator, "coordinator@demo.kz")
    assert "hooliganism" in coordinator.get("/sober/indicators/new").text


def test_demo_loader_is_idempotent(app, session):
    from demo import sober as demo_sober

    counts = demo_sober.load_sober(session)
    session.commit()
    assert counts["settlements"] == 20 and counts["initiatives"] == 5
    statuses = dict(
        session.execute(
            select(SoberDeclaration.status, func.count()).group_by(SoberDeclaration.status)
        ).all()
    )
    assert set(statuses) == {"declared", "confirmed", "revoked"}
    assert demo_sober.load_sober(session) == {}
    assert accounts.find_by_login(session, demo_sober.REGION_COORDINATOR) is not None
    initiative_states = set(session.scalars(select(Initiative.status)))
    assert {"submitted", "under_review", "supported", "declined"} <= initiative_states
