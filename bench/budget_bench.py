"""Run the M1 load (50 threads x 20 commitments against a 1,000,000 tenge line) two ways.

    .venv/bin/python bench/budget_bench.py          # SQLite in a temporary file
    DATABASE_URL=postgresql://postgres@127.0.0.1/postgres .venv/bin/python bench/budget_bench.py

Through the ledger functions (idempotency claim, guarded UPDATE, audit event) and, in the same
run, through a bare guarded UPDATE on a second line. The last line printed is
``approvals/s=<n> baseline/s=<n> ratio=<n> overspend=<n> drift=<n>``.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# Scratch keys for sealing personal data in a throwaway benchmark database (portal/config.py).
os.environ.setdefault("PORTAL_DATA_KEYS", "bench:" + "A" * 43)
os.environ.setdefault("PORTAL_INDEX_KEY", "B" * 43)
# Demo accounts on a throwaway PostgreSQL database: a development, not a production.
os.environ.setdefault("PORTAL_ENV", "development")
os.environ.setdefault("PORTAL_INSTANCE_PATH", tempfile.mkdtemp(prefix="portal-bench-"))

from budget import appropriations, ledger
from budget.models import BudgetLine, LedgerEntry
from core import accounts, places
from portal import create_app
from portal.extensions import db

THREADS, PER_THREAD, APPROVED = 50, 20, 1_000_000 * 100


def _lines(app) -> tuple[int, int]:
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
        places.load_reference_units(db.session)
        region = places.by_kato(db.session, "350000000")
        users = [
            accounts.create_user(
                db.session,
                email=f"{n}@bench.kz",
                phone=None,
                full_name=n,
                unit_id=region.id,
                preferred_language="en",
                password="bench password 1",
                actor_id=None,
            )
            for n in ("enter", "verify")
        ]
        ids = []
        for sub in ("001", "002"):
            program = appropriations.create_program(
                db.session,
                actor_id=None,
                unit_id=region.id,
                fiscal_year=2026,
                functional_group="03",
                sub_function="6",
                administrator="252",
                program="003",
                sub_program=sub,
                name_kk="Бенч",
                name_ru="Бенч",
                administrator_body="Бенч",
            )
            line = appropriations.create_line(
                db.session, program_id=program.id, purpose="citizen_rewards", actor_id=None
            )
            decision = appropriations.enter_decision(
                db.session,
                unit_id=region.id,
                number=sub,
                decided_on=dt.date(2026, 1, 1),
                session_number="I",
                kind="adoption",
                reference="bench",
                amendments=[(line.id, APPROVED)],
                actor_id=users[0].id,
            )
            appropriations.verify_decision(
                db.session, decision_id=decision.id, actor_id=users[1].id
            )
            ids.append(line.id)
        db.session.commit()
        return ids[0], ids[1]


def _load(app, work) -> float:
    start = threading.Barrier(THREADS + 1)

    def worker(i):
        rnd = random.Random(1000 + i)
        with app.app_context():
            start.wait()
            for j in range(PER_THREAD):
                work(i, j, rnd.randint(1, 4000) * 100)
            db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return THREADS * PER_THREAD / (time.perf_counter() - t0)


def run(url: str) -> str:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None})
    ledger_line, bare_line = _lines(app)

    def through_ledger(i, j, amount):
        try:
            ledger.commit_funds(
                db.session,
                line_id=ledger_line,
                amount_tiyn=amount,
                reference_type="bench",
                reference_id=f"{i}-{j}",
                actor_id=None,
                idempotency_key=f"bench-{i}-{j}",
            )
            db.session.commit()
        except ledger.InsufficientFunds:
            db.session.rollback()

    def bare(i, j, amount):
        line = BudgetLine
        db.session.execute(
            update(line)
            .where(
                line.id == bare_line,
                line.committed_tiyn + line.disbursed_tiyn + amount <= line.approved_tiyn,
            )
            .values(committed_tiyn=line.committed_tiyn + amount)
        )
        db.session.commit()

    rate = _load(app, through_ledger)
    baseline = _load(app, bare)
    with app.app_context():
        line = db.session.get(BudgetLine, ledger_line)
        posted = db.session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount_tiyn), 0)).where(
                LedgerEntry.line_id == ledger_line
            )
        )
        overspend = max(0, line.committed_tiyn + line.disbursed_tiyn - line.approved_tiyn)
        drift = posted - line.committed_tiyn
        db.session.remove()
        db.engine.dispose()
    app.extensions["portal_executor"].shutdown()
    return (
        f"approvals/s={rate:.0f} baseline/s={baseline:.0f} ratio={rate / baseline:.2f} "
        f"overspend={overspend} drift={drift}"
    )


def main() -> None:
    target = os.environ.get("DATABASE_URL", "")
    if target.startswith("postgres"):
        base = make_url("postgresql+psycopg://" + target.split("://", 1)[1])
        name = f"portal_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            print("postgresql, 50 threads x 20 commitments")
            print(run(base.set(database=name).render_as_string(hide_password=False)))
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
        return
    with tempfile.TemporaryDirectory() as tmp:
        print("sqlite, 50 threads x 20 commitments")
        print(run(f"sqlite:///{tmp}/bench.sqlite3"))


if __name__ == "__main__":
    main()
