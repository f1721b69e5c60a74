"""Budget integrity: a decision verified once under twenty attempts, and reconciliation that
sees every kind of drift (lines against ledger and decisions, rewards, payouts).

Finding 1 of the workflow-integrity issue: of ten parallel verifications of one maslikhat
decision six to eight were accepted, each adding the decision's amounts to the lines again,
and neither ``budget reconcile`` nor the red flags noticed.
"""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import demo
from budget import appropriations, ledger
from budget.models import BudgetLine, FiscalYearClosure, LedgerEntry, MaslikhatDecision
from core import accounts, audit, jobruns, places
from core.audit import AuditEvent
from core.transitions import AlreadyMoved
from incentives import reconcile
from incentives.models import AgendaItem, Payout
from portal import jobs
from portal.extensions import db
from tests.conftest import (
    already_done,
    audit_count,
    engine_of,
    login_as,
    race,
    same_browser,
    wait_for_jobs,
)

# Both databases: guarded budget steps and constraints.
pytestmark = pytest.mark.both_databases

N = 20
TENGE = 100
BZ = "354000000"  # Bukhar-Zhyrau district: citizen rewards 23,500,000 ₸ after the demo budget
ABAI = "353200000"


def _line_id(s: Session, kato: str, purpose: str = "citizen_rewards") -> int:
    from budget.models import BudgetProgram

    return s.scalar(
        select(BudgetLine.id)
        .join(BudgetProgram, BudgetProgram.id == BudgetLine.program_id)
        .join(places.AdminUnit, places.AdminUnit.id == BudgetProgram.unit_id)
        .where(places.AdminUnit.kato == kato, BudgetLine.purpose == purpose)
    )


def _entered_decision(s: Session, line_id: int, amount_tiyn: int) -> int:
    """Enter a clarification raising ``line_id`` by ``amount_tiyn`` (finance@demo.kz)."""
    decision = appropriations.enter_decision(
        s,
        unit_id=places.by_kato(s, "350000000").id,
        number="41/7",
        decided_on=dt.date(2026, 6, 20),
        session_number="XLI",
        kind="clarification",
        reference="https://adilet.zan.kz/kaz/docs/demo-41-7",
        amendments=[(line_id, amount_tiyn)],
        actor_id=accounts.find_by_login(s, "finance@demo.kz").id,
    )
    return decision.id


def _already_done(app, who, state: str) -> str:
    return already_done(
        app, who.preferred_language, who=who.full_name, workflow="maslikhat_decision", state=state
    )


# ---- finding 1: twenty verifications of one decision ------------------------------------------


def test_twenty_verify_posts_raise_the_line_once(pg_app):
    """A second finance officer double-clicks "verify" twenty times: one verification."""
    engine = engine_of(pg_app)
    with Session(engine) as s:
        demo.load_budget(s)
        s.commit()
        line_id = _line_id(s, BZ)
        decision_id = _entered_decision(s, line_id, 5_000_000 * TENGE)
        s.commit()
        verifier = accounts.find_by_login(s, "finance2@demo.kz")
        told = _already_done(pg_app, verifier, "verified")
        before = s.get(BudgetLine, line_id).approved_tiyn
    officer = pg_app.test_client()
    login_as(officer, "finance2@demo.kz")
    browsers = [same_browser(officer) for _ in range(N)]

    responses = race(N, lambda i: browsers[i].post(f"/finance/decisions/{decision_id}/verify"))

    assert not [r for r in responses if isinstance(r, Exception)], responses
    assert sorted(r.status_code for r in responses) == [302] + [409] * (N - 1)
    lost = next(r for r in responses if r.status_code == 409)
    assert told in lost.text  # the loser's page says who verified it first
    with Session(engine) as s:
        assert s.get(BudgetLine, line_id).approved_tiyn == before + 5_000_000 * TENGE
        decision = s.get(MaslikhatDecision, decision_id)
        assert decision.status == "verified" and decision.verified_by_id == verifier.id
        assert audit_count(s, "budget.decision_verify", "maslikhat_decision", decision_id) == 1
        assert reconcile.everything(s) == []
        assert audit.verify_chain(s).ok
    # The decision's page shows who verified it and when, and offers no second verification.
    page = officer.get(f"/finance/decisions/{decision_id}").text
    assert verifier.full_name in page and "Awaiting verification" not in page
    assert f"/finance/decisions/{decision_id}/verify" not in page


def test_twenty_sessions_verifying_one_decision_apply_it_once(pg_app):
    """The same race at the domain level, each attempt in its own transaction."""
    engine = engine_of(pg_app)
    with Session(engine) as s:
        demo.load_budget(s)
        s.commit()
        line_id = _line_id(s, ABAI)
        decision_id = _entered_decision(s, line_id, 1_234_567 * TENGE)
        s.commit()
        verifier_id = accounts.find_by_login(s, "finance2@demo.kz").id
        before = s.get(BudgetLine, line_id).approved_tiyn

    def verify(_i: int) -> str:
        with Session(engine) as s:
            appropriations.verify_decision(s, decision_id=decision_id, actor_id=verifier_id)
            s.commit()
        return "verified"

    results = race(N, verify)

    assert results.count("verified") == 1, results
    losers = [r for r in results if r != "verified"]
    assert len(losers) == N - 1
    assert all(isinstance(r, AlreadyMoved) and r.status == 409 for r in losers), losers
    with Session(engine) as s:
        assert s.get(BudgetLine, line_id).approved_tiyn == before + 1_234_567 * TENGE
        assert audit_count(s, "budget.decision_verify", "maslikhat_decision", decision_id) == 1
        assert reconcile.everything(s) == []


def test_a_verification_decided_on_a_stale_read_changes_nothing(app, session):
    """The interleaving behind finding 1, made deterministic: B reads, A verifies, B verifies.

    B read the decision while it was still awaiting verification (as a request does before
    it acts); A's verification commits in between. B must be refused by the guarded step, not
    by what it read, and must not add the amounts a second time.
    """
    from portal.database import READ_ONLY_OPTION

    demo.load_budget(session)
    session.commit()
    line_id = _line_id(session, BZ)
    decision_id = _entered_decision(session, line_id, 3_000_000 * TENGE)
    session.commit()
    verifier_id = accounts.find_by_login(session, "finance2@demo.kz").id
    admin_id = accounts.find_by_login(session, "admin@demo.kz").id
    before = session.get(BudgetLine, line_id).approved_tiyn
    session.commit()
    engine = engine_of(app)
    with Session(
        engine.execution_options(**{READ_ONLY_OPTION: True}), expire_on_commit=False
    ) as late:
        stale = late.get(MaslikhatDecision, decision_id)
        assert stale.verified_at is None
        late.commit()  # B's read is over; what it read stays in its session
        with Session(engine) as first:
            appropriations.verify_decision(first, decision_id=decision_id, actor_id=admin_id)
            first.commit()
        with pytest.raises(AlreadyMoved):
            appropriations.verify_decision(late, decision_id=decision_id, actor_id=verifier_id)
        late.rollback()
    session.rollback()
    assert session.get(BudgetLine, line_id).approved_tiyn == before + 3_000_000 * TENGE
    assert session.get(MaslikhatDecision, decision_id).verified_by_id == admin_id
    assert audit_count(session, "budget.decision_verify", "maslikhat_decision", decision_id) == 1
    assert reconcile.everything(session) == []


def test_twenty_closings_of_one_fiscal_year_close_it_once(pg_app):
    """Closing a year twice at once is a clean 409, not an error page."""
    engine = engine_of(pg_app)
    with Session(engine) as s:
        demo.load_budget(s)
        s.commit()
        unit_id = places.by_kato(s, ABAI).id
    officer = pg_app.test_client()
    login_as(officer, "finance@demo.kz")
    browsers = [same_browser(officer) for _ in range(N)]

    responses = race(
        N,
        lambda i: browsers[i].post("/finance/years/close", data={"unit_id": unit_id, "year": 2027}),
    )

    assert not [r for r in responses if isinstance(r, Exception)], responses
    assert sorted(r.status_code for r in responses) == [302] + [409] * (N - 1)
    with Session(engine) as s:
        closures = s.scalars(
            select(FiscalYearClosure).where(FiscalYearClosure.unit_id == unit_id)
        ).all()
        assert [c.fiscal_year for c in closures] == [2027]
        events = s.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "budget.year_close")
        )
        assert events == 1


def test_a_verified_decision_cannot_be_verified_again_and_the_page_says_who(app, session):
    demo.load_budget(session)
    session.commit()
    line_id = _line_id(session, BZ)
    decision_id = _entered_decision(session, line_id, 700 * TENGE)
    session.commit()
    officer = app.test_client()
    login_as(officer, "finance2@demo.kz")
    officer.post("/language", data={"lang": "en"})
    assert officer.post(f"/finance/decisions/{decision_id}/verify").status_code == 302
    again = officer.post(f"/finance/decisions/{decision_id}/verify")
    assert again.status_code == 409
    assert "Already done by" in again.text and "Nothing was changed" in again.text
    session.rollback()
    verifier = accounts.find_by_login(session, "finance2@demo.kz")
    assert session.get(BudgetLine, line_id).approved_tiyn == 23_500_700 * TENGE
    assert verifier.full_name in again.text  # the page shows who verified, and when
    # The decision's state and its record agree, in the database itself.
    with pytest.raises(IntegrityError, match="verification_recorded"):
        session.execute(
            text("UPDATE maslikhat_decision SET status = 'entered' WHERE id = :id"),
            {"id": decision_id},
        )
    session.rollback()


# ---- the same idempotency key with other details ---------------------------------------------


def test_a_reused_idempotency_key_with_other_details_is_a_422_and_moves_nothing(app, session):
    demo.load_budget(session)
    session.commit()
    line_id = _line_id(session, BZ)

    def commit(amount: int):
        return ledger.commit_funds(
            session,
            line_id=line_id,
            amount_tiyn=amount,
            reference_type="test",
            reference_id="order-1",
            actor_id=None,
            idempotency_key="order-1",
        )

    first = commit(1_000 * TENGE)
    session.commit()
    assert commit(1_000 * TENGE).id == first.id  # the same request: the same entry
    with pytest.raises(ledger.IdempotencyConflict) as refused:
        commit(2_000 * TENGE)
    assert refused.value.status == 422
    session.rollback()
    assert session.get(BudgetLine, line_id).committed_tiyn == 1_000 * TENGE
    assert session.scalar(select(func.count()).select_from(LedgerEntry)) == 1


# ---- reconciliation that sees everything ------------------------------------------------------


def _paid_and_unpaid(app, session) -> tuple[SimpleNamespace, SimpleNamespace]:
    """Return a paid cash payout and an approved money item not paid yet, from the demo.

    As plain values, and with the session's read snapshot ended: on SQLite a transaction that
    read before another connection wrote (the demo's mail jobs) could not write after.
    """
    wait_for_jobs(app)
    session.rollback()
    paid = session.scalars(
        select(Payout).where(Payout.status == "paid").order_by(Payout.id)
    ).first()
    settled = select(Payout.item_id).where(Payout.status.in_(("paid", "handed_over", "voided")))
    unpaid = session.scalars(
        select(AgendaItem)
        .where(
            AgendaItem.outcome == "approved",
            AgendaItem.ledger_entry_id.is_not(None),
            AgendaItem.id.not_in(settled),
        )
        .order_by(AgendaItem.id)
    ).first()
    assert paid is not None and unpaid is not None
    found = (
        SimpleNamespace(id=paid.id, line_id=paid.item.line_id),
        SimpleNamespace(
            id=unpaid.id, line_id=unpaid.line_id, amount_tiyn=unpaid.nomination.amount_tiyn
        ),
    )
    session.rollback()
    return found


def _plant_entry(session, *, line_id, kind, amount, reference_type, reference_id, key):
    """Write a ledger entry behind the ledger's back (no guard, no counters, no audit)."""
    session.execute(
        insert(LedgerEntry).values(
            line_id=line_id,
            kind=kind,
            amount_tiyn=amount,
            reference_type=reference_type,
            reference_id=str(reference_id),
            actor_id=None,
            at=dt.datetime(2026, 7, 1, 9, tzinfo=dt.UTC),
            idempotency_key=key,
            request_hash="planted",
            note="",
        )
    )


def _checks(findings) -> set[tuple[str, str, int]]:
    return {(f.check, f.object_type, f.object_id) for f in findings}


@pytest.mark.demo_data
def test_a_clean_demo_reconciles_and_the_command_says_ok(app, session):
    assert reconcile.everything(session) == []
    session.rollback()
    result = app.test_cli_runner().invoke(args=["budget", "reconcile"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK:")


def _plant_line_raised_twice(session, paid, unpaid):
    # Finding 1 as it was: a decision's 5,000,000 ₸ added to the line a second time.
    line_id = unpaid.line_id
    session.execute(
        text("UPDATE budget_line SET approved_tiyn = approved_tiyn + :d WHERE id = :id"),
        {"d": 5_000_000 * TENGE, "id": line_id},
    )
    return ("line_decisions", "budget_line", line_id)


def _plant_counter_drift(session, paid, unpaid):
    line_id = unpaid.line_id
    session.execute(
        text("UPDATE budget_line SET committed_tiyn = committed_tiyn + 1 WHERE id = :id"),
        {"id": line_id},
    )
    return ("line_ledger", "budget_line", line_id)


def _plant_second_commitment(session, paid, unpaid):
    # One reward holding its amount twice: a second commit for the item, counters kept in step
    # so that only the item's commitments tell.
    amount = unpaid.amount_tiyn
    _plant_entry(
        session,
        line_id=unpaid.line_id,
        kind="commit",
        amount=amount,
        reference_type="agenda_item",
        reference_id=unpaid.id,
        key=f"planted-award-{unpaid.id}",
    )
    session.execute(
        text("UPDATE budget_line SET committed_tiyn = committed_tiyn + :a WHERE id = :id"),
        {"a": amount, "id": unpaid.line_id},
    )
    return ("item_commitment", "agenda_item", unpaid.id)


def _plant_deferred_keeping_its_commitment(session, paid, unpaid):
    # Finding 2 as it was: an item flipped to deferred that kept its commitment (its pointer
    # to the entry cleared, as the database requires of an item not approved; the money not).
    session.execute(
        text("UPDATE agenda_item SET outcome = 'deferred', ledger_entry_id = NULL WHERE id = :id"),
        {"id": unpaid.id},
    )
    return ("item_commitment", "agenda_item", unpaid.id)


def _plant_second_disbursement(session, paid, unpaid):
    # A payout paid twice: a second disbursement, counters moved as a disbursement would.
    line_id = paid.line_id
    _plant_entry(
        session,
        line_id=line_id,
        kind="disburse",
        amount=1 * TENGE,
        reference_type="payout",
        reference_id=paid.id,
        key=f"planted-payout-{paid.id}",
    )
    _plant_entry(
        session,
        line_id=line_id,
        kind="commit",
        amount=1 * TENGE,
        reference_type="test",
        reference_id="cover",
        key="planted-cover",
    )
    session.execute(
        text("UPDATE budget_line SET disbursed_tiyn = disbursed_tiyn + 100 WHERE id = :id"),
        {"id": line_id},
    )
    return ("payout_disbursement", "payout", paid.id)


@pytest.mark.demo_data
@pytest.mark.parametrize(
    "plant",
    [
        _plant_line_raised_twice,
        _plant_counter_drift,
        _plant_second_commitment,
        _plant_deferred_keeping_its_commitment,
        _plant_second_disbursement,
    ],
    ids=lambda f: f.__name__.removeprefix("_plant_"),
)
def test_reconciliation_reports_each_kind_of_drift(app, session, plant):
    assert reconcile.everything(session) == []
    paid, unpaid = _paid_and_unpaid(app, session)
    expected = plant(session, paid, unpaid)
    session.commit()

    findings = reconcile.everything(session)
    assert expected in _checks(findings), findings
    # The command prints the difference and exits 1, for cron and the operators.
    session.rollback()
    result = app.test_cli_runner().invoke(args=["budget", "reconcile"])
    assert result.exit_code == 1
    finding = next(f for f in findings if (f.check, f.object_type, f.object_id) == expected)
    assert finding.describe() in result.output
    # The nightly job records the same report and fails the check.
    with app.app_context():
        run = jobs.submit("budget.reconcile", requested_by_id=None, unit_id=None)
        db.session.commit()
        run_id = run.id
    wait_for_jobs(app)
    session.rollback()
    done = session.get(jobruns.JobRun, run_id)
    # Drift fails the run (issue 18: "Done" hid it), with the finding as its message.
    assert done.status == "failed" and finding.describe() in done.message
    report = json.loads(done.result)
    assert report["ok"] is False
    assert finding.as_dict() in report["drifts"]


@pytest.mark.demo_data
def test_money_that_should_have_moved_and_did_not_is_reported(app, session):
    """The other direction: a paid payout without its disbursement, an item without its hold."""
    paid, unpaid = _paid_and_unpaid(app, session)
    # The entries stay (the lines' counters still equal their ledger) but belong to nothing.
    session.execute(
        text(
            "UPDATE ledger_entry SET reference_type = 'elsewhere' WHERE kind = 'disburse'"
            " AND reference_type = 'payout' AND reference_id = :payout"
        ),
        {"payout": str(paid.id)},
    )
    session.execute(
        text(
            "UPDATE ledger_entry SET reference_type = 'elsewhere' WHERE kind = 'commit'"
            " AND reference_type = 'agenda_item' AND reference_id = :item"
        ),
        {"item": str(unpaid.id)},
    )
    session.commit()

    findings = {(f.check, f.object_type, f.object_id): f for f in reconcile.everything(session)}

    missing = findings[("payout_disbursement", "payout", paid.id)]
    assert missing.numbers["disbursements"] == 0
    assert missing.numbers["expected_disbursements"] == 1
    unheld = findings[("item_commitment", "agenda_item", unpaid.id)]
    assert unheld.numbers["commitments"] == 0 and unheld.numbers["expected_commitments"] == 1
    assert not [f for f in findings.values() if f.check.startswith("line_")]
