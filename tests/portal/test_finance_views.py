"""Budget screens: jurisdiction, four-eyes decisions, bad amounts, ledger pages, MCI, jobs, demo."""

from __future__ import annotations

import datetime as dt
import json
import re
from zoneinfo import ZoneInfo

import pytest
from flask import render_template_string
from flask_babel import force_locale
from sqlalchemy import func, select, text

import demo
from budget import ledger
from budget.models import (
    Amendment,
    BudgetLine,
    BudgetProgram,
    FiscalYearClosure,
    MaslikhatDecision,
    MCIRate,
)
from core import accounts, jobruns, places
from core.audit import AuditEvent
from portal import jobs
from portal.extensions import db
from tests.conftest import login, make_stale, wait_for_jobs
from tests.factories.accounts import official

NBSP = "\u00a0"
TENGE = 100


def tenge(text: str) -> str:
    """Write an amount as the portal shows it: ``"23 500 000,00"`` -> with U+00A0 and ₸."""
    return text.replace(" ", NBSP) + NBSP + "₸"


def _load_budget(session) -> dict[tuple[str, str], int]:
    """Load the demo budget; return line ids by (district KATO, purpose)."""
    assert demo.load_budget(session) == 14
    session.commit()
    rows = session.execute(
        select(places.AdminUnit.kato, BudgetLine.purpose, BudgetLine.id)
        .join(BudgetProgram, BudgetLine.program_id == BudgetProgram.id)
        .join(places.AdminUnit, BudgetProgram.unit_id == places.AdminUnit.id)
    ).all()
    return {(kato, purpose): line_id for kato, purpose, line_id in rows}


BZ = "354000000"  # Bukhar-Zhyrau district: citizen rewards 21,000,000 + 2,500,000 clarified
ABAI = "353200000"  # Abai district: citizen rewards 18,500,000


def _user(session, email: str, role: str, kato: str, language: str = "en") -> accounts.User:
    session.rollback()  # a fresh transaction: SQLite refuses writes from a stale snapshot
    admin = accounts.find_by_login(session, "admin@demo.kz")
    unit = places.by_kato(session, kato)
    user = official(
        session,
        email,
        role,
        unit.id,
        password="district officer pass",
        full_name=f"{role.title()} of {kato}",
        language=language,
        actor_id=admin.id,
    )
    session.commit()
    return user


def _sign_in(client, login_name: str, password: str | None = None):
    response = login(client, login_name, *([password] if password else []))
    assert response.status_code == 302, login_name
    client.post("/language", data={"lang": "en"})  # assert on the English text


def _approved(session, line_id: int) -> int:
    session.rollback()
    return session.scalar(select(BudgetLine.approved_tiyn).where(BudgetLine.id == line_id))


def _count(session, model) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(model))


def _decision_data(unit_id: int, changes, kind: str = "clarification", number: str = "40/1"):
    data = {
        "unit_id": unit_id,
        "number": number,
        "decided_on": "2026-05-15",
        "session_number": "XL",
        "kind": kind,
        "reference": "https://adilet.zan.kz/kaz/docs/demo",
    }
    for i, (line_id, amount) in enumerate(changes):
        data[f"changes-{i}-line_id"] = line_id
        data[f"changes-{i}-amount"] = amount
    return data


def _commit_funds(session, line_id: int, amount_tiyn: int, key: str) -> None:
    session.rollback()
    ledger.commit_funds(
        session,
        line_id=line_id,
        amount_tiyn=amount_tiyn,
        reference_type="test",
        reference_id=key,
        actor_id=None,
        idempotency_key=key,
    )
    session.commit()


# ---- who sees what ----------------------------------------------------------------------------


def test_region_sees_every_district_line_with_amounts_and_bars(app, client, session):
    lines = _load_budget(session)
    _sign_in(client, "deputy@demo.kz")
    page = client.get("/finance/lines?year=2026")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Lines found: 14" in html
    assert tenge("23 500 000,00") in html  # Bukhar-Zhyrau after the clarification
    assert tenge("18 500 000,00") in html  # Abai
    # The execution bar is announced to screen readers with its value, and shown as text.
    assert re.search(r'role="progressbar" aria-label="Paid" aria-valuenow="0"', html)
    assert f"/finance/lines/{lines[(BZ, 'citizen_rewards')]}" in html
    # 7 districts: 18.5+9.8+23.5+14.3+11.7+16.2+10.9 + 4.2+3.1+5.6+4.9+3.8+4.4+3.5 million
    assert tenge("134 400 000,00") in html  # the total of the filtered lines
    sober = client.get("/finance/lines?purpose=sober_settlement_incentives").get_data(as_text=True)
    assert "Lines found: 7" in sober
    assert tenge("29 500 000,00") in sober  # 4.2+3.1+5.6+4.9+3.8+4.4+3.5 million


def test_district_officers_see_only_their_district(app, client, session):
    lines = _load_budget(session)
    _user(session, "deputy-abai@demo.kz", "deputy", ABAI)
    _user(session, "finance-abai@demo.kz", "finance", ABAI)
    bz_line = lines[(BZ, "citizen_rewards")]
    abai_line = lines[(ABAI, "citizen_rewards")]
    adoption = session.scalar(
        select(MaslikhatDecision.id).where(MaslikhatDecision.number == demo.ADOPTION_NUMBER)
    )
    for login_name in ("deputy-abai@demo.kz", "finance-abai@demo.kz"):
        c = app.test_client()
        _sign_in(c, login_name, "district officer pass")
        html = c.get("/finance/lines").get_data(as_text=True)
        assert "Lines found: 2" in html
        assert tenge("18 500 000,00") in html
        assert tenge("23 500 000,00") not in html and f"/finance/lines/{bz_line}" not in html
        assert c.get(f"/finance/lines/{abai_line}").status_code == 200
        other = c.get(f"/finance/lines/{bz_line}")
        assert other.status_code == 404
        assert tenge("23 500 000,00") not in other.get_data(as_text=True)
        # The regional maslikhat's decision belongs to the region, above the district.
        assert c.get(f"/finance/decisions/{adoption}").status_code == 404
        assert "34/312" not in c.get("/finance/decisions").get_data(as_text=True)
    c = app.test_client()
    _sign_in(c, "finance-abai@demo.kz", "district officer pass")
    # A district officer cannot enter a change to another district's line ...
    abai = places.by_kato(session, ABAI)
    refused = c.post("/finance/decisions/new", data=_decision_data(abai.id, [(bz_line, "1000")]))
    assert refused.status_code == 400  # the line is not among the choices
    assert _count(session, MaslikhatDecision) == 2
    assert _approved(session, bz_line) == 23_500_000 * TENGE


def test_other_roles_cannot_open_the_budget(app, client, session):
    _load_budget(session)
    _sign_in(client, "volunteer@demo.kz")
    assert client.get("/finance/lines").status_code == 403
    other = app.test_client()
    _sign_in(other, "deputy@demo.kz")  # deputies read, never write
    assert other.get("/finance/decisions/new").status_code == 403
    assert other.post("/finance/programs/new", data={}).status_code == 403


# ---- four eyes --------------------------------------------------------------------------------


def test_a_decision_changes_nothing_until_a_second_officer_verifies_it(app, client, session):
    lines = _load_budget(session)
    line_id = lines[(BZ, "citizen_rewards")]
    region = places.by_kato(session, "350000000")
    _sign_in(client, "finance@demo.kz")
    response = client.post(
        "/finance/decisions/new",
        data=_decision_data(region.id, [(line_id, "1 000 000,50")]),
    )
    assert response.status_code == 302
    decision_url = response.headers["Location"]
    session.rollback()
    decision = session.scalar(select(MaslikhatDecision).where(MaslikhatDecision.number == "40/1"))
    assert decision.verified_by_id is None
    assert _approved(session, line_id) == 23_500_000 * TENGE
    page = client.get(decision_url).get_data(as_text=True)
    assert "Awaiting verification" in page and tenge("1 000 000,50") in page
    assert tenge("23 500 000,00") in client.get(f"/finance/lines/{line_id}").get_data(as_text=True)

    # The author cannot verify their own decision: refused with the reason, nothing changes.
    own = client.post(f"/finance/decisions/{decision.id}/verify")
    assert own.status_code == 403
    assert "must be verified by someone other than who entered it" in own.get_data(as_text=True)
    assert _approved(session, line_id) == 23_500_000 * TENGE
    assert session.get(MaslikhatDecision, decision.id).verified_by_id is None

    second = app.test_client()
    _sign_in(second, "finance2@demo.kz")
    # Approving needs a password typed in the last minutes; a stale session must confirm.
    make_stale(second)
    stale = second.post(f"/finance/decisions/{decision.id}/verify")
    assert stale.headers["Location"].startswith("/account/confirm?next=")
    assert session.get(MaslikhatDecision, decision.id).verified_by_id is None
    second.post("/account/confirm", data={"password": "demo-portal-2026", "next": "/"})
    done = second.post(f"/finance/decisions/{decision.id}/verify")
    assert done.status_code == 302
    assert _approved(session, line_id) == 24_500_000 * TENGE + 50
    verifier = accounts.find_by_login(session, "finance2@demo.kz")
    assert session.get(MaslikhatDecision, decision.id).verified_by_id == verifier.id
    line_page = second.get(f"/finance/lines/{line_id}").get_data(as_text=True)
    assert tenge("24 500 000,50") in line_page and "40/1" in line_page
    assert "Maslikhat decision verified" in second.get(decision_url).get_data(as_text=True)
    actions = session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.object_type == "maslikhat_decision",
            AuditEvent.object_id == str(decision.id),
        )
    ).all()
    assert sorted(actions) == ["budget.decision_enter", "budget.decision_verify"]
    # Verifying again is refused and does not add the money twice.
    again = second.post(f"/finance/decisions/{decision.id}/verify")
    assert again.status_code == 409
    assert _approved(session, line_id) == 24_500_000 * TENGE + 50


# ---- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "kind", "status", "message"),
    [
        ("0", "clarification", 422, "A line change cannot be zero."),
        ("12,345", "clarification", 422, "at most two decimals (tiyn): 12,345"),
        ("a lot", "clarification", 422, "Enter an amount in tenge"),
        ("-5", "adoption", 422, f"An adoption approves amounts; -5,00{NBSP}₸"),
        ("-30 000 000", "clarification", 409, "cannot fall below"),
    ],
)
def test_bad_amounts_are_refused_with_the_numbers(
    app, client, session, amount, kind, status, message
):
    lines = _load_budget(session)
    region = places.by_kato(session, "350000000")
    before = (_count(session, MaslikhatDecision), _count(session, Amendment))
    _sign_in(client, "finance@demo.kz")
    events = _count(session, AuditEvent)  # after the sign-in, which is audited itself
    response = client.post(
        "/finance/decisions/new",
        data=_decision_data(region.id, [(lines[(BZ, "citizen_rewards")], amount)], kind=kind),
    )
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert (_count(session, MaslikhatDecision), _count(session, Amendment)) == before
    assert _count(session, AuditEvent) == events


def test_amendment_below_what_is_spent_is_refused(app, client, session):
    lines = _load_budget(session)
    line_id = lines[(BZ, "citizen_rewards")]
    region = places.by_kato(session, "350000000")
    _commit_funds(session, line_id, 20_000_000 * TENGE, "spent-1")
    _sign_in(client, "finance@demo.kz")

    # Refused when entered: 23.5 million - 5 million is below the 20 million committed.
    cut = client.post(
        "/finance/decisions/new", data=_decision_data(region.id, [(line_id, "-5000000")])
    )
    html = cut.get_data(as_text=True)
    assert cut.status_code == 409
    assert tenge("20 000 000,00") in html and tenge("18 500 000,00") in html
    assert _count(session, MaslikhatDecision) == 2

    # Entered while it fitted, refused at verification after more money was committed.
    ok = client.post(
        "/finance/decisions/new", data=_decision_data(region.id, [(line_id, "-3 000 000")])
    )
    assert ok.status_code == 302
    decision_id = int(ok.headers["Location"].rsplit("/", 1)[1])
    _commit_funds(session, line_id, 1_000_000 * TENGE, "spent-2")
    second = app.test_client()
    _sign_in(second, "finance2@demo.kz")
    refused = second.post(f"/finance/decisions/{decision_id}/verify")
    assert refused.status_code == 409
    assert tenge("21 000 000,00") in refused.get_data(as_text=True)
    assert _approved(session, line_id) == 23_500_000 * TENGE
    assert session.get(MaslikhatDecision, decision_id).verified_at is None


def test_programs_lines_and_closed_years(app, client, session):
    _load_budget(session)
    district = places.by_kato(session, ABAI)
    _sign_in(client, "finance@demo.kz")
    program = {
        "unit_id": district.id,
        "fiscal_year": "2027",
        "functional_group": "03",
        "sub_function": "1",
        "administrator": "252",
        "program": "003",
        "sub_program": "",
        "name_kk": "Азаматтарды көтермелеу",
        "name_ru": "Поощрение граждан",
        "administrator_body": "Абай ауданы әкімінің аппараты",
    }
    created = client.post("/finance/programs/new", data=program)
    assert created.status_code == 302
    program_id = int(created.headers["Location"].rsplit("=", 1)[1])
    duplicate = client.post("/finance/programs/new", data=program)
    assert duplicate.status_code == 409
    assert "03-1-252-003 of 2027 already exists" in duplicate.get_data(as_text=True)
    bad_code = client.post("/finance/programs/new", data={**program, "program": "0x3"})
    assert bad_code.status_code == 400

    line = client.post(
        "/finance/lines/new", data={"program_id": program_id, "purpose": "citizen_rewards"}
    )
    assert line.status_code == 302
    line_id = int(line.headers["Location"].rsplit("/", 1)[1])
    again = client.post(
        "/finance/lines/new", data={"program_id": program_id, "purpose": "citizen_rewards"}
    )
    assert again.status_code == 409

    closed = client.post("/finance/years/close", data={"unit_id": district.id, "year": "2027"})
    assert closed.status_code == 302
    session.rollback()
    assert session.get(FiscalYearClosure, (district.id, 2027)) is not None
    twice = client.post("/finance/years/close", data={"unit_id": district.id, "year": "2027"})
    assert twice.status_code == 409 and "already closed" in twice.get_data(as_text=True)
    # Lines of a closed year are no longer offered for decisions, and the domain refuses them.
    refused = client.post(
        "/finance/decisions/new", data=_decision_data(district.id, [(line_id, "1000")])
    )
    assert refused.status_code == 400
    assert _approved(session, line_id) == 0
    actions = set(
        session.scalars(
            select(AuditEvent.action).where(
                AuditEvent.action.in_(
                    ["budget.program_create", "budget.line_create", "budget.year_close"]
                ),
                AuditEvent.actor_id == accounts.find_by_login(session, "finance@demo.kz").id,
                AuditEvent.object_id.in_([str(program_id), str(line_id), str(district.id)]),
            )
        )
    )
    assert actions == {"budget.program_create", "budget.line_create", "budget.year_close"}


# ---- the ledger on the line page --------------------------------------------------------------


def test_ledger_is_paginated_and_filtered(app, client, session):
    lines = _load_budget(session)
    line_id = lines[(ABAI, "sober_settlement_incentives")]
    for n in range(60):
        ledger.commit_funds(
            session,
            line_id=line_id,
            amount_tiyn=1000 * TENGE,
            reference_type="test",
            reference_id=n,
            actor_id=None,
            idempotency_key=f"page-{n}",
        )
    for n in range(5):
        ledger.release_funds(
            session,
            line_id=line_id,
            amount_tiyn=500 * TENGE,
            reference_type="test",
            reference_id=n,
            actor_id=None,
            idempotency_key=f"page-release-{n}",
        )
    session.commit()
    _sign_in(client, "deputy@demo.kz")
    url = f"/finance/lines/{line_id}"
    first = client.get(url).get_data(as_text=True)
    assert "Entries found: 65" in first and first.count('class="ledger-entry"') == 50
    assert tenge("57 500,00") in first  # committed: 60,000 - 2,500
    second = client.get(url + "?page=2").get_data(as_text=True)
    assert second.count('class="ledger-entry"') == 15
    released = client.get(url + "?kind=release").get_data(as_text=True)
    assert "Entries found: 5" in released and released.count('class="ledger-entry"') == 5
    assert tenge("500,00") in released and "Commitment</td>" not in released
    today = dt.datetime.now(ZoneInfo("Asia/Almaty")).date()
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    assert "Entries found: 65" in client.get(f"{url}?from={today}&to={today}").get_data(
        as_text=True
    )
    assert "Entries found: 0" in client.get(f"{url}?from={tomorrow}").get_data(as_text=True)
    assert "Entries found: 0" in client.get(f"{url}?to={yesterday}").get_data(as_text=True)
    assert client.get(f"{url}?from=not-a-date").status_code == 200  # ignored, not a 500


# ---- money, MCI, jobs, demo -------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_money_filter_writes_tenge_with_non_breaking_spaces(app, lang):
    with app.test_request_context(), force_locale(lang):
        assert render_template_string("{{ 123456700|money }}") == "1\u00a0234\u00a0567,00\u00a0₸"
        assert render_template_string("{{ -5|money }}") == "-0,05\u00a0₸"
        assert render_template_string("{{ 0|money }}") == "0,00\u00a0₸"


def test_admin_keeps_the_mci_and_every_change_is_audited(app, client, session):
    this_year = dt.date.today().year
    future = this_year + 1
    _sign_in(client, "admin@demo.kz")
    assert tenge("4 325,00") in client.get("/finance/mci").get_data(as_text=True)
    added = client.post("/finance/mci", data={"year": future, "amount": "4 600"})
    assert added.status_code == 302
    assert session.get(MCIRate, future).amount_tiyn == 4600 * TENGE
    corrected = client.post("/finance/mci", data={"year": future, "amount": "4 650,50"})
    assert corrected.status_code == 302
    session.rollback()
    assert session.get(MCIRate, future).amount_tiyn == 465050
    payloads = [
        e.data
        for e in session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "budget.mci_set", AuditEvent.object_id == str(future))
            .order_by(AuditEvent.seq)
        )
    ]
    assert payloads == [
        {"year": future, "old_tiyn": None, "new_tiyn": 460000},
        {"year": future, "old_tiyn": 460000, "new_tiyn": 465050},
    ]
    if session.get(MCIRate, this_year) is None:
        assert (
            client.post("/finance/mci", data={"year": this_year, "amount": "4325"}).status_code
            == 302
        )
    in_force = session.get(MCIRate, this_year).amount_tiyn
    refused = client.post("/finance/mci", data={"year": this_year, "amount": "9999"})
    assert refused.status_code == 409
    assert "is in force and cannot be changed" in refused.get_data(as_text=True)
    session.rollback()
    assert session.get(MCIRate, this_year).amount_tiyn == in_force
    for bad in ("-1", "0", "4 325,005"):
        response = client.post("/finance/mci", data={"year": future, "amount": bad})
        assert response.status_code == 422, bad
    session.rollback()
    assert session.get(MCIRate, future).amount_tiyn == 465050
    # Only administrators of the whole country set the MCI.
    finance = app.test_client()
    _sign_in(finance, "finance@demo.kz")
    assert finance.post("/finance/mci", data={"year": future, "amount": "1"}).status_code == 403
    _user(session, "admin-karaganda@demo.kz", "admin", "350000000")
    regional = app.test_client()
    _sign_in(regional, "admin-karaganda@demo.kz", "district officer pass")
    assert regional.post("/finance/mci", data={"year": future, "amount": "1"}).status_code == 403
    session.rollback()
    assert session.get(MCIRate, future).amount_tiyn == 465050


def test_reconcile_job_records_its_outcome(app, session):
    lines = _load_budget(session)
    line_id = lines[(BZ, "citizen_rewards")]
    _commit_funds(session, line_id, 1_000 * TENGE, "rec-1")
    with app.app_context():
        run = jobs.submit("budget.reconcile", requested_by_id=None, unit_id=None)
        db.session.commit()
        run_id = run.id
    wait_for_jobs(app)
    session.rollback()
    done = session.get(jobruns.JobRun, run_id)
    assert done.status == "succeeded"
    assert json.loads(done.result) == {"ok": True, "drifts": []}
    event = session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "budget.reconcile", AuditEvent.object_id == str(run_id)
        )
    )
    assert event.data == {"ok": True, "drifts": []}

    # A counter changed behind the ledger's back is reported with both numbers.
    session.execute(
        text("UPDATE budget_line SET committed_tiyn = committed_tiyn + 1 WHERE id = :id"),
        {"id": line_id},
    )
    session.commit()
    with app.app_context():
        run = jobs.submit("budget.reconcile", requested_by_id=None, unit_id=None)
        db.session.commit()
        run_id = run.id
    wait_for_jobs(app)
    session.rollback()
    result = json.loads(session.get(jobruns.JobRun, run_id).result)
    assert result["ok"] is False
    assert result["drifts"] == [
        {
            "check": "line_ledger",
            "object_type": "budget_line",
            "object_id": line_id,
            "numbers": {
                "committed": 1_000 * TENGE + 1,
                "committed_by_ledger": 1_000 * TENGE,
                "disbursed": 0,
                "disbursed_by_ledger": 0,
            },
        }
    ]


def test_finance_starts_the_reconcile_from_the_lines_page(app, client, session):
    _load_budget(session)
    _sign_in(client, "finance@demo.kz")
    response = client.post("/finance/reconcile")
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
    wait_for_jobs(app)
    status = client.get(response.headers["Location"] + "/status.json").get_json()
    assert status["status"] == "succeeded" and status["result"]["ok"] is True
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The books agree: every line with its ledger and its verified decisions" in page


def test_demo_budget_loads_once(app, session):
    lines = _load_budget(session)
    assert demo.load_budget(session) == 0
    session.commit()
    assert len(lines) == 14
    assert {purpose for _kato, purpose in lines} == {
        "citizen_rewards",
        "sober_settlement_incentives",
    }
    assert {kato for kato, _purpose in lines} == set(demo.BUDGET_DISTRICTS)
    assert _count(session, BudgetLine) == 14 and _count(session, MaslikhatDecision) == 2
    finance = accounts.find_by_login(session, "finance@demo.kz")
    second = accounts.find_by_login(session, "finance2@demo.kz")
    assert "finance" in second.roles()
    decisions = session.scalars(select(MaslikhatDecision).order_by(MaslikhatDecision.id)).all()
    assert [d.kind for d in decisions] == ["adoption", "clarification"]
    assert all(d.entered_by_id == finance.id and d.verified_by_id == second.id for d in decisions)
    assert _approved(session, lines[(BZ, "citizen_rewards")]) == 23_500_000 * TENGE
    assert _approved(session, lines[(ABAI, "citizen_rewards")]) == 18_500_000 * TENGE
    assert ledger.reconcile(session) == []


def test_every_budget_page_renders_for_finance_and_deputy(app, session):
    lines = _load_budget(session)
    line_id = lines[(BZ, "citizen_rewards")]
    decision_id = session.scalar(select(func.min(MaslikhatDecision.id)))
    for login_name in ("finance@demo.kz", "deputy@demo.kz"):
        c = app.test_client()
        _sign_in(c, login_name)
        for url, needle in [
            ("/finance/lines", tenge("23 500 000,00")),
            (f"/finance/lines/{line_id}", "37/340"),
            ("/finance/programs", "03-1-252-003"),
            ("/finance/decisions", "34/312"),
            (f"/finance/decisions/{decision_id}", tenge("21 000 000,00")),
            ("/finance/years", "Fiscal years"),
            ("/finance/mci", tenge("4 325,00")),
        ]:
            response = c.get(url)
            assert response.status_code == 200, (login_name, url)
            assert needle in response.get_data(as_text=True), (login_name, url)
    c = app.test_client()
    _sign_in(c, "finance@demo.kz")
    for url in ("/finance/decisions/new", "/finance/programs/new", "/finance/lines/new"):
        assert c.get(url).status_code == 200, url
    # The nav shows the budget to finance and deputies and the MCI to admins.
    assert 'href="/finance/lines"' in c.get("/").get_data(as_text=True)
    admin = app.test_client()
    _sign_in(admin, "admin@demo.kz")
    assert 'href="/finance/mci"' in admin.get("/").get_data(as_text=True)
