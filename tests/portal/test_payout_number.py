"""One number per payout: the address, the ledger and the audit log agree (finding 7)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from budget.models import LedgerEntry
from incentives.models import Payout
from tests.conftest import login_as

pytestmark = pytest.mark.demo_data


def test_a_payout_has_one_number_in_every_place(app, session):
    payout = session.scalars(
        select(Payout).where(Payout.status == "paid").order_by(Payout.id.desc())
    ).first()
    number = payout.item_id  # the reward's: the finance officer's page was always /payouts/<item>
    entry = session.scalars(
        select(LedgerEntry).where(
            LedgerEntry.reference_type == "payout", LedgerEntry.reference_id == str(payout.id)
        )
    ).first()
    finance = app.test_client()
    login_as(finance, "finance@demo.kz")
    finance.post("/language", data={"lang": "en"})
    ledger = finance.get(f"/finance/lines/{entry.line_id}").text
    reasons = re.findall(r'<a class="ledger-reason" href="([^"]+)">([^<]+)</a>', ledger)
    assert (f"/commission/payouts/{number}", f"Payout No. {number}") in reasons
    assert f"payout {payout.id}" not in ledger  # the row id of old ("payout 4")
    assert finance.get(f"/commission/payouts/{number}").status_code == 200

    deputy = app.test_client()
    login_as(deputy, "deputy@demo.kz")
    deputy.post("/language", data={"lang": "en"})
    log = deputy.get(f"/oversight/audit?object_type=payout&object_id={payout.id}").text
    assert f'<a href="/oversight/payouts/{number}">Payout No. {number}</a>' in log
    page = deputy.get(f"/oversight/payouts/{number}")
    assert page.status_code == 200
    assert f'<h1 class="h3">Payout No. {number}</h1>' in page.text
    assert payout.order_number in page.text
    reward = deputy.get(f"/oversight/rewards/{number}").text
    assert f'href="/oversight/payouts/{number}"' in reward
