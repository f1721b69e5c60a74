"""Measure audit-chain appends per second against plain inserts, on SQLite and PostgreSQL.

    .venv/bin/python bench/audit_append_bench.py [--n 2000] [--threads 4]

Each figure is printed next to its baseline measured in the same run: a plain INSERT of the
same payload into a table without the chain, in the same kind of transaction.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# Scratch keys for sealing personal data in a throwaway benchmark database (portal/config.py).
os.environ.setdefault("PORTAL_DATA_KEYS", "bench:" + "A" * 43)
os.environ.setdefault("PORTAL_INDEX_KEY", "B" * 43)
# Demo accounts on a throwaway PostgreSQL database: a development, not a production.
os.environ.setdefault("PORTAL_ENV", "development")
os.environ.setdefault("PORTAL_INSTANCE_PATH", tempfile.mkdtemp(prefix="portal-bench-"))

from core import audit
from portal import create_app
from portal.extensions import db

PG_ADMIN = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1/postgres")


def run(url: str, n: int, threads: int) -> tuple[float, float]:
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None})
    with app.app_context():
        upgrade()
        db.session.execute(text("CREATE TABLE bench_plain (id INTEGER PRIMARY KEY, payload TEXT)"))
        db.session.commit()
    per = n // threads

    def timed(work) -> float:
        start = threading.Barrier(threads + 1)

        def worker(k):
            with app.app_context():
                start.wait()
                for i in range(per):
                    work(k * per + i)
                    db.session.commit()
                db.session.remove()

        pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
        for t in pool:
            t.start()
        start.wait()
        t0 = time.perf_counter()
        for t in pool:
            t.join()
        return per * threads / (time.perf_counter() - t0)

    baseline = timed(
        lambda i: db.session.execute(
            text("INSERT INTO bench_plain (id, payload) VALUES (:i, :p)"),
            {"i": i + 1, "p": json.dumps({"i": i})},
        )
    )
    chained = timed(
        lambda i: audit.record(
            db.session,
            action="bench",
            object_type="bench",
            object_id=i,
            actor_id=None,
            payload={"i": i},
        )
    )
    with app.app_context():
        assert audit.verify_chain(db.session).ok
        db.session.remove()
        db.engine.dispose()
    app.extensions["portal_executor"].shutdown()
    return baseline, chained


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base, chain = run(f"sqlite:///{tmp}/bench.sqlite3", args.n, args.threads)
        print(
            f"sqlite     plain inserts {base:8.0f}/s   audit appends {chain:8.0f}/s "
            f"({chain / base:.0%} of baseline), {args.threads} threads, {args.n} rows"
        )
    name = f"portal_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # no server: report and stop, the SQLite figure stands
        print(f"postgresql skipped: {str(exc).splitlines()[0]}")
        return
    try:
        url = admin.url.set(database=name).render_as_string(hide_password=False)
        base, chain = run(url, args.n, args.threads)
        print(
            f"postgresql plain inserts {base:8.0f}/s   audit appends {chain:8.0f}/s "
            f"({chain / base:.0%} of baseline), {args.threads} threads, {args.n} rows"
        )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
