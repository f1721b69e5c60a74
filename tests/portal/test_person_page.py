"""The deputy's person page: every reward paid to the person (IIN), whatever record it came by."""

from __future__ import annotations

import datetime as dt
import re

from core import accounts
from core.money import format_tiyn
from incentives import payouts, sessions
from tests.conftest import login_as, translated
from tests.factories.commission import (
    FOUR,
    IBAN,
    NOW,
    nominate,
    nominee,
    open_sitting,
    plan_sitting,
    setup,
    vote_all,
)
from tests.factories.oversight import DEPUTY_PASSWORD, other_deputy
from tests.factories.volunteers import fields, user
from volunteers import enrolment


def _second_entry(session, first):
    """Register the same person (IIN) again, as a patrol member from a walk-in application."""
    coordinator = user(session, "coordinator@demo.kz")
    registrar = user(session, "registrar@demo.kz")
    day = dt.date(2026, 3, 20)
    application = enrolment.submit_application(
        session,
        **fields(
            session,
            kind="patrol_member",
            iin=first.iin,
            unit_id=first.unit_id,
            full_name=first.full_name,
            email=None,
            today=day,
        ),
    )
    enrolment.take_check(session, application_id=application.id, actor_id=coordinator.id)
    enrolment.record_check(
        session, application_id=application.id, passed=True, reason=None, actor_id=coordinator.id
    )
    enrolment.petition(session, application_id=application.id, actor_id=coordinator.id, today=day)
    return enrolment.register_applicant(
        session, application_id=application.id, actor_id=registrar.id, today=day
    )


def _paid_twice_in_14_days(session):
    """One person rewarded twice, through two register entries, paid on 20 and 30 October."""
    s = setup(session)
    first, first_ids = nominee(session)
    second_entry = _second_entry(session, first)
    second_ids = []
    from volunteers.activity_models import Contribution

    for n in range(2):
        c = Contribution(
            member_id=second_entry.id,
            unit_id=second_entry.unit_id,
            kind="offense_reported",
            occurred_on=dt.date(2026, 9, 10 + n),
            description="Рейд",
            reference=f"KUSP-B-{n}",
            status="confirmed",
            points=5,
            decided_by_id=user(session, "registrar@demo.kz").id,
            decided_at=dt.datetime(2026, 9, 20, tzinfo=dt.UTC),
        )
        session.add(c)
        session.flush()
        second_ids.append(c.id)
    one = nominate(session, s, first, first_ids, mci=4)
    two = nominate(session, s, second_entry, second_ids, mci=6)
    secretary = s.users["secretary"]
    sitting = plan_sitting(session, s, [one.id, two.id])
    open_sitting(session, s, sitting, FOUR)
    vote_all(session, s, sitting, dict.fromkeys(FOUR, "for"))
    sessions.close(session, session_id=sitting.id, actor_id=secretary, now=NOW)
    sessions.finalize_minutes(
        session,
        session_id=sitting.id,
        text_kk="ХАТТАМА № 2",
        text_ru="ПРОТОКОЛ № 2",
        actor_id=secretary,
        now=NOW,
    )
    sessions.record_act(
        session, session_id=sitting.id, number="№ 413", date=dt.date(2026, 10, 18), actor_id=1
    )
    finance = accounts.find_by_login(session, "finance@demo.kz")
    paid = {}
    for item, (day, order) in zip(
        sorted(sitting.items, key=lambda i: i.nomination_id),
        ((dt.date(2026, 10, 20), "ПП-2001"), (dt.date(2026, 10, 30), "ПП-2002")),
        strict=True,
    ):
        paid[order] = payouts.record_payment(
            session,
            item_id=item.id,
            iban=IBAN,
            order_number=order,
            order_date=day,
            amount_tiyn=item.nomination.amount_tiyn,
            idempotency_key=f"person-{order}",
            actor_id=finance.id,
            today=dt.date(2026, 10, 31),
        )
    session.commit()
    return first, second_entry, paid


def test_person_page_shows_every_payout_of_a_person_paid_twice_in_14_days(app, session):
    first, second_entry, paid = _paid_twice_in_14_days(session)
    assert first.id != second_entry.id and first.iin == second_entry.iin
    deputy = app.test_client()
    login_as(deputy, "deputy@demo.kz")
    amounts = {order: format_tiyn(p.amount_tiyn) for order, p in paid.items()}
    total = format_tiyn(sum(p.amount_tiyn for p in paid.values()))
    assert amounts["ПП-2001"] != amounts["ПП-2002"]
    # Whichever of the person's register entries the deputy came by, both payouts are there.
    for entry in (first, second_entry):
        page = deputy.get(f"/oversight/members/{entry.id}")
        assert page.status_code == 200
        text = page.text
        assert "ПП-2001" in text and "ПП-2002" in text
        for p in paid.values():
            assert f"/oversight/payouts/{p.item_id}" in text
        rows = re.findall(r'<tr class="payment">(.*?)</tr>', text, re.S)
        assert len(rows) == 2
        for order, amount in amounts.items():
            [row] = [r for r in rows if order in r]
            assert amount in row
        assert total in text
        assert translated(app, "Paid", "kk") in text
        # Both certificates of the person are listed.
        assert first.certificate_no in text and second_entry.certificate_no in text
        assert first.iin not in text  # still masked


def test_person_page_keeps_to_the_deputys_jurisdiction(app, session):
    first, _second, _paid = _paid_twice_in_14_days(session)
    other_deputy(session)
    other = app.test_client()
    assert other.post(
        "/login", data={"login": "deputy.abai@demo.kz", "password": DEPUTY_PASSWORD}
    ).status_code in (302, 303)
    assert other.get(f"/oversight/members/{first.id}").status_code == 404
