"""Import 10,000 register rows and compare with a bare INSERT of the same rows.

    .venv/bin/python bench/import_bench.py [--rows 10000]

Runs on PostgreSQL when DATABASE_URL names a server database (a scratch database is created
and dropped beside it), else on a temporary SQLite file. Prints rows/s of the portal's import
(validation, applications, consents, members, certificate numbers, audit) next to a bare
executemany INSERT of the same rows into a plain table, and the ratio (target: within 5x).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("PORTAL_INSTANCE_PATH", tempfile.mkdtemp(prefix="portal-bench-"))

from core import accounts, places
from core.iin import make_iin
from portal import create_app
from portal.extensions import db
from volunteers import importing

SETTLEMENTS = ["354030100", "354081100", "355630100", "353285100", "355230100"]


def make_rows(n: int) -> list[dict[str, str]]:
    rows = []
    for i in range(n):
        born = dt.date(1960 + i % 45, 1 + i % 12, 1 + i % 28)
        rows.append(
            {
                "iin": make_iin(born, "male" if i % 2 else "female", i % 9000),
                "full_name": f"Бенч Адам {i}",
                "kind": "public_assistant" if i % 3 else "patrol_member",
                "kato": SETTLEMENTS[i % len(SETTLEMENTS)],
                "phone": f"+7701{i:07d}",
                "email": "",
                "address": f"Көше {i}",
                "issued_on": "",
            }
        )
    # make_iin's serial wraps: keep the first of any repeated (iin, kind)
    seen, unique = set(), []
    for row in rows:
        key = (row["iin"], row["kind"])
        if key not in seen:
            seen.add(key)
            unique.append(row)
    return unique


def run(url: str, rows: list[dict[str, str]]) -> tuple[float, float]:
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None})
    with app.app_context():
        upgrade()
        places.load_reference_units(db.session)
        from core import calendar

        calendar.load_reference_days(db.session)
        region = places.by_kato(db.session, "350000000")
        registrar = accounts.create_user(
            db.session,
            email="bench@demo.kz",
            phone=None,
            full_name="Bench",
            unit_id=region.id,
            preferred_language="en",
            password="bench password 1",
            actor_id=None,
        )
        accounts.grant_role(
            db.session, user_id=registrar.id, role="registrar", unit_id=region.id, actor_id=None
        )
        db.session.execute(
            text(
                "CREATE TABLE bench_plain (iin VARCHAR(12), full_name VARCHAR(200),"
                " kind VARCHAR(20), kato VARCHAR(9), phone VARCHAR(16), address VARCHAR(400))"
            )
        )
        db.session.commit()
        t0 = time.perf_counter()
        db.session.execute(
            text(
                "INSERT INTO bench_plain VALUES (:iin, :full_name, :kind, :kato, :phone, :address)"
            ),
            rows,
        )
        db.session.commit()
        bare = time.perf_counter() - t0
        t0 = time.perf_counter()
        report = importing.import_rows(
            db.session, rows, actor_id=registrar.id, scope_ids=[region.id], today=dt.date.today()
        )
        db.session.commit()
        portal = time.perf_counter() - t0
        assert report.imported == len(rows), report.as_dict()
        db.session.remove()
        db.engine.dispose()
    app.extensions["portal_executor"].shutdown()
    return bare, portal


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    rows = make_rows(args.rows)
    target = os.environ.get("DATABASE_URL", "")
    if target.startswith("postgres"):
        base = make_url(
            target.replace("postgres://", "postgresql+psycopg://", 1).replace(
                "postgresql://", "postgresql+psycopg://", 1
            )
        )
        name = f"portal_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            bare, portal = run(base.set(database=name).render_as_string(hide_password=False), rows)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
        backend = "postgresql"
    else:
        with tempfile.TemporaryDirectory() as tmp:
            bare, portal = run(f"sqlite:///{tmp}/bench.sqlite3", rows)
        backend = "sqlite"
    n = len(rows)
    print(
        f"{backend}: {n} rows  import {portal:6.2f} s = {n / portal:7.0f} rows/s   "
        f"bare INSERT {bare:6.2f} s = {n / bare:7.0f} rows/s   ratio {portal / bare:.1f}x"
    )


if __name__ == "__main__":
    main()
