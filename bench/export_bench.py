"""Export 1,000,000 ledger entries as CSV and compare with a bare dump of the same query.

    .venv/bin/python bench/export_bench.py [--rows 1000000]

Runs on PostgreSQL when DATABASE_URL names a server database (a scratch database is created
and dropped beside it), else on a temporary SQLite file. The rows are generated in the
database (``generate_series`` / a recursive CTE). Prints rows/s of:

- the portal's export: ``incentives.exports`` streaming the ledger dataset (server-side cursor,
  chunks of ``CHUNK`` rows, masking, formula protection, local times, money in tenge) into a
  CSV file, exactly as the ``oversight.export`` job does, then packing it for storage;
- a bare dump of the same SQL: ``COPY (…) TO STDOUT WITH CSV`` through psycopg on PostgreSQL,
  a plain cursor loop into ``csv.writer`` on SQLite;

the ratio (target ≤ 3×) and the process's peak memory (ru_maxrss; target < 300 MB).
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# Scratch keys for sealing personal data in a throwaway benchmark database (portal/config.py).
os.environ.setdefault("PORTAL_DATA_KEYS", "bench:" + "A" * 43)
os.environ.setdefault("PORTAL_INDEX_KEY", "B" * 43)
# Demo accounts on a throwaway PostgreSQL database: a development, not a production.
os.environ.setdefault("PORTAL_ENV", "development")
os.environ.setdefault("PORTAL_INSTANCE_PATH", tempfile.mkdtemp(prefix="portal-bench-"))

from budget import appropriations
from core import audit, places
from core.scope import Scope
from incentives import exports
from portal import create_app
from portal.extensions import db

GENERATE_PG = """
INSERT INTO ledger_entry (line_id, kind, amount_tiyn, reference_type, reference_id, at,
                          idempotency_key, request_hash, note)
SELECT :line, (ARRAY['commit','release','disburse'])[1 + g % 3], 100 + g % 100000,
       'agenda_item', g::text, now() - make_interval(secs => g),
       'bench-' || g, md5(g::text) || md5(g::text),
       CASE WHEN g % 1000 = 0 THEN '=HYPERLINK("x")' ELSE 'note ' || g END
FROM generate_series(1, :n) AS g
"""
GENERATE_SQLITE = """
WITH RECURSIVE cnt(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM cnt WHERE g < :n)
INSERT INTO ledger_entry (line_id, kind, amount_tiyn, reference_type, reference_id, at,
                          idempotency_key, request_hash, note)
SELECT :line, CASE g % 3 WHEN 0 THEN 'commit' WHEN 1 THEN 'release' ELSE 'disburse' END,
       100 + g % 100000, 'agenda_item', CAST(g AS TEXT),
       datetime('now', '-' || g || ' seconds'), 'bench-' || g, hex(randomblob(32)),
       CASE WHEN g % 1000 = 0 THEN '=HYPERLINK("x")' ELSE 'note ' || g END
FROM cnt
"""


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def setup_rows(n: int) -> int:
    """Create a program and line, then ``n`` ledger entries on it; return the line id."""
    region = places.by_kato(db.session, "350000000")
    program = appropriations.create_program(
        db.session,
        actor_id=None,
        unit_id=region.id,
        fiscal_year=2026,
        functional_group="03",
        sub_function="6",
        administrator="252",
        program="003",
        sub_program="000",
        name_kk="Бенч",
        name_ru="Бенч",
        administrator_body="Бенч",
    )
    line = appropriations.create_line(
        db.session, program_id=program.id, purpose="citizen_rewards", actor_id=None
    )
    db.session.commit()
    sql = GENERATE_PG if db.engine.dialect.name == "postgresql" else GENERATE_SQLITE
    t0 = time.perf_counter()
    db.session.execute(text(sql), {"line": line.id, "n": n})
    db.session.commit()
    print(f"generated {n:,} rows in {time.perf_counter() - t0:.1f} s")
    return region.id


def portal_export(region_id: int, path: str) -> tuple[int, float, float]:
    """Run the export as the job does; return rows, seconds to write, seconds to pack."""
    t0 = time.perf_counter()
    data = exports.dataset(
        "ledger", filters=exports.Filters(year=2026), scope=Scope.within([region_id]), lang="ru"
    )
    total = exports.count_rows(db.session, data)
    head = audit.head(db.session)
    with open(path, "wb") as out:
        rows = exports.write_rows(
            db.session,
            data,
            fmt="csv",
            out=out,
            head_lines=exports.preamble(
                title="Ledger",
                filters_text="2026",
                generated_at=exports.clock.local_day_bounds(exports.dt.date.today())[0],
                head=head,
                translate=str,
            ),
            translate=str,
            total=total,
            progress=lambda pct: None,
        )
    db.session.rollback()
    written = time.perf_counter() - t0
    t0 = time.perf_counter()
    content, _name, _type = exports.pack(path, "ledger.csv", "csv")
    packed = time.perf_counter() - t0
    print(f"  file {os.path.getsize(path) / 1e6:.0f} MB, stored as {len(content) / 1e6:.0f} MB")
    del content
    return rows, written, packed


def bare_dump(region_id: int, path: str) -> float:
    """Dump the same SQL with the driver alone; return seconds."""
    data = exports.dataset(
        "ledger", filters=exports.Filters(year=2026), scope=Scope.within([region_id]), lang="ru"
    )
    conn = db.session.connection()
    compiled = data.query.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})
    raw = conn.connection.dbapi_connection
    t0 = time.perf_counter()
    with open(path, "wb") as out:
        if db.engine.dialect.name == "postgresql":
            with raw.cursor() as cur, cur.copy(f"COPY ({compiled}) TO STDOUT WITH CSV") as copy:
                for block in copy:
                    out.write(block)
        else:
            with open(out.fileno(), "w", encoding="utf-8", newline="", closefd=False) as text_out:
                writer = csv.writer(text_out)
                cur = raw.cursor()
                cur.execute(str(compiled))
                while chunk := cur.fetchmany(5000):
                    writer.writerows(chunk)
    elapsed = time.perf_counter() - t0
    db.session.rollback()
    return elapsed


def run(url: str, n: int) -> None:
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None})
    with app.app_context():
        upgrade()
        places.load_reference_units(db.session)
        db.session.commit()
        region_id = setup_rows(n)
        print(f"peak memory after generating: {peak_mb():.0f} MB")
        workdir = tempfile.mkdtemp(prefix="portal-export-bench-")
        bare = bare_dump(region_id, os.path.join(workdir, "bare.csv"))
        rows, written, packed = portal_export(region_id, os.path.join(workdir, "portal.csv"))
        for name in ("bare.csv", "portal.csv"):
            os.unlink(os.path.join(workdir, name))
        os.rmdir(workdir)
        db.session.remove()
        db.engine.dispose()
    app.extensions["portal_executor"].shutdown()
    backend = "PostgreSQL COPY" if url.startswith("postgresql") else "SQLite cursor loop"
    print(f"backend: {backend}; rows exported: {rows:,}")
    print(f"bare dump:      {bare:6.2f} s  {rows / bare:>10,.0f} rows/s")
    print(f"portal export:  {written:6.2f} s  {rows / written:>10,.0f} rows/s  (write CSV)")
    print(f"  + packing:    {packed:6.2f} s  (zip for storage)")
    print(
        f"ratio export/bare: {written / bare:.2f}x (with packing {(written + packed) / bare:.2f}x)"
    )
    print(f"peak memory (ru_maxrss): {peak_mb():.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
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
            run(base.set(database=name).render_as_string(hide_password=False), args.rows)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    else:
        path = Path(tempfile.mkdtemp(prefix="portal-bench-")) / "bench.sqlite3"
        run(f"sqlite:///{path}", args.rows)


if __name__ == "__main__":
    main()
