"""Volunteers enter their own IBAN: checked, sealed, masked, audited without it, paid to."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid

from sqlalchemy import select, text

from core.audit import AuditEvent
from core.notifications import Notification
from core.payout_accounts import PayoutAccount
from incentives.models import Payout
from incentives.payout_iban import IBAN_MISSING
from tests.conftest import audit_count, login_as, translated
from tests.factories.commission import close_session, nominate, nominee, setup
from tests.factories.volunteers import user

IBAN = "KZ86125KZT5004100100"
SPACED = "kz86 125k zt50 0410 0100"
MASKED = "KZ** **** **** 0100"


def _cabinet(app):
    client = app.test_client()
    login_as(client, "volunteer@demo.kz")
    return client


def test_an_invalid_iban_is_refused_at_its_field_and_nothing_is_stored(app, session):
    client = _cabinet(app)
    for wrong, msgid in (
        ("KZ00125KZT5004100100", "The IBAN is not valid: check the letters and digits."),
        (
            "DE89370400440532013000",
            "Rewards are paid to accounts in Kazakhstan: the IBAN starts with KZ.",
        ),
        ("KZ86125KZT50041001", "The IBAN is not valid: check the letters and digits."),
    ):
        page = client.post("/my/payout-account", data={"payout-iban": wrong})
        assert page.status_code == 422
        error = re.search(r'id="payout-iban-error"[^>]*>([^<]*)<', page.text)
        assert error and translated(app, msgid, "kk") in error.group(1), wrong
        assert 'aria-invalid="true"' in page.text and wrong in page.text  # kept to correct
    session.rollback()
    assert session.scalar(select(PayoutAccount)) is None


def test_a_valid_iban_is_stored_sealed_shown_masked_and_audited_without_it(app, session):
    client = _cabinet(app)
    saved = client.post("/my/payout-account", data={"payout-iban": SPACED})
    assert saved.status_code == 302
    page = client.get("/my").text
    assert MASKED in page and IBAN not in page and "125KZT" not in page
    session.rollback()
    raw = session.execute(text("SELECT iban FROM payout_account")).scalar_one()
    assert raw.startswith("s1.") and "125KZT" not in raw  # sealed at rest
    assert session.scalar(select(PayoutAccount)).iban == IBAN  # compact, upper case
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action.like("payout_account.%"))
    ).all()
    assert [e.action for e in events] == ["payout_account.entered"]
    own = json.dumps(events[0].payload)
    assert "KZ" not in own and "0100" not in own  # not even masked
    chain = json.dumps([e.payload for e in session.scalars(select(AuditEvent))])
    assert "125KZT" not in chain


def _approved_for_volunteer(session):
    s = setup(session)
    member, ids = nominee(session, applicant=user(session, "volunteer@demo.kz"))
    n = nominate(session, s, member, ids)
    return close_session(session, s, [n.id], final=True, act=True).items[0].id


def test_finance_pays_to_the_volunteers_own_iban_and_asks_for_a_missing_one(app, session):
    item_id = _approved_for_volunteer(session)
    finance = app.test_client()
    login_as(finance, "finance@demo.kz")
    url = f"/commission/payouts/{item_id}"
    page = finance.get(url).text
    assert 'id="iban-missing"' in page and 'name="iban"' not in page  # never retyped
    payment = {
        "order_number": "ПП-77",
        "order_date": dt.date(2026, 10, 20).isoformat(),
        "amount": "43 250",
        "key": uuid.uuid4().hex,
        "confirmed": "yes",
    }
    refused = finance.post(f"{url}/pay", data={**payment, "iban": "KZ75125KZT2069100100"})
    assert refused.status_code == 409  # a typed IBAN is not taken instead
    assert translated(app, IBAN_MISSING, "kk") in refused.text
    assert finance.post(f"{url}/ask-iban").status_code == 302
    again = finance.post(f"{url}/ask-iban")  # asked once while unread
    assert again.status_code == 409
    assert (
        translated(app, "The recipient was already asked and has not read the notice yet.", "kk")
        in again.text
    )
    session.rollback()
    asked = session.scalars(
        select(Notification).where(Notification.kind == "payout.iban_missing")
    ).all()
    assert len(asked) == 1 and asked[0].user_id == user(session, "volunteer@demo.kz").id

    assert _cabinet(app).post("/my/payout-account", data={"payout-iban": IBAN}).status_code == 302
    page = finance.get(url).text
    assert 'id="iban-missing"' not in page and MASKED in page and IBAN not in page
    paid = finance.post(f"{url}/pay", data=payment)
    assert paid.status_code == 302, paid.text[:3000]
    session.rollback()
    assert session.scalar(select(Payout.iban).where(Payout.item_id == item_id)) == IBAN


def test_only_someone_a_reward_can_reach_is_asked_for_an_iban(app):
    official = app.test_client()
    login_as(official, "deputy@demo.kz")
    assert 'id="payout-account"' not in official.get("/my").text
    member = app.test_client()
    login_as(member, "volunteer@demo.kz")
    assert 'id="payout-account"' in member.get("/my").text


def test_ten_asks_at_once_send_one_notice(pg_app):
    """A double click or two officers at once: one notice, the other requests 409."""
    from sqlalchemy.orm import Session

    from tests.conftest import engine_of, race, same_browser

    with Session(engine_of(pg_app)) as session:
        item_id = _approved_for_volunteer(session)
        session.commit()
    finance = pg_app.test_client()
    login_as(finance, "finance@demo.kz")
    browsers = [same_browser(finance) for _ in range(10)]
    url = f"/commission/payouts/{item_id}/ask-iban"
    results = race(10, lambda i: browsers[i].post(url))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(r.status_code for r in results) == [302] + [409] * 9
    with Session(engine_of(pg_app)) as session:
        sent = session.scalars(
            select(Notification).where(Notification.kind == "payout.iban_missing")
        ).all()
        assert len(sent) == 1
        assert audit_count(session, "payout.iban_requested", "agenda_item", item_id) == 1
