"""Forms answer every problem in one round, each at its field, the input kept (finding 8)."""

from __future__ import annotations

import datetime as dt

import lxml.html
from sqlalchemy import func, select

from tests.conftest import login_as, translated
from tests.factories.volunteers import iin_for, unit
from volunteers.models import Application


def _count(session) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(Application))


def _assert_at_field(page, name: str, message: str | None = None) -> None:
    """The input ``name`` is marked invalid and described by a visible error, linked above."""
    inputs = page.xpath(f'//form//*[@name="{name}"]')
    assert inputs, name
    for element in inputs:
        assert element.get("aria-invalid") == "true", name
        assert "is-invalid" in element.get("class", ""), name
        described = element.get("aria-describedby", "").split()
        errors = [page.get_element_by_id(i) for i in described if i.endswith("-error")]
        assert errors and "invalid-feedback" in errors[0].get("class"), name
        if message is not None:
            assert message in errors[0].text_content(), (name, errors[0].text_content())
    summary = page.get_element_by_id("form-error-summary")
    targets = {a.get("href") for a in summary.xpath(".//a")}
    first = inputs[0].get("id")
    assert f"#{first}" in targets, (name, targets)


def _application(session, **changes) -> dict:
    data = {
        "kind": "public_assistant",
        "unit_id": unit(session, "354030100").id,
        "patrol_unit_id": 0,
        "iin": iin_for(7410),
        "full_name": "Әбілқасымова Айгерім",
        "phone": "+77011112233",
        "email": "",
        "address": "Ботақара, Абай көшесі 5",
        "is_citizen": "y",
        "no_criminal_record": "y",
        "not_on_register": "y",
        "consent": "y",
        "consent_version": "2026-1",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_apply_shows_three_wrong_fields_at_once_with_the_input_kept(app, session):
    citizen = app.test_client()
    login_as(citizen, "volunteer@demo.kz")  # a Kazakh-language account
    before = _count(session)
    bad_iin = iin_for(7411)[:11] + str((int(iin_for(7411)[11]) + 1) % 10)  # wrong check digit
    response = citizen.post(
        "/apply",
        # The phone is a form rule (required), the IIN and the consent are the domain's:
        # they took three submits before, one banner each.
        data=_application(session, iin=bad_iin, phone="", consent=None),
    )
    assert response.status_code == 422
    page = lxml.html.fromstring(response.get_data(as_text=True))
    _assert_at_field(page, "iin")
    _assert_at_field(page, "phone")
    _assert_at_field(
        page,
        "consent",
        translated(
            app, "Consent to the processing of personal data is required.", page.get("lang")
        ),
    )
    assert len(page.get_element_by_id("form-error-summary").xpath(".//li")) == 3
    # What the applicant typed is still there.
    assert page.xpath('//input[@name="full_name"]')[0].get("value") == "Әбілқасымова Айгерім"
    assert page.xpath('//input[@name="iin"]')[0].get("value") == bad_iin
    assert page.xpath('//input[@name="is_citizen"]')[0].get("checked") is not None
    assert _count(session) == before


def test_walk_in_form_of_a_coordinator_shows_every_error_at_its_field(app, session):
    police = app.test_client()
    login_as(police, "coordinator@demo.kz")
    before = _count(session)
    minor = iin_for(7412, born=dt.date.today().replace(year=dt.date.today().year - 15))
    response = police.post(
        "/volunteers/applications/new",
        data=_application(session, kind=None, iin=minor, is_citizen=None, address="   "),
    )
    assert response.status_code == 422
    page = lxml.html.fromstring(response.get_data(as_text=True))
    _assert_at_field(page, "kind")  # every radio button of the question
    lang = page.get("lang")
    _assert_at_field(
        page, "iin", translated(app, "Applicants must be at least %(n)s years old.", lang, n=18)
    )
    _assert_at_field(page, "is_citizen")
    _assert_at_field(page, "address")
    assert page.xpath('//input[@name="full_name"]')[0].get("value") == "Әбілқасымова Айгерім"
    assert _count(session) == before


def test_sign_up_shows_form_and_domain_errors_in_one_round(app, session):
    visitor = app.test_client()
    response = visitor.post(
        "/signup",
        data={
            "full_name": "",
            "email": "not an address",
            "phone": "12-34",
            "preferred_language": "ru",
            "unit_id": unit(session, "354030100").id,
            "password": "my long passphrase",
            "confirm": "my long passphrase",
        },
        headers={"Accept-Language": "ru"},
    )
    assert response.status_code == 422
    page = lxml.html.fromstring(response.get_data(as_text=True))
    _assert_at_field(page, "full_name")
    _assert_at_field(page, "email", translated(app, "Enter a valid e-mail address.", "ru"))
    _assert_at_field(page, "phone")
    assert page.xpath('//input[@name="email"]')[0].get("value") == "not an address"
