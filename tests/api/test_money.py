"""The money resources: budget lines, decisions, ledger entries and payouts, scoped and masked."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from budget import ledger
from budget.models import BudgetLine, BudgetProgram, LedgerEntry
from core import accounts, clock, places
from incentives.models import Payout
from tests.api.conftest import make_token
from tests.conftest import login_as
from tests.factories.accounts import official
from tests.factories.commission import IBAN, funded_line

pytestmark = pytest.mark.demo_data

KOSTANAY = "390000000"  # a region other than the demo's Karaganda
SHET = "356400000"  # a district of Karaganda region with demo budget lines
PASSWORD = "money api test pass"


def _all(api, url: str, **kw) -> list[dict]:
    """Every item of a list, page by page (two per page), checking the cursors."""
    items, cursor = [], None
    for _ in range(200):
        glue = "&" if "?" in url else "?"
        response = api.get(f"{url}{glue}limit=2" + (f"&cursor={cursor}" if cursor else ""), **kw)
        assert response.status_code == 200, response.text
        body = response.get_json()
        assert len(body["items"]) <= 2
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the cursor never ended")


@pytest.fixture
def kostanay(session):
    """A finance officer and a deputy of Kostanay region, and a line there with one entry."""
    unit = places.by_kato(session, KOSTANAY)
    finance = official(
        session, "finance.kst@test.kz", "finance", unit.id, password=PASSWORD, full_name="Қ Ф"
    )
    official(session, "deputy.kst@test.kz", "deputy", unit.id, password=PASSWORD, full_name="Қ Д")
    line_id = funded_line(session, 5_000_000, unit.id)
    ledger.commit_funds(
        session,
        line_id=line_id,
        amount_tiyn=100_000,
        reference_type="agenda_item",
        reference_id="77777",
        actor_id=finance.id,
        idempotency_key="kostanay-commit-1",
    )
    session.commit()
    return line_id


def _karaganda_line(session, *, not_in: str = SHET) -> int:
    """A demo line of Karaganda region outside the district ``not_in``."""
    karaganda = places.by_kato(session, "350000000")
    line_id = session.scalar(
        select(BudgetLine.id)
        .join(BudgetProgram, BudgetLine.program_id == BudgetProgram.id)
        .join(places.AdminUnit, BudgetProgram.unit_id == places.AdminUnit.id)
        .where(places.AdminUnit.path.like(karaganda.path + "%"), places.AdminUnit.kato != not_in)
        .order_by(BudgetLine.id)
        .limit(1)
    )
    assert line_id is not None
    return line_id


def test_lines_are_scoped_to_the_readers_region(app, client, api, session, kostanay):
    karaganda_line = _karaganda_line(session)
    login_as(client, "finance@demo.kz")
    mine = _all(api, "/api/v1/budget-lines")
    ids = [item["id"] for item in mine]
    assert karaganda_line in ids and kostanay not in ids
    assert len(ids) == len(set(ids))  # no line twice across the pages
    assert ids == sorted(ids, reverse=True)
    assert all(item["unit"]["kato"].startswith("35") for item in mine)
    assert api.get(f"/api/v1/budget-lines/{kostanay}").status_code == 404

    # Officials of another region use access tokens here (their accounts have no second factor).
    kst = make_token(app, "finance.kst@test.kz")
    theirs = _all(api, "/api/v1/budget-lines", token=kst)
    assert [item["id"] for item in theirs] == [kostanay]
    line = theirs[0]
    assert line["approved_tiyn"] == 5_000_000 and line["committed_tiyn"] == 100_000
    assert line["available_tiyn"] == 4_900_000 and line["unit"]["kato"] == KOSTANAY
    assert line["program"]["code"].startswith("03-6-252-003")
    refused = api.get(f"/api/v1/budget-lines/{karaganda_line}", token=kst)
    assert refused.status_code == 404
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    # A missing line reads the same as another region's.
    assert (
        api.get("/api/v1/budget-lines/999999").get_json()["detail"] == refused.get_json()["detail"]
    )


def test_line_detail_lists_its_decisions(app, client, api, session, kostanay):
    token = make_token(app, "deputy.kst@test.kz")
    line = api.get(f"/api/v1/budget-lines/{kostanay}", token=token).get_json()
    assert line["id"] == kostanay
    [amendment] = line["amendments"]
    assert amendment["delta_tiyn"] == 5_000_000 and amendment["status"] == "verified"
    assert amendment["number"] == "30/1" and amendment["verified_by"]


def test_line_filters_as_the_page(app, client, api, session):
    login_as(client, "deputy@demo.kz")
    shet = places.by_kato(session, SHET)
    in_shet = _all(api, f"/api/v1/budget-lines?unit={shet.id}")
    assert in_shet and {item["unit"]["kato"] for item in in_shet} == {SHET}
    sober = _all(api, "/api/v1/budget-lines?purpose=sober_settlement_incentives")
    assert sober and {item["purpose"] for item in sober} == {"sober_settlement_incentives"}
    assert _all(api, "/api/v1/budget-lines?year=2031") == []
    bad = api.get("/api/v1/budget-lines?purpose=everything&year=1", lang="ru")
    assert bad.status_code == 422
    assert {e["parameter"] for e in bad.get_json()["errors"]} == {"purpose", "year"}
    assert api.get("/api/v1/budget-lines?cursor=forged").status_code == 422


def test_a_token_reads_only_within_its_grants(app, client, api, session):
    shet = places.by_kato(session, SHET)
    token = make_token(app, "finance@demo.kz", [("finance", shet.id)])
    lines = _all(api, "/api/v1/budget-lines", token=token)
    assert lines and {item["unit"]["kato"] for item in lines} == {SHET}
    outside = _karaganda_line(session)
    assert outside not in [item["id"] for item in lines]
    assert api.get(f"/api/v1/budget-lines/{outside}", token=token).status_code == 404
    assert api.get(f"/api/v1/ledger-entries?line={outside}", token=token).get_json()["items"] == []


def test_who_may_read_money(app, client, api):
    for url in (
        "/api/v1/budget-lines",
        "/api/v1/decisions",
        "/api/v1/ledger-entries",
        "/api/v1/payouts",
    ):
        assert api.get(url).status_code == 401
    login_as(client, "volunteer@demo.kz")
    for url in (
        "/api/v1/budget-lines",
        "/api/v1/budget-lines/1",
        "/api/v1/decisions",
        "/api/v1/ledger-entries",
        "/api/v1/payouts",
    ):
        response = api.get(url)
        assert response.status_code == 403, url
        assert response.headers["Content-Type"].startswith("application/problem+json")


def test_decisions_are_scoped_and_filtered(app, client, api, session, kostanay):
    login_as(client, "finance@demo.kz")
    decisions = _all(api, "/api/v1/decisions")
    assert decisions and all(d["unit"]["kato"].startswith("35") for d in decisions)
    assert {d["entered_by"] for d in decisions} <= {
        u.full_name for u in session.scalars(select(accounts.User))
    }
    adoptions = _all(api, "/api/v1/decisions?kind=adoption")
    assert adoptions and {d["kind"] for d in adoptions} == {"adoption"}
    assert _all(api, "/api/v1/decisions?pending=true") == [
        d for d in decisions if d["status"] == "entered"
    ]
    assert api.get("/api/v1/decisions?kind=veto").status_code == 422

    [theirs] = _all(api, "/api/v1/decisions", token=make_token(app, "finance.kst@test.kz"))
    assert theirs["unit"]["kato"] == KOSTANAY and theirs["number"] == "30/1"
    assert theirs["status"] == "verified" and theirs["verified_at"].endswith("+00:00")


def test_ledger_entries_are_scoped_and_filtered(app, client, api, session, kostanay):
    login_as(client, "finance@demo.kz")
    entries = _all(api, "/api/v1/ledger-entries")
    assert entries and kostanay not in {e["line_id"] for e in entries}
    assert _all(api, f"/api/v1/ledger-entries?line={kostanay}") == []
    some_line = entries[0]["line_id"]
    on_line = _all(api, f"/api/v1/ledger-entries?line={some_line}")
    assert on_line and {e["line_id"] for e in on_line} == {some_line}
    disbursed = _all(api, "/api/v1/ledger-entries?kind=disburse")
    assert {e["kind"] for e in disbursed} <= {"disburse"}
    # Payouts are named by the reward they pay, as on a line's page.
    payout_entry = next(e for e in entries if e["reference_type"] == "payout")
    entry = session.get(LedgerEntry, payout_entry["id"])
    payout = session.get(Payout, int(entry.reference_id))
    assert payout_entry["reference_number"] == str(payout.item_id)
    page = client.get(f"/finance/lines/{payout_entry['line_id']}")
    assert f"/commission/payouts/{payout.item_id}" in page.text

    kst = make_token(app, "finance.kst@test.kz")
    [mine] = _all(api, "/api/v1/ledger-entries", token=kst)
    assert mine["line_id"] == kostanay and mine["amount_tiyn"] == 100_000
    assert mine["kind"] == "commit" and mine["actor"] == "Қ Ф"
    # Days are the portal's local days, as on a line's page.
    day = dt.datetime.fromisoformat(mine["at"]).astimezone(clock.zone()).date().isoformat()
    assert _all(api, f"/api/v1/ledger-entries?from={day}&to={day}", token=kst) == [mine]
    assert _all(api, "/api/v1/ledger-entries?from=2000-01-01&to=2000-01-02", token=kst) == []
    for bad in (
        "from=9999-12-31",
        "to=9999-12-31",
        "from=0001-01-01",
        "from=yesterday",
        "line=0",
        "line=99999999999",
    ):
        response = api.get(f"/api/v1/ledger-entries?{bad}")
        assert response.status_code == 422, bad


@pytest.mark.both_databases  # the payout state is read by correlated subqueries
def test_payouts_are_masked_as_the_payout_list(app, client, api, session):
    login_as(client, "finance@demo.kz")
    payouts = _all(api, "/api/v1/payouts")
    paid = [p for p in payouts if p["status"] == "paid"]
    assert paid, payouts
    page = client.get("/commission/payouts")
    assert page.status_code == 200
    shown = set(re.findall(r"KZ\*\* \*\*\*\* \*\*\*\* \d{4}", page.text))
    for item in payouts:
        if item["iban"] is not None:
            assert item["iban"] in shown
            assert re.fullmatch(r"KZ\*\* \*\*\*\* \*\*\*\* \d{4}", item["iban"])
    body = api.get("/api/v1/payouts?limit=100").text
    stored = {p.iban for p in session.scalars(select(Payout)) if p.iban}
    assert stored and not any(iban in body for iban in stored)
    assert IBAN not in body and "iin" not in body.lower()
    first = paid[0]
    assert first["gross_tiyn"] == first["net_tiyn"] + first["withheld_tiyn"]
    assert f"/commission/payouts/{first['id']}" in page.text

    only_paid = _all(api, "/api/v1/payouts?status=paid")
    assert [p["id"] for p in only_paid] == [p["id"] for p in paid]
    awaiting = _all(api, "/api/v1/payouts?status=awaiting")
    assert [p["id"] for p in awaiting] == [p["id"] for p in payouts if p["status"] == "awaiting"]
    assert all(p["gross_tiyn"] is None and p["iban"] is None for p in awaiting)
    line_id = first["line_id"]
    on_line = _all(api, f"/api/v1/payouts?line={line_id}")
    assert first["id"] in [p["id"] for p in on_line]
    assert {p["line_id"] for p in on_line} == {line_id}
    assert api.get("/api/v1/payouts?status=lost").status_code == 422

    client.post("/logout")
    login_as(client, "deputy@demo.kz")
    assert _all(api, "/api/v1/payouts") == payouts


def test_payouts_of_another_region_are_not_listed(app, client, api, session, kostanay):
    for login in ("finance.kst@test.kz", "deputy.kst@test.kz"):
        assert _all(api, "/api/v1/payouts", token=make_token(app, login)) == []
