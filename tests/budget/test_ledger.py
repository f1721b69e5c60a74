"""The budget ledger: never overspend, idempotent keys, four-eyes decisions, reconciliation."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import threading

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule
from sqlalchemy import BigInteger, Float, Numeric, func, select

from budget import appropriations, ledger
from budget.models import BudgetLine, LedgerEntry, MaslikhatDecision
from core import accounts, places
from core.db import Base
from core.errors import Conflict, DomainError, PermissionDenied
from core.money import parse_tenge
from portal.extensions import db

# Both databases: the ledger's guarded updates and constraints.
pytestmark = pytest.mark.both_databases

TENGE = 100
_SUB_PROGRAMS = itertools.count(100)  # each test line gets its own program code


def _setup_line(session, approved_tiyn: int) -> int:
    finance = accounts.find_by_login(session, "finance@demo.kz")
    admin = accounts.find_by_login(session, "admin@demo.kz")
    region = places.by_kato(session, "350000000")
    program = appropriations.create_program(
        session,
        actor_id=finance.id,
        unit_id=region.id,
        fiscal_year=2026,
        functional_group="03",
        sub_function="6",
        administrator="252",
        program="003",
        sub_program=str(next(_SUB_PROGRAMS)),
        name_kk="Азаматтарды көтермелеу",
        name_ru="Поощрение граждан",
        administrator_body="ДВД",
    )
    line = appropriations.create_line(
        session, program_id=program.id, purpose="citizen_rewards", actor_id=finance.id
    )
    decision = appropriations.enter_decision(
        session,
        unit_id=region.id,
        number="12/3",
        decided_on=dt.date(2025, 12, 20),
        session_number="XII",
        kind="adoption",
        reference="adilet.zan.kz/…",
        amendments=[(line.id, approved_tiyn)],
        actor_id=finance.id,
    )
    appropriations.verify_decision(session, decision_id=decision.id, actor_id=admin.id)
    session.commit()
    return line.id


def _commit(session, line_id, amount, key):
    return ledger.commit_funds(
        session,
        line_id=line_id,
        amount_tiyn=amount,
        reference_type="test",
        reference_id=key,
        actor_id=None,
        idempotency_key=key,
    )


def test_concurrent_commitments_never_overspend_m1(app):
    """50 threads x 20 commitments against 1,000,000 tenge: overspend 0, drift 0."""
    with app.app_context():
        line_id = _setup_line(db.session, 1_000_000 * TENGE)
        db.session.remove()
    start = threading.Barrier(50)
    outcomes, errors = [], []

    def worker(i):
        rnd = random.Random(1000 + i)
        with app.app_context():
            try:
                start.wait()
                for j in range(20):
                    try:
                        _commit(db.session, line_id, rnd.randint(1, 4000) * TENGE, f"m1-{i}-{j}")
                        db.session.commit()
                        outcomes.append("ok")
                    except ledger.InsufficientFunds:
                        db.session.rollback()
                        outcomes.append("insufficient")
            except Exception as exc:  # collected: every failure must be seen
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with app.app_context():
        line = db.session.get(BudgetLine, line_id)
        posted = db.session.scalar(
            select(func.sum(LedgerEntry.amount_tiyn)).where(LedgerEntry.line_id == line_id)
        )
        count = db.session.scalar(
            select(func.count()).select_from(LedgerEntry).where(LedgerEntry.line_id == line_id)
        )
        assert line.committed_tiyn <= line.approved_tiyn
        assert line.committed_tiyn == posted and count == outcomes.count("ok")
        assert ledger.reconcile(db.session) == []
    assert len(outcomes) == 1000 and "insufficient" in outcomes


def test_retry_storm_makes_no_duplicates_m3(app):
    with app.app_context():
        line_id = _setup_line(db.session, 10_000_000 * TENGE)
        db.session.remove()
    keys = [f"storm-{k}" for k in range(60)]
    start = threading.Barrier(12)
    errors = []

    def worker(i):
        rnd = random.Random(i)
        with app.app_context():
            try:
                start.wait()
                for key in rnd.sample(keys, len(keys)):
                    amount = (int(key.split("-")[1]) + 1) * TENGE  # a key always carries one amount
                    _commit(db.session, line_id, amount, key)
                    db.session.commit()
            except Exception as exc:  # collected: every failure must be seen
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with app.app_context():
        entries = db.session.scalar(
            select(func.count()).select_from(LedgerEntry).where(LedgerEntry.line_id == line_id)
        )
        line = db.session.get(BudgetLine, line_id)
        assert entries == len(keys)
        assert line.committed_tiyn == sum(range(1, 61)) * TENGE


def test_same_key_with_other_content_is_refused(app, session):
    line_id = _setup_line(session, 1000 * TENGE)
    first = _commit(session, line_id, 100 * TENGE, "k-1")
    session.commit()
    assert _commit(session, line_id, 100 * TENGE, "k-1").id == first.id
    with pytest.raises(ledger.IdempotencyConflict):
        _commit(session, line_id, 200 * TENGE, "k-1")
    session.rollback()
    assert session.get(BudgetLine, line_id).committed_tiyn == 100 * TENGE


def test_bad_amounts_and_overspend_name_the_numbers(app, session):
    line_id = _setup_line(session, 1000 * TENGE)
    for amount in (0, -5):
        with pytest.raises(DomainError, match="greater than zero"):
            _commit(session, line_id, amount, f"bad-{amount}")
        session.rollback()
    with pytest.raises(ledger.InsufficientFunds) as caught:
        _commit(session, line_id, 1001 * TENGE, "too-much")
    assert "1\u00a0001,00" in str(caught.value) and "1\u00a0000,00" in str(caught.value)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(LedgerEntry)) == 0


def test_release_and_disburse_move_counters_and_reconcile(app, session):
    line_id = _setup_line(session, 1000 * TENGE)
    _commit(session, line_id, 600 * TENGE, "c1")
    ledger.disburse_funds(
        session,
        line_id=line_id,
        amount_tiyn=200 * TENGE,
        reference_type="payout",
        reference_id=1,
        actor_id=None,
        idempotency_key="d1",
    )
    ledger.release_funds(
        session,
        line_id=line_id,
        amount_tiyn=100 * TENGE,
        reference_type="payout",
        reference_id=2,
        actor_id=None,
        idempotency_key="r1",
    )
    session.commit()
    with pytest.raises(ledger.InsufficientFunds):
        ledger.release_funds(
            session,
            line_id=line_id,
            amount_tiyn=400 * TENGE,
            reference_type="payout",
            reference_id=3,
            actor_id=None,
            idempotency_key="r2",
        )
    session.rollback()
    line = session.get(BudgetLine, line_id)
    assert (line.committed_tiyn, line.disbursed_tiyn) == (300 * TENGE, 200 * TENGE)
    assert ledger.reconcile(session) == []


def test_decisions_need_four_eyes_and_cannot_cut_below_spent(app, session):
    line_id = _setup_line(session, 1000 * TENGE)
    finance = accounts.find_by_login(session, "finance@demo.kz")
    admin = accounts.find_by_login(session, "admin@demo.kz")
    region = places.by_kato(session, "350000000")
    cut = appropriations.enter_decision(
        session,
        unit_id=region.id,
        number="15/2",
        decided_on=dt.date(2026, 6, 1),
        session_number="XV",
        kind="clarification",
        reference="…",
        amendments=[(line_id, -400 * TENGE)],
        actor_id=finance.id,
    )
    session.commit()
    # Spent after the decision was entered: the cut is checked again when it is verified.
    _commit(session, line_id, 700 * TENGE, "spent")
    session.commit()
    assert session.get(BudgetLine, line_id).approved_tiyn == 1000 * TENGE  # not yet verified
    with pytest.raises(PermissionDenied):
        appropriations.verify_decision(session, decision_id=cut.id, actor_id=finance.id)
    session.rollback()
    with pytest.raises(Conflict, match="cannot fall below"):
        appropriations.verify_decision(session, decision_id=cut.id, actor_id=admin.id)
    session.rollback()
    assert session.get(BudgetLine, line_id).approved_tiyn == 1000 * TENGE
    # Refused at once when the cut is already below what is spent, naming the numbers.
    with pytest.raises(Conflict, match=r"below 700,00\u00a0₸ .*would be 600,00"):
        appropriations.enter_decision(
            session,
            unit_id=region.id,
            number="15/3",
            decided_on=dt.date(2026, 6, 2),
            session_number="XV",
            kind="clarification",
            reference="…",
            amendments=[(line_id, -400 * TENGE)],
            actor_id=finance.id,
        )
    session.rollback()


def test_a_verified_decision_names_its_verifier_and_applies_once(app, session):
    line_id = _setup_line(session, 1000 * TENGE)
    finance = accounts.find_by_login(session, "finance@demo.kz")
    admin = accounts.find_by_login(session, "admin@demo.kz")
    region = places.by_kato(session, "350000000")
    raise_ = appropriations.enter_decision(
        session,
        unit_id=region.id,
        number="16/1",
        decided_on=dt.date(2026, 7, 1),
        session_number="XVI",
        kind="clarification",
        reference="…",
        amendments=[(line_id, 250 * TENGE)],
        actor_id=finance.id,
    )
    appropriations.verify_decision(session, decision_id=raise_.id, actor_id=admin.id)
    session.commit()
    session.expire_all()
    decision = session.get(MaslikhatDecision, raise_.id)
    assert decision.verified_by_id == admin.id and decision.verified_at is not None
    assert session.get(BudgetLine, line_id).approved_tiyn == 1250 * TENGE
    # The step's guard refuses a second verification, naming who verified (core.transitions).
    with pytest.raises(Conflict, match="Already done by"):
        appropriations.verify_decision(session, decision_id=raise_.id, actor_id=admin.id)
    session.rollback()
    assert session.get(BudgetLine, line_id).approved_tiyn == 1250 * TENGE


def test_closed_year_takes_no_new_commitments_but_releases(app, session):
    line_id = _setup_line(session, 1000 * TENGE)
    _commit(session, line_id, 100 * TENGE, "before-close")
    region = places.by_kato(session, "350000000")
    appropriations.close_fiscal_year(session, unit_id=region.id, year=2026, actor_id=None)
    session.commit()
    with pytest.raises(DomainError, match="closed"):
        _commit(session, line_id, 10 * TENGE, "after-close")
    session.rollback()
    ledger.release_funds(
        session,
        line_id=line_id,
        amount_tiyn=100 * TENGE,
        reference_type="test",
        reference_id="x",
        actor_id=None,
        idempotency_key="release-after-close",
    )
    session.commit()


def test_money_columns_are_exact_integers_m10():
    for table in Base.metadata.tables.values():
        for column in table.columns:
            if column.name.endswith("_tiyn"):
                assert isinstance(column.type, BigInteger), column
            assert not isinstance(column.type, Float | Numeric) or column.name.endswith("_mci")


@pytest.mark.parametrize(
    ("text", "tiyn"), [("1 234 567,89", 123456789), ("10", 1000), ("0.5", 50), ("4 325 ₸", 432500)]
)
def test_parse_tenge_reads_what_people_type(text, tiyn):
    assert parse_tenge(text) == tiyn


@pytest.mark.parametrize("text", ["1,234", "abc", "", "1.2.3", "99999999999999999999"])
def test_parse_tenge_refuses_more_than_two_decimals_or_garbage(text):
    with pytest.raises(DomainError):
        parse_tenge(text)


class LedgerMachine(RuleBasedStateMachine):
    """A model of the ledger checked against the real one after every step."""

    keys = Bundle("keys")

    def __init__(self):
        super().__init__()
        self.session = TestLedgerStateful.current_session
        self.line_id = _setup_line(self.session, 500_000)
        self.approved = 500_000
        self.amounts = {}  # key -> amount it always carries
        self.committed = {}  # key -> amount committed and not released

    @rule(target=keys, amount=st.integers(1, 200_000))
    def commit_new(self, amount):
        key = f"h-{self.line_id}-{len(self.amounts)}"
        self.amounts[key] = amount
        self._commit(key, first=True)
        return key

    @rule(key=keys)
    def retry_same_request(self, key):  # double click, client retry, RQ redelivery
        self._commit(key, first=False)

    @rule(key=keys)
    def release(self, key):
        if key not in self.committed:
            return
        for _attempt in range(2):  # the second send is a retry and changes nothing
            ledger.release_funds(
                self.session,
                line_id=self.line_id,
                amount_tiyn=self.amounts[key],
                reference_type="test",
                reference_id=key,
                actor_id=None,
                idempotency_key="release-" + key,
            )
            self.session.commit()
        del self.committed[key]

    def _commit(self, key, first):
        amount = self.amounts[key]
        try:
            _commit(self.session, self.line_id, amount, key)
            self.session.commit()
        except ledger.InsufficientFunds:
            self.session.rollback()
            assert first and sum(self.committed.values()) + amount > self.approved
            self.amounts[key] = amount  # a refused key was never claimed
            return
        if first:
            self.committed[key] = amount

    @invariant()
    def books_balance(self):
        line = self.session.get(BudgetLine, self.line_id)
        self.session.refresh(line)
        assert line.committed_tiyn + line.disbursed_tiyn <= line.approved_tiyn
        assert line.committed_tiyn == sum(self.committed.values())
        assert ledger.reconcile(self.session) == []


class TestLedgerStateful:
    current_session = None

    def test_ledger_state_machine(self, app, session):
        TestLedgerStateful.current_session = session
        machine = LedgerMachine.TestCase
        machine.settings = settings(
            max_examples=15,
            stateful_step_count=15,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        machine().runTest()


def test_reconcile_command_reports_a_tampered_counter(app, session):
    from sqlalchemy import text

    line_id = _setup_line(session, 1000 * TENGE)
    _commit(session, line_id, 100 * TENGE, "rc-1")
    session.commit()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["budget", "reconcile"]).exit_code == 0
    session.execute(text("UPDATE budget_line SET committed_tiyn = 5 WHERE id = :i"), {"i": line_id})
    session.commit()
    broken = runner.invoke(args=["budget", "reconcile"])
    assert broken.exit_code == 1 and f"line {line_id}" in broken.output
