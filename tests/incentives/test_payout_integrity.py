"""Payouts: the legal order (minutes → act → payment), forms that compare, gross/withheld/net,
tax rates as data, and parallel payments, voids and hand-overs on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from budget import ledger
from budget.models import BudgetLine, LedgerEntry
from core import accounts, audit, places
from core.errors import Conflict, DomainError
from incentives import payouts, sessions, tax_rates
from incentives import reconcile as reward_reconcile
from incentives.models import Payout, PayoutTaxRate
from tests.conftest import already_done, login_as, race, same_browser, translated
from tests.factories.commission import (
    HELD_ON,
    IBAN,
    MCI_2026,
    NOW,
    approved_cash_item,
    approved_item,
    setup,
)

# Both databases: payout constraints and guarded steps.
pytestmark = pytest.mark.both_databases

OTHER_IBAN = "KZ75125KZT2069100100"
ORDER_DAY = dt.date(2026, 10, 20)
TODAY = dt.date(2026, 10, 21)

# The field the confirmation page of an irreversible step sends (issue 19, finding 4).
YES = {"confirmed": "yes"}


def _payment(item, **changes):
    return {
        "item_id": item.id,
        "iban": IBAN,
        "order_number": "ПП-1044",
        "order_date": ORDER_DAY,
        "amount_tiyn": 10 * MCI_2026,
        "idempotency_key": "form-1",
        "actor_id": 1,
        "today": TODAY,
        **changes,
    }


def _count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def _line(session, s):
    session.expire_all()
    line = session.get(BudgetLine, s.line_id)
    return line.committed_tiyn, line.disbursed_tiyn


def _clean(session):
    session.rollback()
    assert ledger.reconcile(session) == []
    assert reward_reconcile.check_rewards(session) == []


def _finalize(session, s, sitting):
    session.rollback()  # a fresh snapshot: SQLite cannot write from one older than a request's
    sessions.finalize_minutes(
        session,
        session_id=sitting.id,
        text_kk="ХАТТАМА",
        text_ru="ПРОТОКОЛ",
        actor_id=s.users["secretary"],
        now=NOW,
    )
    session.commit()


def _act(session, sitting):
    session.rollback()
    sessions.record_act(session, session_id=sitting.id, number="№ 412", date=HELD_ON, actor_id=1)
    session.commit()


def _gift(session, s, mci=5):
    sitting, item = approved_item(session, s, form="valuable_gift", mci=mci)
    _finalize(session, s, sitting)
    _act(session, sitting)
    return item


# ---- minutes → act → payment ------------------------------------------------------------------


def test_payment_needs_final_minutes_then_the_act(app, session):
    s = setup(session)
    sitting, item = approved_item(session, s)
    before = _line(session, s)
    steps = {
        "pay": lambda: payouts.record_payment(session, **_payment(item)),
        "fail": lambda: payouts.record_failure(
            session, item_id=item.id, iban=IBAN, order_number="ПП-1", reason="Шот", actor_id=1
        ),
    }
    for name, step in steps.items():
        with pytest.raises(Conflict) as refused:
            step()
        assert refused.value.message == payouts.MINUTES_FIRST, name
        session.rollback()
    _finalize(session, s, sitting)
    for name, step in steps.items():
        with pytest.raises(Conflict) as refused:
            step()
        assert refused.value.message == payouts.ACT_FIRST, name
        assert "Record the akimat's act first" in str(refused.value)
        session.rollback()
    assert _count(session, Payout) == 0 and _line(session, s) == before
    _act(session, sitting)
    paid = payouts.record_payment(session, **_payment(item))
    session.commit()
    assert (paid.status, paid.gross_tiyn) == ("paid", 10 * MCI_2026)
    assert _line(session, s) == (0, 10 * MCI_2026)
    _clean(session)


def test_hand_over_needs_the_act_and_void_does_not(app, session):
    s = setup(session)
    sitting, gift = approved_item(session, s, form="valuable_gift", mci=5)
    _finalize(session, s, sitting)
    with pytest.raises(Conflict, match="Record the akimat's act first"):
        payouts.hand_over(session, item_id=gift.id, handed_on=TODAY, actor_id=1, today=TODAY)
    session.rollback()
    assert _count(session, Payout) == 0
    # Giving a reward up needs no act (the akimat may never sign one): the money comes back.
    _other_sitting, cash = approved_item(session, s, mci=3)
    payouts.void(session, item_id=cash.id, reason="Бас тартты", actor_id=1)
    session.commit()
    assert _line(session, s) == (5 * MCI_2026, 0)
    _clean(session)


def test_the_database_refuses_a_payout_before_the_act(app, session):
    """Whatever writes the row (an import, a script), the trigger keeps the legal order."""
    s = setup(session)
    sitting, item = approved_item(session, s)
    _finalize(session, s, sitting)
    insert = text(
        "INSERT INTO payout (item_id, gross_tiyn, withheld_tiyn, net_tiyn, status,"
        " recorded_by_id, recorded_at) VALUES (:item, :gross, :withheld, :net, :status, 1,"
        " CURRENT_TIMESTAMP)"
    )
    row = {"item": item.id, "gross": 100, "withheld": 0, "net": 100}
    for status in ("paid", "handed_over", "failed"):
        with pytest.raises(DatabaseError):
            session.execute(insert, {**row, "status": status})
        session.rollback()
    _act(session, sitting)
    # With the act, a row still has to add up: gross = withheld + net.
    with pytest.raises(DatabaseError):
        session.execute(insert, {**row, "withheld": 10, "status": "paid"})
    session.rollback()
    session.execute(insert, {**row, "withheld": 10, "net": 90, "status": "failed"})
    session.rollback()


# ---- a form sent again ------------------------------------------------------------------------


def test_the_same_form_with_other_details_is_refused_and_changes_nothing(app, session):
    s = setup(session)
    item = approved_cash_item(session, s)
    first = payouts.record_payment(session, **_payment(item))
    session.commit()
    recorded = (first.id, first.iban, first.gross_tiyn, first.order_number, first.order_date)
    for changed in (
        {"iban": OTHER_IBAN},
        {"amount_tiyn": 9 * MCI_2026},
        {"order_number": "ПП-1045"},
        {"order_date": ORDER_DAY - dt.timedelta(days=1)},
    ):
        with pytest.raises(payouts.FormResent) as refused:
            payouts.record_payment(session, **_payment(item, **changed))
        assert refused.value.status == 422
        assert "already sent with other details" in str(refused.value)
        session.rollback()
    again = payouts.record_payment(session, **_payment(item))  # the same form, the same details
    session.commit()
    session.expire_all()
    same = session.get(Payout, first.id)
    assert again.id == first.id
    assert (same.id, same.iban, same.gross_tiyn, same.order_number, same.order_date) == recorded
    assert _count(session, Payout) == 1
    assert _count(session, LedgerEntry, LedgerEntry.kind == "disburse") == 1
    assert _line(session, s) == (0, 10 * MCI_2026)
    _clean(session)


def test_void_and_hand_over_forms_compare_too(app, session):
    s = setup(session)
    gift = _gift(session, s)
    handed = payouts.hand_over(
        session, item_id=gift.id, handed_on=TODAY, actor_id=1, today=TODAY, idempotency_key="h1"
    )
    session.commit()
    again = payouts.hand_over(
        session, item_id=gift.id, handed_on=TODAY, actor_id=1, today=TODAY, idempotency_key="h1"
    )
    assert again.id == handed.id
    with pytest.raises(payouts.FormResent):
        payouts.hand_over(
            session,
            item_id=gift.id,
            handed_on=TODAY - dt.timedelta(days=1),
            actor_id=1,
            today=TODAY,
            idempotency_key="h1",
        )
    session.rollback()
    with pytest.raises(Conflict, match="Already done by"):  # another form: no second gift
        payouts.hand_over(
            session, item_id=gift.id, handed_on=TODAY, actor_id=1, today=TODAY, idempotency_key="h2"
        )
    session.rollback()
    cash = approved_cash_item(session, s, mci=3)
    voided = payouts.void(
        session, item_id=cash.id, reason="Бас тартты", actor_id=1, idempotency_key="v1"
    )
    session.commit()
    assert payouts.void(
        session, item_id=cash.id, reason="Бас тартты", actor_id=1, idempotency_key="v1"
    ).id == (voided.id)
    with pytest.raises(payouts.FormResent):
        payouts.void(session, item_id=cash.id, reason="Басқа", actor_id=1, idempotency_key="v1")
    session.rollback()
    assert _count(session, LedgerEntry, LedgerEntry.kind == "release") == 1
    _clean(session)


# ---- gross, withheld, net ---------------------------------------------------------------------


def _rate(session, s, *, unit_id=None, rate_bp=1000, exempt_tiyn=0, on=dt.date(2026, 1, 1)):
    finance = accounts.find_by_login(session, "finance@demo.kz")
    rate = tax_rates.enter_rate(
        session,
        unit_id=unit_id or s.unit_id,
        form="cash",
        effective_from=on,
        rate_bp=rate_bp,
        exempt_tiyn=exempt_tiyn,
        legal_basis="Салық кодексі, 351-бап",
        actor_id=finance.id,
    )
    session.commit()
    return rate


def test_without_a_rate_nothing_is_withheld(app, session):
    s = setup(session)
    item = approved_cash_item(session, s)
    paid = payouts.record_payment(session, **_payment(item))
    session.commit()
    assert (paid.gross_tiyn, paid.withheld_tiyn, paid.net_tiyn) == (10 * MCI_2026, 0, 10 * MCI_2026)
    assert paid.tax_rate_id is None
    _clean(session)


def test_the_rate_entered_is_withheld_and_the_whole_gross_leaves_the_line(app, session):
    s = setup(session)
    region = session.get(places.AdminUnit, session.get(places.AdminUnit, s.unit_id).parent_id)
    _rate(session, s, unit_id=region.id, rate_bp=500)  # the region's rate: the district's wins
    rate = _rate(session, s, rate_bp=1000, exempt_tiyn=1_000_00)
    _rate(session, s, rate_bp=2000, on=ORDER_DAY + dt.timedelta(days=1))  # not yet in force
    item = approved_cash_item(session, s)
    gross = 8 * MCI_2026  # paid less than the 10 MCI approved: the rest goes back
    paid = payouts.record_payment(session, **_payment(item, amount_tiyn=gross))
    session.commit()
    withheld = (gross - 1_000_00) // 10
    assert (paid.gross_tiyn, paid.withheld_tiyn, paid.net_tiyn) == (
        gross,
        withheld,
        gross - withheld,
    )
    assert paid.tax_rate_id == rate.id
    # The withheld tax is spent (paid to the budget), not released: gross is disbursed.
    assert _line(session, s) == (0, gross)
    entries = dict(
        session.execute(
            select(LedgerEntry.kind, LedgerEntry.amount_tiyn).where(
                LedgerEntry.reference_type == "payout"
            )
        ).all()
    )
    assert entries == {"disburse": gross, "release": 2 * MCI_2026}
    event = session.scalars(
        select(audit.AuditEvent).where(audit.AuditEvent.action == "payout.paid")
    ).one()
    assert event.data["withheld_tiyn"] == withheld and event.data["net_tiyn"] == gross - withheld
    _clean(session)


def test_entering_a_rate_is_checked_and_audited(app, session):
    s = setup(session)
    assert tax_rates.parse_percent("10") == 1000
    assert tax_rates.parse_percent("12,5 %") == 1250
    for bad in ("", "ten", "101", "10,555", "-1"):
        with pytest.raises(DomainError):
            tax_rates.parse_percent(bad)
    rate = _rate(session, s)
    with pytest.raises(Conflict, match="from a later date"):
        _rate(session, s, rate_bp=1200)
    session.rollback()
    with pytest.raises(DomainError, match="legal basis"):
        tax_rates.enter_rate(
            session,
            unit_id=s.unit_id,
            form="cash",
            effective_from=dt.date(2026, 2, 1),
            rate_bp=1000,
            exempt_tiyn=0,
            legal_basis="  ",
            actor_id=1,
        )
    session.rollback()
    with pytest.raises(DomainError, match="only from cash rewards and valuable gifts"):
        tax_rates.enter_rate(
            session,
            unit_id=s.unit_id,
            form="thanks",
            effective_from=dt.date(2026, 2, 1),
            rate_bp=1000,
            exempt_tiyn=0,
            legal_basis="x",
            actor_id=1,
        )
    session.rollback()
    assert _count(session, PayoutTaxRate) == 1
    event = session.scalars(
        select(audit.AuditEvent).where(audit.AuditEvent.action == "payout_tax_rate.entered")
    ).one()
    assert event.object_id == str(rate.id) and event.data["rate_bp"] == 1000


# ---- the screens ------------------------------------------------------------------------------


def _finance(app):
    client = app.test_client()
    login_as(client, "finance@demo.kz")
    return client


def _form_key(page: str, prefix: str = "") -> str:
    found = re.search(rf'name="{prefix}key" type="hidden" value="([0-9a-f]{{32}})"', page)
    assert found, f"the form {prefix or 'pay'} carries a key"
    return found.group(1)


def test_the_payout_page_says_what_comes_first(app, session):
    s = setup(session)
    sitting, item = approved_item(session, s)
    finance = _finance(app)
    url = f"/commission/payouts/{item.id}"
    page = finance.get(url).text
    assert translated(app, payouts.MINUTES_FIRST, "kk") in page
    assert 'name="key"' not in page and "void-key" in page  # only giving it up is possible
    key = uuid.uuid4().hex
    early = finance.post(
        f"{url}/pay",
        data={
            "iban": IBAN,
            "order_number": "ПП-9",
            "order_date": ORDER_DAY.isoformat(),
            "amount": "100",
            "key": key,
        },
    )
    assert early.status_code == 409
    assert translated(app, payouts.MINUTES_FIRST, "kk") in early.text
    _finalize(session, s, sitting)
    page = finance.get(url).text
    assert translated(app, payouts.ACT_FIRST, "kk") in page and 'name="key"' not in page
    _act(session, sitting)
    page = finance.get(url).text
    assert translated(app, payouts.ACT_FIRST, "kk") not in page
    assert (
        translated(
            app, "No tax rate is entered for this form of reward: nothing will be withheld.", "kk"
        )
        in page
    )
    key = _form_key(page)
    payment = {
        "iban": IBAN,
        "order_number": "ПП-10",
        "order_date": ORDER_DAY.isoformat(),
        "amount": "100",
        "key": key,
        "confirmed": "yes",  # sent by the confirmation page (issue 19, finding 4)
    }
    assert finance.post(f"{url}/pay", data=payment).status_code == 302
    resent = finance.post(f"{url}/pay", data={**payment, "iban": OTHER_IBAN})
    assert resent.status_code == 422
    assert (
        translated(
            app,
            "This form was already sent with other details (account, amount, payment order or"
            " date): what was recorded then stands and nothing was changed. Reload the page to"
            " see it; a different payment needs a new form.",
            "kk",
        )
        in resent.text
    )
    session.rollback()
    paid = session.scalars(select(Payout)).one()
    assert (paid.iban, paid.gross_tiyn) == (IBAN, 100_00)
    assert finance.post(f"{url}/pay", data=payment).status_code == 302  # same form: same payout
    session.rollback()
    assert _count(session, Payout) == 1
    _clean(session)


def test_finance_enters_a_rate_and_the_deputy_reads_it(app, session):
    s = setup(session)
    item = approved_cash_item(session, s)
    finance = _finance(app)
    page = finance.get("/commission/tax-rates")
    assert page.status_code == 200
    assert translated(app, "No tax rate is entered: nothing is withheld from rewards.", "kk") in (
        page.text
    )
    data = {
        "unit_id": s.unit_id,
        "form": "cash",
        "effective_from": "2026-01-01",
        "rate": "10",
        "exempt": "",
        "legal_basis": "Салық кодексі, 351-бап",
    }
    bad = finance.post("/commission/tax-rates", data={**data, "rate": "110"})
    assert bad.status_code == 422
    assert translated(app, "A rate cannot be more than 100 per cent.", "kk") in bad.text
    no_basis = finance.post("/commission/tax-rates", data={**data, "legal_basis": ""})
    assert no_basis.status_code == 400
    foreign = places.by_kato(session, "750000000")  # Almaty: outside the officer's region
    assert (
        finance.post("/commission/tax-rates", data={**data, "unit_id": foreign.id}).status_code
        == 400
    )
    session.rollback()
    assert _count(session, PayoutTaxRate) == 0
    assert finance.post("/commission/tax-rates", data=data).status_code == 302
    session.rollback()
    saved = session.scalars(select(PayoutTaxRate)).one()
    assert (saved.unit_id, saved.rate_bp, saved.exempt_tiyn) == (s.unit_id, 1000, 0)
    page = finance.get(f"/commission/payouts/{item.id}").text
    assert "Салық кодексі, 351-бап" in page
    deputy = app.test_client()
    login_as(deputy, "deputy@demo.kz")
    listing = deputy.get("/commission/tax-rates")
    assert listing.status_code == 200 and "Салық кодексі, 351-бап" in listing.text
    assert 'name="legal_basis"' not in listing.text
    assert deputy.post("/commission/tax-rates", data=data).status_code == 403


# ---- PostgreSQL: twenty at once ---------------------------------------------------------------


@pytest.fixture
def pg_session(pg_app):
    from sqlalchemy.orm import Session

    from portal.database import READ_ONLY_OPTION
    from portal.extensions import db

    # As the ``session`` fixture: a reader at BEGIN, so that an idle test transaction does not
    # hold the audit chain's lock the requests wait for (its writes still take it).
    with pg_app.app_context():
        engine = db.engine.execution_options(**{READ_ONLY_OPTION: True})
    with Session(engine) as s:
        yield s
        s.rollback()


def _browsers(pg_app, n=20):
    finance = _finance(pg_app)  # a fresh sign-in: paying asks for a password typed just now
    return finance, [same_browser(finance) for _ in range(n)]


def _statuses(results) -> list[int]:
    assert not [r for r in results if isinstance(r, Exception)], results
    return sorted(r.status_code for r in results)


def test_twenty_parallel_payments_pay_once(pg_app, pg_session):
    session = pg_session
    s = setup(session)
    once, twice = approved_cash_item(session, s).id, approved_cash_item(session, s, mci=5).id
    finance, browsers = _browsers(pg_app)  # (ids, not ORM objects, go into the threads)

    def form(item_id, key):
        return {
            "iban": IBAN,
            "order_number": f"ПП-{item_id}",
            "order_date": ORDER_DAY.isoformat(),
            "amount": "1 000",
            "key": key,
            "confirmed": "yes",  # sent by the confirmation page (issue 19, finding 4)
        }

    # Twenty different forms (two officers, tabs): one payment, nineteen "already done".
    results = race(
        20,
        lambda i: browsers[i].post(
            f"/commission/payouts/{once}/pay", data=form(once, uuid.uuid4().hex)
        ),
    )
    assert _statuses(results) == [302] + [409] * 19
    who = accounts.find_by_login(session, "finance@demo.kz").full_name
    refusal = already_done(pg_app, "kk", who=who, workflow="payout", state="paid")
    assert all(refusal in r.text for r in results if r.status_code == 409)
    # The same form twenty times (a double click, a retry): one payment, the same answer.
    key = _form_key(finance.get(f"/commission/payouts/{twice}").text)
    results = race(
        20,
        lambda i: browsers[i].post(f"/commission/payouts/{twice}/pay", data=form(twice, key)),
    )
    assert _statuses(results) == [302] * 20
    session.rollback()
    for item_id in (once, twice):
        assert _count(session, Payout, Payout.item_id == item_id) == 1
    assert _count(session, LedgerEntry, LedgerEntry.kind == "disburse") == 2
    assert _line(session, s)[1] == 2 * 1_000_00
    _clean(session)


def test_twenty_parallel_voids_release_once(pg_app, pg_session):
    session = pg_session
    s = setup(session)
    url = f"/commission/payouts/{approved_cash_item(session, s, mci=4).id}/void"
    _finance_client, browsers = _browsers(pg_app)
    results = race(
        20,
        lambda i: browsers[i].post(
            url,
            data={"void-reason": f"Бас тартты {i}", "void-key": uuid.uuid4().hex, **YES},
        ),
    )
    assert _statuses(results) == [302] + [409] * 19
    session.rollback()
    assert _count(session, Payout) == 1
    assert _count(session, LedgerEntry, LedgerEntry.kind == "release") == 1
    assert _line(session, s) == (0, 0)
    _clean(session)


def test_twenty_parallel_hand_overs_disburse_once(pg_app, pg_session):
    session = pg_session
    s = setup(session)
    url = f"/commission/payouts/{_gift(session, s, mci=5).id}/hand-over"
    _finance_client, browsers = _browsers(pg_app)
    results = race(
        20,
        lambda i: browsers[i].post(
            url,
            data={"handed_on": TODAY.isoformat(), "hand_key": uuid.uuid4().hex, **YES},
        ),
    )
    assert _statuses(results) == [302] + [409] * 19
    session.rollback()
    assert _count(session, Payout) == 1
    assert _count(session, LedgerEntry, LedgerEntry.kind == "disburse") == 1
    assert _line(session, s) == (0, 5 * MCI_2026)
    _clean(session)
