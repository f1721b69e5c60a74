"""Irreversible steps state their consequence and post only once confirmed (issue 19, finding 4).

For each step: the page's button leads to the confirmation page (amount, budget line, person),
a POST without ``confirmed`` (a double click on an old page, a script) answers 422 and changes
nothing, and with it the step is taken once.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select

from budget.appropriations import program_code
from budget.models import BudgetLine, BudgetProgram
from core import clock
from core.iin import mask_iin
from core.money import format_tiyn
from incentives.models import CommissionSession, Payout
from tests.conftest import audit_count, login_as, translated
from tests.factories.commission import (
    FOUR,
    IBAN,
    MCI_2026,
    approved_cash_item,
    nominate,
    nominee,
    open_sitting,
    plan_sitting,
    setup,
    vote_all,
)
from tests.factories.volunteers import TODAY, fields, iin_for, user
from volunteers import enrolment
from volunteers.models import Application, Member

YES = {"confirmed": "yes"}
NOT_YET = "Nothing has been done yet: check what this step will do and confirm it."


def _program(session, line_id: int) -> BudgetProgram:
    line = session.get(BudgetLine, line_id)
    return session.get(BudgetProgram, line.program_id)


def _states_the_line(text: str, program: BudgetProgram) -> bool:
    return program_code(program) in text and (program.name_kk in text or program.name_ru in text)


def test_closing_and_finalising_a_session_are_confirmed_with_the_money_first(app, client, session):
    s = setup(session, members=4)
    member, ids = nominee(session)
    nomination = nominate(session, s, member, ids, mci=10)
    sitting = plan_sitting(session, s, [nomination.id])
    open_sitting(session, s, sitting, FOUR)
    vote_all(session, s, sitting, dict.fromkeys(FOUR, "for"))
    session.commit()
    program = _program(session, s.line_id)
    login_as(client, "secretary@demo.kz")
    url = f"/commission/sessions/{sitting.id}"
    page = client.get(url).text
    assert f"{url}/close/confirm" in page and f'action="{url}/close"' not in page

    unconfirmed = client.post(f"{url}/close")
    assert unconfirmed.status_code == 422
    assert translated(app, NOT_YET, "kk") in unconfirmed.text
    session.rollback()
    assert session.get(CommissionSession, sitting.id).status == "open"
    assert audit_count(session, "session.close", "commission_session", sitting.id) == 0
    confirm = client.get(f"{url}/close/confirm")
    assert confirm.status_code == 200
    assert format_tiyn(10 * MCI_2026) in confirm.text and member.full_name in confirm.text
    assert _states_the_line(confirm.text, program)
    assert 'name="confirmed" value="yes"' in confirm.text
    assert f'action="{url}/close"' in confirm.text

    assert client.post(f"{url}/close", data=YES).status_code == 302
    assert client.post(f"{url}/close", data=YES).status_code == 409  # the second click
    session.rollback()
    assert session.get(CommissionSession, sitting.id).status == "closed"
    assert audit_count(session, "session.close", "commission_session", sitting.id) == 1

    assert f"{url}/minutes/confirm" in client.get(url).text
    assert client.post(f"{url}/minutes").status_code == 422
    session.rollback()
    assert session.get(CommissionSession, sitting.id).status == "closed"
    assert audit_count(session, "minutes.final", "commission_session", sitting.id) == 0
    confirm = client.get(f"{url}/minutes/confirm")
    assert format_tiyn(10 * MCI_2026) in confirm.text and member.full_name in confirm.text
    assert _states_the_line(confirm.text, program)
    assert client.post(f"{url}/minutes", data=YES).status_code == 302
    session.rollback()
    assert session.get(CommissionSession, sitting.id).status == "minutes_final"
    assert audit_count(session, "minutes.final", "commission_session", sitting.id) == 1


def test_a_payment_is_confirmed_with_amount_line_and_recipient(app, client, session):
    s = setup(session, members=4)
    item = approved_cash_item(session, s)
    recipient = item.nomination.recipient
    program = _program(session, s.line_id)
    login_as(client, "finance@demo.kz")
    url = f"/commission/payouts/{item.id}"
    key = re.search(r'name="key" type="hidden" value="([0-9a-f]{32})"', client.get(url).text)
    payment = {
        "iban": IBAN,
        "order_number": "ПП-55",
        "order_date": clock.today().isoformat(),
        "amount": format_tiyn(10 * MCI_2026).removesuffix("\u00a0₸"),
        "key": key.group(1),
    }

    unconfirmed = client.post(f"{url}/pay", data=payment)
    assert unconfirmed.status_code == 422
    text = unconfirmed.text
    assert format_tiyn(10 * MCI_2026) in text and recipient in text and "ПП-55" in text
    assert _states_the_line(text, program)
    assert "KZ** **** **** 0100" in text and IBAN not in text.replace('value="' + IBAN, "")
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Payout)) == 0
    # A typo in the IBAN is said before the confirmation, not after it.
    bad = client.post(f"{url}/pay", data={**payment, "iban": "KZ00"})
    assert bad.status_code == 422
    assert translated(app, "The IBAN is not valid: check the letters and digits.", "kk") in bad.text

    assert client.post(f"{url}/pay", data={**payment, **YES}).status_code == 302
    session.rollback()
    (paid,) = session.scalars(select(Payout)).all()
    assert (paid.status, paid.gross_tiyn) == ("paid", 10 * MCI_2026)
    assert audit_count(session, "payout.paid", "payout", paid.id) == 1


def test_police_check_and_registration_are_confirmed_by_name(app, client, session):
    application = enrolment.submit_application(
        session, **fields(session, iin=iin_for(7301), email=None, today=TODAY)
    )
    enrolment.take_check(
        session, application_id=application.id, actor_id=user(session, "coordinator@demo.kz").id
    )
    session.commit()
    url = f"/volunteers/applications/{application.id}"
    login_as(client, "coordinator@demo.kz")
    page = client.get(url).text
    assert f"{url}/pass/confirm" in page and f'action="{url}/pass"' not in page

    assert client.post(f"{url}/pass").status_code == 422
    refusal = client.post(f"{url}/refuse", data={"reason": "Судимость"})
    assert refusal.status_code == 422 and "Судимость" in refusal.text
    session.rollback()
    kept = session.get(Application, application.id)
    assert (kept.status, kept.check_outcome) == ("police_check", None)
    assert audit_count(session, "application.check_passed", "application", application.id) == 0
    assert audit_count(session, "application.refuse", "application", application.id) == 0
    confirm = client.get(f"{url}/pass/confirm").text
    assert application.full_name in confirm and mask_iin(application.iin) in confirm
    assert application.iin not in confirm
    assert client.post(f"{url}/pass", data=YES).status_code == 302
    assert client.post(f"{url}/petition", data={}).status_code == 302

    registrar = app.test_client()
    login_as(registrar, "registrar@demo.kz")
    assert registrar.post(f"{url}/register").status_code == 422
    session.rollback()
    assert session.scalar(select(Member).where(Member.application_id == application.id)) is None
    confirm = registrar.get(f"{url}/register/confirm").text
    expected = re.search(r"\d{9}-\d{4}-\d{5}", confirm)
    assert application.full_name in confirm and expected
    assert registrar.post(f"{url}/register", data=YES).status_code == 302
    session.rollback()
    member = session.scalar(select(Member).where(Member.application_id == application.id))
    assert member.certificate_no == expected.group(0)
    assert audit_count(session, "application.register", "application", application.id) == 1
