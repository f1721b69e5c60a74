"""Issue 16: CPU per request of the portal's main pages against the idiomatic floor, in one process.

    .venv/bin/python bench/pages.py              # --scale 5000 and 50000 on PostgreSQL
    .venv/bin/python bench/pages.py --quick      # a smoke run on small data, under 2 minutes
    .venv/bin/python bench/pages.py --sqlite     # SQLite files instead of PostgreSQL
    .venv/bin/python bench/pages.py --reuse      # keep and reuse portal_pages_s<scale> databases

For each scale it creates a scratch database (PostgreSQL at ``PORTAL_PAGES_PG``, default
``postgresql://postgres@127.0.0.1:5432``, when reachable; else a SQLite file), loads it with
``flask --app wsgi demo --scale N``, builds the portal and ``bench/floor.py`` in this process
and signs each role in through the portal's form. It then measures CPU per request
(``time.process_time`` around batches of Flask test-client requests) for the main page of each
role, the shift list, candidates, a session page, ``/oversight/`` and the browse mix of
``bench/load.py``, each page's batch sandwiched between two batches of the floor's page:
ratio = page CPU / mean of the floor batches around it, the median over the rounds. Interleaving
keeps a shared, busy box from skewing the ratio. On PostgreSQL it also prints, at the larger
scale, each page's time in the database (and that of the region-wide ``DB_ONLY`` lists), and
the candidates page's slowest statement. The last line is
``mix_5k=… mix_50k=… home=… oversight_5k=… oversight_growth=… worst=<page>:<×floor>``
(home and worst over both scales; growth = /oversight/ CPU at the larger scale / the smaller).
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(BENCH)]
# Scratch keys for sealing personal data in a throwaway benchmark database (portal/config.py).
os.environ.setdefault("PORTAL_DATA_KEYS", "bench:" + "A" * 43)
os.environ.setdefault("PORTAL_INDEX_KEY", "B" * 43)
# Demo accounts on a throwaway PostgreSQL database: a development, not a production.
os.environ.setdefault("PORTAL_ENV", "development")

from load import PASSWORD, csrf, discover  # noqa: E402  (bench/ is on the path from here on)

VENV_BIN = ROOT / ".venv" / "bin"
# (name, who, path): the main page of each role, then the pages the issue names.
PAGES = (
    ("home", "volunteer@demo.kz", "/"),
    ("volunteer", "volunteer@demo.kz", "/my"),
    ("coordinator", "coordinator2@demo.kz", "/contributions/queue"),
    ("police", "registrar@demo.kz", "/volunteers/applications"),  # the register's police check
    ("finance", "finance@demo.kz", "/finance/lines"),
    ("secretary", "secretary@demo.kz", "/commission/sessions"),
    ("member", "member@demo.kz", "/commission/my-sessions"),
    ("deputy", "deputy@demo.kz", "/oversight/flags"),
    ("admin", "admin@demo.kz", "/admin/users"),
    ("shifts", "coordinator2@demo.kz", "/shifts"),
    ("candidates", "coordinator2@demo.kz", "/commission/candidates"),
    ("session", "secretary@demo.kz", "/commission/sessions/{session}"),
    ("oversight", "deputy@demo.kz", "/oversight/"),
)
# Database time only (PostgreSQL, the larger scale): region-wide lists whose plans hang on how
# many units the planner thinks a jurisdiction holds (core.scope resolves it to unit ids).
DB_ONLY = (
    ("register", "registrar@demo.kz", "/volunteers/members"),
    ("audit_log", "deputy@demo.kz", "/oversight/audit"),
)
MIX_ACCOUNTS = {  # the browse mix's roles in bench/load.py -> who browses
    "volunteer": "volunteer@demo.kz",
    "coordinator": "coordinator2@demo.kz",
    "finance": "finance@demo.kz",
    "deputy": "deputy@demo.kz",
    "secretary": "secretary@demo.kz",
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data, one round: a smoke run")
    parser.add_argument("--sqlite", action="store_true", help="SQLite files, not PostgreSQL")
    parser.add_argument(
        "--scales", type=int, nargs=2, metavar=("SMALL", "LARGE"), help="default 5000 50000"
    )
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 3, quick 1)")
    parser.add_argument(
        "--batch", type=float, help="seconds of CPU per batch (default 0.3, quick 0.08)"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="use (or create and keep) the databases portal_pages_s<scale>",
    )
    parser.add_argument("--profile", metavar="PAGE", help="cProfile PAGE at the larger scale")
    args = parser.parse_args()
    args.scales = args.scales or ([300, 1200] if args.quick else [5000, 50000])
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.batch = args.batch or (0.08 if args.quick else 0.3)
    return args


# ---- data ---------------------------------------------------------------------------------------


def pg_reachable(pg: str) -> bool:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(_psycopg(pg) + "/postgres", connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:  # any failure means: use SQLite
        return False


def _psycopg(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1]


class Database:
    """A scratch database of one scale: created and loaded, dropped at the end unless reused."""

    def __init__(self, scale: int, *, pg: str | None, tmp: Path, reuse: bool):
        self.scale, self.pg, self.reuse = scale, pg, reuse
        name = f"portal_pages_s{scale}" if reuse else f"portal_pages_{secrets.token_hex(4)}"
        self.name = name
        if pg:
            self.url = f"{pg}/{name}"
            self.sqlalchemy_url = _psycopg(self.url)
        else:
            folder = ROOT / "instance" if reuse else tmp
            self.url = self.sqlalchemy_url = f"sqlite:///{folder / (name + '.sqlite3')}"
        self.created = False

    def _admin(self):
        from sqlalchemy import create_engine

        return create_engine(_psycopg(self.pg) + "/postgres", isolation_level="AUTOCOMMIT")

    def exists(self) -> bool:
        if not self.pg:
            return Path(self.url.removeprefix("sqlite:///")).exists()
        from sqlalchemy import text

        engine = self._admin()
        with engine.connect() as conn:
            found = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": self.name}
            ).first()
        engine.dispose()
        return found is not None

    def build(self, env: dict) -> float:
        """Create and load the database; return the seconds it took (0 when reused)."""
        if self.reuse and self.exists():
            return 0.0
        if self.pg:
            from sqlalchemy import text

            engine = self._admin()
            with engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.name}"'))
            engine.dispose()
        self.created = True
        t0 = time.monotonic()
        cmd = [str(VENV_BIN / "flask"), "--app", "wsgi", "demo", "--scale", str(self.scale)]
        done = subprocess.run(
            cmd, cwd=ROOT, env={**env, "DATABASE_URL": self.url}, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"demo --scale {self.scale} failed:\n{done.stdout}\n{done.stderr}")
        return time.monotonic() - t0

    def drop(self) -> None:
        if self.reuse or not self.created:
            return
        if not self.pg:
            Path(self.url.removeprefix("sqlite:///")).unlink(missing_ok=True)
            return
        from sqlalchemy import text

        engine = self._admin()
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        engine.dispose()


# ---- the two apps in this process ---------------------------------------------------------------


def build_apps(db: Database):
    """Return (portal, floor) on ``db``; the portal's access log goes to /dev/null, formatted."""
    from floor import create_app as create_floor

    from portal import create_app

    os.environ["DATABASE_URL"] = db.url
    portal = create_app({"CHECK_SERVICES": False, "DEMO_MFA_WAIVER": True})
    for handler in logging.getLogger("portal").handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115  (lives as long as the app)
    floor = create_floor(db.sqlalchemy_url)
    return portal, floor


def portal_client(portal, email: str):
    client = portal.test_client()
    page = client.get("/login").get_data(as_text=True)
    resp = client.post(
        "/login", data={"csrf_token": csrf(page), "login": email, "password": PASSWORD, "next": ""}
    )
    if resp.status_code != 302:
        raise RuntimeError(f"{email} cannot sign in: {resp.status_code}")
    return client


def floor_client(floor, user_id: int):
    client = floor.test_client()
    resp = client.get(f"/sign-in/{user_id}")
    if resp.status_code != 302:
        raise RuntimeError(f"the floor cannot sign in user {user_id}: {resp.status_code}")
    return client


class Batch:
    """A repeatable list of (client, path) requests; ``run(n)`` returns CPU ms per request."""

    def __init__(self, name: str, requests: list):
        self.name, self.requests, self.n = name, requests, 5

    def run(self, n: int | None = None) -> float:
        n = n or self.n
        reqs = self.requests
        t0 = time.process_time()
        for i in range(n):
            client, path = reqs[i % len(reqs)]
            resp = client.get(path)
            if resp.status_code != 200:
                raise RuntimeError(f"{self.name}: GET {path} answered {resp.status_code}")
        return (time.process_time() - t0) * 1000 / n

    def calibrate(self, seconds: float) -> float:
        """Warm up and size the batch to about ``seconds`` of CPU; return the warm cost."""
        self.run(max(3, len(self.requests)))
        cost = self.run(max(3, len(self.requests)))
        self.n = max(
            len(self.requests) if len(self.requests) > 1 else 3, int(seconds * 1000 / cost)
        )
        return cost


def batches(portal, floor, engine, fx: dict) -> tuple[Batch, list[Batch]]:
    from sqlalchemy import text

    with engine.connect() as conn:
        session_id = conn.execute(
            text(
                "SELECT session_id FROM agenda_item GROUP BY session_id "
                "ORDER BY count(*) DESC, session_id LIMIT 1"
            )
        ).scalar_one()
        volunteer_id = conn.execute(
            text("SELECT id FROM user_account WHERE email = 'volunteer@demo.kz'")
        ).scalar_one()
    clients: dict[str, object] = {}

    def client(email: str):
        if email not in clients:
            clients[email] = portal_client(portal, email)
        return clients[email]

    floor_user = floor_client(floor, volunteer_id)
    floor_batch = Batch("floor", [(floor_user, "/members")])
    pages = [
        # The floor showing 50 rows, as many as a portal list page: what rows alone cost.
        Batch("floor_50_rows", [(floor_user, "/members?rows=50")]),
    ] + [
        Batch(name, [(client(email), path.format(session=session_id))])
        for name, email, path in PAGES
    ]
    # The browse mix of bench/load.py: a role by its weight, then one of its pages, fixed seed.
    rng = random.Random(16)
    roles = list(fx["pages"])
    mix = []
    for _ in range(60):
        role = rng.choices(roles, weights=fx["page_weights"])[0]
        path = rng.choice(fx["pages"][role])
        ids = {key: rng.choice(values) for key, values in fx["ids"].items() if values}
        mix.append((client(MIX_ACCOUNTS[role]), path.format(**ids)))
    pages.append(Batch("mix", mix))
    return floor_batch, pages


def measure(floor_batch: Batch, pages: list[Batch], rounds: int) -> dict[str, dict]:
    """Interleave floor, page, floor, page … for ``rounds``; return per page cpu and ratio."""
    cpu = {p.name: [] for p in pages}
    ratios = {p.name: [] for p in pages}
    floors = []
    for _ in range(rounds):
        before = floor_batch.run()
        floors.append(before)
        for page in pages:
            spent = page.run()
            after = floor_batch.run()
            floors.append(after)
            cpu[page.name].append(spent)
            ratios[page.name].append(spent / ((before + after) / 2))
            before = after
    return {
        "floor": {"cpu": statistics.median(floors), "ratio": 1.0},
        **{
            name: {"cpu": statistics.median(cpu[name]), "ratio": statistics.median(ratios[name])}
            for name in cpu
        },
    }


def db_time(portal, client, path: str, runs: int = 7) -> tuple[float, float, str]:
    """Median database time of one request's statements: (total ms, slowest ms, its SQL)."""
    from sqlalchemy import event

    from portal.extensions import db

    with portal.app_context():
        engine = db.engine
    spent: list[tuple[float, str]] = []
    started: list[float] = []

    def before(conn, cursor, statement, params, context, executemany):
        started.append(time.perf_counter())

    def after(conn, cursor, statement, params, context, executemany):
        spent.append(((time.perf_counter() - started.pop()) * 1000, statement))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    totals, slowest = [], []
    try:
        for _ in range(runs):
            spent.clear()
            client.get(path)
            totals.append(sum(ms for ms, _sql in spent))
            slowest.append(max(spent))
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    slow_ms = statistics.median(ms for ms, _sql in slowest)
    sql = max(slowest)[1]
    return statistics.median(totals), slow_ms, " ".join(sql.split())[:160]


def print_db_times(portal, pages: list[Batch]) -> None:
    """Print each page's database time per request (median of runs) and its slowest statement."""
    one = [page for page in pages if page.name not in ("mix", "floor_50_rows")]
    requests = [(page.name, *page.requests[0]) for page in one]
    requests += [(name, portal_client(portal, email), path) for name, email, path in DB_ONLY]
    print(f"\n{'page':<13} {'path':<33} {'DB ms':>8} {'slowest':>8}  (PostgreSQL)")
    for name, client, path in requests:
        total, slow, _sql = db_time(portal, client, path)
        print(f"{name:<13} {path[:33]:<33} {total:>8.1f} {slow:>8.1f}")


def profile(page: Batch) -> None:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    page.run(max(page.n, 20))
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(25)


# ---- main ---------------------------------------------------------------------------------------


def main() -> int:
    args = parse_args()
    t_start = time.monotonic()
    pg = os.environ.get("PORTAL_PAGES_PG", "postgresql://postgres@127.0.0.1:5432")
    pg = None if args.sqlite or not pg_reachable(pg) else pg
    tmp = Path(tempfile.mkdtemp(prefix="portal_pages_"))
    env = {
        **os.environ,
        "SECRET_KEY": secrets.token_hex(32),
        "PORTAL_SECURE_COOKIES": "0",
        "PORTAL_INSTANCE_PATH": str(tmp / "instance"),
        "PORTAL_DEMO_MFA_WAIVER": "1",
    }
    for key in ("SECRET_KEY", "PORTAL_SECURE_COOKIES", "PORTAL_INSTANCE_PATH"):
        os.environ[key] = env[key]
    os.environ.pop("REDIS_URL", None)  # jobs run in-process; no page here enqueues one
    print(
        f"backend: {'PostgreSQL' if pg else 'SQLite'}; scales {args.scales}; rounds {args.rounds}"
    )
    results: dict[int, dict[str, dict]] = {}
    candidates_db = None
    for scale in args.scales:
        db = Database(scale, pg=pg, tmp=tmp, reuse=args.reuse)
        try:
            took = db.build(env)
            print(
                f"\n--scale {scale}: database {db.name} "
                + (f"loaded in {took:.0f} s" if took else "reused")
            )
            portal, floor = build_apps(db)
            from sqlalchemy import create_engine

            engine = create_engine(db.sqlalchemy_url)
            fx = discover(engine)
            floor_batch, pages = batches(portal, floor, engine, fx)
            for batch in (floor_batch, *pages):
                batch.calibrate(args.batch)
            results[scale] = measure(floor_batch, pages, args.rounds)
            print(f"{'page':<13} {'path':<33} {'CPU ms':>8} {'x floor':>8}")
            for name, row in results[scale].items():
                path = next((p for n, _e, p in PAGES if n == name), "(20 rows, 12-link nav)")
                path = "(60 pages of bench/load.py)" if name == "mix" else path
                path = "(50 rows, 12-link nav)" if name == "floor_50_rows" else path
                print(f"{name:<13} {path:<33} {row['cpu']:>8.2f} {row['ratio']:>8.2f}")
            if pg and scale == args.scales[-1]:
                cand = next(p for p in pages if p.name == "candidates")
                candidates_db = db_time(portal, *cand.requests[0])
                print_db_times(portal, pages)
            if args.profile and scale == args.scales[-1]:
                profile(next(p for p in pages if p.name == args.profile))
            engine.dispose()
            from portal.extensions import db as portal_db

            with portal.app_context():
                portal_db.engine.dispose()
            with floor.app_context():
                from floor import db as floor_db

                floor_db.engine.dispose()
        finally:
            db.drop()
    small, large = (results[s] for s in args.scales)
    tag = {args.scales[0]: _k(args.scales[0]), args.scales[1]: _k(args.scales[1])}
    if candidates_db:
        total, slow, sql = candidates_db
        print(
            f"\ncandidates at --scale {args.scales[1]}, PostgreSQL: {total:.1f} ms per request "
            f"in the database, slowest statement {slow:.1f} ms: {sql}"
        )
    worst = max(
        (
            (f"{name}_{tag[s]}", row["ratio"])
            for s in args.scales
            for name, row in results[s].items()
            if not name.startswith("floor")
        ),
        key=lambda item: item[1],
    )
    home = max(results[s]["home"]["ratio"] for s in args.scales)
    growth = large["oversight"]["cpu"] / small["oversight"]["cpu"]
    print(f"\ntotal {time.monotonic() - t_start:.0f} s")
    print(
        f"mix_{tag[args.scales[0]]}={small['mix']['ratio']:.2f} "
        f"mix_{tag[args.scales[1]]}={large['mix']['ratio']:.2f} home={home:.2f} "
        f"oversight_{tag[args.scales[0]]}={small['oversight']['ratio']:.2f} "
        f"oversight_growth={growth:.2f} worst={worst[0]}:{worst[1]:.2f}"
    )
    return 0


def _k(scale: int) -> str:
    return f"{scale // 1000}k" if scale % 1000 == 0 else str(scale)


if __name__ == "__main__":
    sys.exit(main())
