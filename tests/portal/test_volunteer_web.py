"""Enrolment in the browser's terms: citizen, coordinator, registrar, deputy, public check."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from babel.dates import format_date
from sqlalchemy import func, select

from core.notifications import Notification
from tests.conftest import DEMO_PASSWORD, login, login_as, translated, wait_for_jobs
from tests.factories.volunteers import iin_for, unit
from tests.portal.security.signin_steps import sign_up
from volunteers.models import Application, Member
from volunteers.persons import key_of


def _apply_as_citizen(app, session):
    citizen = app.test_client()
    home = unit(session, "354030100")
    response = sign_up(
        app,
        citizen,
        {
            "full_name": "Жанар Серікова",
            "email": "zhanar@example.kz",
            "phone": "",
            "preferred_language": "ru",
            "unit_id": home.id,
            "password": "my long passphrase",
            "confirm": "my long passphrase",
        },
    )
    assert response.status_code == 302
    page = citizen.get("/apply").data.decode()
    version = re.search(r'name="consent_version"[^>]*value="([^"]+)"', page)
    version = version.group(1) if version else "2026-1"
    response = citizen.post(
        "/apply",
        data={
            "kind": "patrol_member",
            "unit_id": home.id,
            "patrol_unit_id": 0,
            "iin": iin_for(7301, sex="female"),
            "full_name": "Жанар Серікова",
            "phone": "87011234567",
            "email": "",
            "address": "Ботақара, 12",
            "is_citizen": "y",
            "no_criminal_record": "y",
            "not_on_register": "y",
            "consent": "y",
            "consent_version": version,
        },
    )
    assert response.status_code == 302, response.data.decode()[:3000]
    session.rollback()
    return citizen, session.scalar(
        select(Application).where(Application.iin_index == key_of(iin_for(7301, sex="female")))
    )


def test_apply_vet_register_print_and_verify_in_the_browser(app, session):
    citizen, application = _apply_as_citizen(app, session)
    assert "Подано" in citizen.get("/my").data.decode() or application.status == "submitted"
    police = app.test_client()
    login_as(police, "coordinator@demo.kz")
    assert application.full_name in police.get("/volunteers/applications").data.decode()
    for step in ("take", "pass", "petition"):
        # "pass" is confirmed on its own page first (issue 19, finding 4).
        response = police.post(
            f"/volunteers/applications/{application.id}/{step}", data={"confirmed": "yes"}
        )
        assert response.status_code == 302, step
    akimat = app.test_client()
    login_as(akimat, "registrar@demo.kz")
    registered = akimat.post(
        f"/volunteers/applications/{application.id}/register", data={"confirmed": "yes"}
    )
    assert registered.status_code == 302
    session.rollback()
    member = session.scalar(select(Member).where(Member.application_id == application.id))
    certificate = akimat.get(f"/volunteers/members/{member.id}/certificate").data.decode()
    assert member.certificate_no in certificate and "data:image/svg+xml" in certificate
    public = (
        app.test_client()
        .get(f"/verify/{member.verify_token}", headers={"Accept-Language": "en"})
        .data.decode()
    )
    assert "This certificate is valid." in public
    assert "Ж. С." in public and "Серікова" not in public and application.iin not in public
    # The citizen was told of every step, in Russian, through the outbox.
    wait_for_jobs(app)
    session.rollback()
    notes = session.scalars(
        select(Notification)
        .where(Notification.email == "zhanar@example.kz", Notification.kind != "signup.code")
        .order_by(Notification.id)
    ).all()
    # submitted, police check, petitioned, registered (after the sign-up code)
    assert len(notes) == 4 and {n.status for n in notes} == {"kept"}
    assert notes[-1].subject.startswith("Ваше заявление")
    # Suspension, an act after a hearing (issue 20), shows on the public page.
    direct = akimat.post(
        f"/volunteers/members/{member.id}/status", data={"status": "suspended", "reason": "Тексеру"}
    )
    assert direct.status_code == 409
    _suspend_after_hearing(akimat, session, member.id)
    public = (
        app.test_client()
        .get(f"/verify/{member.verify_token}", headers={"Accept-Language": "en"})
        .data.decode()
    )
    assert 'id="certificate-not-valid"' in public and "NOT VALID" in public


def _suspend_after_hearing(akimat, session, member_id: int) -> None:
    """Draft, notify and adopt a suspension through the hearing pages (urgency: no waiting)."""
    from appeals.models import Hearing, LegalGround

    code = session.scalar(select(LegalGround.code).where(LegalGround.act_kind == "suspend"))
    drafted = akimat.post(
        "/appeals/hearings/new",
        data={
            "act_kind": "suspend",
            "subject_id": member_id,
            "grounds": code,
            "grounds_text": "Тексеру",
        },
    )
    assert drafted.status_code == 302
    session.rollback()
    hearing_id = session.scalar(select(Hearing.id).where(Hearing.subject_id == member_id))
    assert (
        akimat.post(f"/appeals/hearings/{hearing_id}/notify", data={"confirmed": "yes"}).status_code
        == 302
    )
    adopted = akimat.post(
        f"/appeals/hearings/{hearing_id}/adopt",
        data={
            "act_reasons": "Тексеру",
            "exception_kind": "urgency",
            "exception_reason": "Тексеру жүргізілуде",
            "confirmed": "yes",
        },
    )
    assert adopted.status_code == 302


def test_refusal_needs_a_reason_and_is_shown_to_the_applicant(app, session):
    citizen, application = _apply_as_citizen(app, session)
    police = app.test_client()
    login_as(police, "coordinator@demo.kz")
    police.post(f"/volunteers/applications/{application.id}/take")
    empty = police.post(f"/volunteers/applications/{application.id}/refuse", data={"reason": ""})
    assert empty.status_code == 400
    assert (
        police.post(
            f"/volunteers/applications/{application.id}/refuse",
            data={"reason": "Не соответствует требованиям", "confirmed": "yes"},
        ).status_code
        == 302
    )
    assert "Не соответствует требованиям" in citizen.get("/my").data.decode()
    wrong = police.post(f"/volunteers/applications/{application.id}/petition")
    assert wrong.status_code == 409


def test_staff_see_only_their_district_and_deputies_see_masked_iins(app, session):
    other = session.scalar(
        select(Application)
        .join(Application.unit)
        .where(Application.unit_id == unit(session, "355630100").id)
        .limit(1)
    )
    own = session.scalar(
        select(Member).where(Member.unit_id == unit(session, "354030100").id).limit(1)
    )
    police = app.test_client()
    login(police, "coordinator@demo.kz")  # Bukhar-Zhyrau district
    assert police.get(f"/volunteers/applications/{other.id}").status_code == 404
    assert police.post(f"/volunteers/applications/{other.id}/take").status_code == 404
    masked = police.get(f"/volunteers/members/{own.id}").data.decode()
    assert own.iin not in masked and "••••••••" + own.iin[-4:] in masked
    reveal = f"/oversight/reveal/member/{own.id}/iin"
    assert reveal in masked  # the vetting coordinator may reveal it
    shown = police.post(
        reveal,
        data={"password": DEMO_PASSWORD, "reason": "Полиция тексеруі"},
        follow_redirects=True,
    )
    assert own.iin in shown.data.decode()
    assert own.iin not in police.get(f"/volunteers/members/{own.id}").data.decode()
    # The application page masks it too and reveals it the same audited way.
    page = police.get(f"/volunteers/applications/{own.application_id}").data.decode()
    assert own.iin not in page and f"/oversight/reveal/application/{own.application_id}/iin" in page
    shown = police.post(
        f"/oversight/reveal/application/{own.application_id}/iin",
        data={"password": DEMO_PASSWORD, "reason": "Полиция тексеруі"},
        follow_redirects=True,
    )
    assert own.iin in shown.data.decode()
    deputy = app.test_client()
    login_as(deputy, "deputy@demo.kz")
    page = deputy.get(f"/volunteers/members/{own.id}").data.decode()
    assert own.iin not in page and "••••••••" + own.iin[-4:] in page
    assert f"/oversight/reveal/member/{own.id}/iin" not in page
    assert deputy.get(f"/oversight/reveal/member/{own.id}/iin").status_code == 403
    assert deputy.get("/volunteers/applications").status_code == 403
    volunteer = app.test_client()
    login_as(volunteer, "volunteer@demo.kz")
    assert volunteer.get("/volunteers/members").status_code == 403
    assert volunteer.get(f"/volunteers/members/{own.id}/certificate").status_code == 403


def test_overdue_queue_lists_only_late_items(app, client, session):
    login_as(client, "coordinator@demo.kz")
    page = client.get("/volunteers/applications?due=overdue").data.decode()
    assert "overdue" in page or "мерзімі өткен" in page.lower() or page.count("<tr>") > 1


def test_walk_in_application_is_marked(app, client, session):
    login_as(client, "coordinator@demo.kz")
    home = unit(session, "354030100")
    response = client.post(
        "/volunteers/applications/new",
        data={
            "kind": "public_assistant",
            "unit_id": home.id,
            "patrol_unit_id": 0,
            "iin": iin_for(7401),
            "full_name": "Омаров Асхат",
            "phone": "+77015550000",
            "email": "",
            "address": "Ботақара, 3",
            "is_citizen": "y",
            "no_criminal_record": "y",
            "not_on_register": "y",
            "consent": "y",
            "consent_version": "2026-1",
        },
    )
    assert response.status_code == 302
    session.rollback()
    walk_in = session.scalar(
        select(Application).where(Application.iin_index == key_of(iin_for(7401)))
    )
    assert walk_in.channel == "walk_in" and walk_in.applicant_id is None
    assert walk_in.consents[0].channel == "walk_in"


@pytest.mark.parametrize(
    ("iin", "reason", "params"),
    [
        ("123", "The IIN must have 12 digits; %(n)s given.", {"n": 3}),
        # Read as 11 November 2092 (a mistyped century digit): was a 500 (issue 17, finding 7).
        (
            "921111500030",
            "The IIN gives a birth date in the future (%(date)s); check the digits.",
            # In the reader's way of writing dates, never ISO inside a sentence (finding 7).
            {"date": format_date(dt.date(2092, 11, 11), "medium", locale="kk")},
        ),
    ],
)
def test_bad_application_form_gets_a_4xx_with_the_reason(app, session, iin, reason, params):
    citizen = app.test_client()
    login_as(citizen, "volunteer@demo.kz")
    home = unit(session, "354030100")
    before = session.scalar(select(func.count()).select_from(Application))
    response = citizen.post(
        "/apply",
        data={
            "kind": "public_assistant",
            "unit_id": home.id,
            "patrol_unit_id": 0,
            "iin": iin,
            "full_name": "X",
            "phone": "+77011112233",
            "address": "Y",
            "is_citizen": "y",
            "no_criminal_record": "y",
            "not_on_register": "y",
            "consent": "y",
            "consent_version": "2026-1",
        },
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    # In the account's language (the demo volunteer's is Kazakh), at the field.
    assert translated(app, reason, "kk", **params) in response.get_data(as_text=True)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Application)) == before


def test_patrol_units_and_assignment(app, client, session):
    login_as(client, "coordinator@demo.kz")
    district = unit(session, "354000000")
    response = client.post(
        "/volunteers/units/new",
        data={
            "name": "Жаңа патруль",
            "unit_id": district.id,
            "coordinator_id": 0,
            "leader_member_id": 0,
        },
    )
    assert response.status_code == 302
    patrol_id = int(response.headers["Location"].rsplit("/", 1)[1])
    member = session.scalar(
        select(Member)
        .where(Member.unit_id == unit(session, "354030100").id, Member.status == "active")
        .limit(1)
    )
    assert (
        client.post(
            f"/volunteers/members/{member.id}/unit", data={"patrol_unit_id": patrol_id}
        ).status_code
        == 302
    )
    session.rollback()
    assert session.get(Member, member.id).patrol_unit_id == patrol_id
    assert (
        client.post(
            f"/volunteers/units/{patrol_id}",
            data={
                "name": "Жаңа патруль",
                "unit_id": district.id,
                "coordinator_id": 0,
                "leader_member_id": member.id,
            },
        ).status_code
        == 302
    )


def test_admin_edits_the_working_day_calendar(app, client, session):
    login_as(client, "admin@demo.kz")
    assert client.get("/admin/calendar?year=2026").status_code == 200
    response = client.post(
        "/admin/calendar",
        data={
            "day": "2026-11-28",
            "kind": "working",
            "name_kk": "Жұмыс күні",
            "name_ru": "Рабочий день",
            "source": "test",
        },
    )
    assert response.status_code == 302
    again = client.post(
        "/admin/calendar",
        data={"day": "2026-11-28", "kind": "working", "name_kk": "x", "name_ru": "y"},
    )
    assert again.status_code == 409
    assert client.post("/admin/calendar/2026-11-28/remove").status_code == 302
    assert client.get("/admin/outbox").status_code == 200


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_every_enrolment_page_exists_in_each_language(app, session, lang):
    member = session.scalar(
        select(Member).where(Member.unit_id == unit(session, "354030100").id).limit(1)
    )
    application = session.get(Application, member.application_id)
    pages = {
        "coordinator@demo.kz": [
            "/volunteers/applications",
            "/volunteers/applications?due=overdue",
            "/volunteers/applications/new",
            f"/volunteers/applications/{application.id}",
            "/volunteers/members",
            "/volunteers/members?expiring=1",
            f"/volunteers/members/{member.id}",
            f"/volunteers/members/{member.id}/certificate",
            "/volunteers/units",
            "/volunteers/units/new",
        ],
        "registrar@demo.kz": ["/volunteers/import", "/volunteers/members"],
        "volunteer@demo.kz": ["/my", "/apply"],
        "admin@demo.kz": ["/admin/calendar", "/admin/outbox"],
    }
    for login_name, urls in pages.items():
        client = app.test_client()
        login_as(client, login_name)
        client.post("/language", data={"lang": lang})
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (login_name, url)
            assert f'<html lang="{lang}">' in response.data.decode(), url
    anonymous = app.test_client()
    anonymous.post("/language", data={"lang": lang})
    for url in ("/signup", f"/verify/{member.verify_token}"):
        response = anonymous.get(url)
        assert response.status_code == 200 and f'<html lang="{lang}">' in response.data.decode()


def test_withdrawing_twice_gets_a_4xx(app, session):
    citizen, application = _apply_as_citizen(app, session)
    assert citizen.post(f"/my/applications/{application.id}/withdraw").status_code == 302
    again = citizen.post(f"/my/applications/{application.id}/withdraw")
    assert again.status_code == 409
    other = app.test_client()
    login_as(other, "volunteer@demo.kz")
    assert other.post(f"/my/applications/{application.id}/withdraw").status_code == 404
