"""Issue 21: a volunteer's shift list and check-in through the JSON API, beside the same work
through the pages, in the same run on the same gunicorn.

    .venv/bin/python bench/api_bench.py                 # 50 clients, 4 volunteers each per side
    .venv/bin/python bench/api_bench.py --clients 50 --per-client 6 --workers 5

Needs PostgreSQL (``PORTAL_LOAD_PG``, default ``postgresql://postgres@127.0.0.1:5432``) and uses
Redis when it answers (``PORTAL_LOAD_REDIS``, default ``redis://127.0.0.1:6379/0``: the API's
per-token limits count there, as deployed), like ``bench/load.py``, whose helpers it uses
(processes, gunicorn settings, percentiles). It:

1. creates a scratch database ``portal_apibench_<random>`` and loads the plain demo
   (``flask --app wsgi demo``);
2. enrols ``2 x clients x per-client`` new volunteers through the domain, as the pages do
   (an account, an application checked, petitioned and registered: a member with a
   certificate), plans shifts in their district that start in 20 minutes (check-in is open
   from 30 minutes before the start) and signs each volunteer up for one; half of the
   volunteers get an access token (``core.api_tokens.issue``), the other half sign in through
   the sign-in form before the clock starts;
3. starts the portal under gunicorn with the settings of ``bench/load.py`` (sync workers,
   2 x cores + 1 by default);
4. drives it with ``--clients`` threads, each with its own ``requests.Session`` and its own
   volunteers (no two clients share one). For each of its volunteers a client does, on the
   API side: ``GET /api/v1/me/shifts``, ``POST /api/v1/me/signups/<id>/check-in`` (token,
   Idempotency-Key) for the sign-up the list shows, ``GET /api/v1/me/shifts`` twice more; on
   the page side the same work as a browser does it: ``GET /my/shifts``, ``POST
   /my/signups/<id>/check-in`` with the form's CSRF token (302), the redirect followed
   (``GET /my/shifts``) and ``GET /my/shifts`` once more. Each check-in is a distinct sign-up,
   so each succeeds. The sides take turns (API, pages, API, pages: half of the volunteers
   each time) after a warm-up of reads on both, so that drift hits both alike;
5. prints requests/s, p50/p95/p99 per side and per endpoint, checks in the database that every
   sign-up was checked in once, stops everything and drops the database.

The last line is ``api_rps=<n> html_rps=<n> ratio=<n> p95_ms=<n> errors=<n>``: requests/s of
each side (requests over the wall time of its turns), ratio = api_rps / html_rps, the p95 of
the API mix, and errors = answers of either side that were not 2xx/3xx (or no answer), plus
check-ins missing from the database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# load.py sets the scratch keys and PORTAL_ENV=development before anything reads them.
from load import (
    HOST,
    PASSWORD,
    ROOT,
    VENV_BIN,
    Services,
    clean_up,
    csrf,
    default_workers,
    free_port,
    gunicorn_cmd,
    pct,
    wait_http,
)

VILLAGE = "354030100"  # a village of Bukhar-Zhyrau district, where the demo coordinator works
SHIFT_CAPACITY = 500  # volunteers.shift_planning.MAX_CAPACITY
CHECK_IN_RE = re.compile(r'action="/my/signups/(\d+)/check-in"')
USER_AGENT = "portal-api-bench/1"


# ---- the data -----------------------------------------------------------------------------------


def enrol(app, count: int, threads: int = 4) -> list[dict]:
    """Enrol ``count`` volunteers through the domain and sign each up for a shift about to start.

    Returns one dict per volunteer: email, user id, member id, signup id. ``threads``
    sessions enrol at once (about 70 statements a volunteer).
    """
    from concurrent.futures import ThreadPoolExecutor

    from core import accounts, clock, places
    from core.db import utcnow
    from portal.extensions import db
    from volunteers import enrolment, shift_planning

    with app.app_context():
        session = db.session
        coordinator = accounts.find_by_login(session, "coordinator@demo.kz")
        village = places.by_kato(session, VILLAGE)
        now = utcnow()
        starts = now + dt.timedelta(minutes=20)
        shift_ids = [
            shift.id
            for _ in range(-(-count // SHIFT_CAPACITY))
            for shift in shift_planning.plan_shift(
                session,
                unit_id=village.id,
                patrol_unit_id=None,
                place="Ботақара, бенчмарк: орталық көше",
                starts_at=starts,
                ends_at=starts + dt.timedelta(hours=4),
                capacity=SHIFT_CAPACITY,
                supervisor_id=None,
                actor_id=coordinator.id,
                now=now,
            )
        ]
        session.commit()
        today = clock.today()
        common = {
            "run": secrets.token_hex(3),
            # The IINs of this run: one serial, a birthday each.
            "serial": secrets.randbelow(9000) + 1000,
            "village_id": village.id,
            "coordinator_id": coordinator.id,
            "registrar_id": accounts.find_by_login(session, "registrar@demo.kz").id,
            "today": today,
            "consent": enrolment.current_consent(session, today).version,
            "password_hash": accounts.hash_password(PASSWORD),
            "shift_ids": shift_ids,
        }

    def chunk(indices: range) -> list[dict]:
        with app.app_context():
            return [enrol_one(db.session, i, common) for i in indices]

    with ThreadPoolExecutor(threads) as pool:
        parts = pool.map(chunk, [range(t, count, threads) for t in range(threads)])
    return sorted((v for part in parts for v in part), key=lambda v: v["index"])


def enrol_one(session, i: int, c: dict) -> dict:
    """One volunteer: an account, an application checked, petitioned, registered; a sign-up."""
    from core import accounts
    from core.db import utcnow
    from core.iin import make_iin
    from volunteers import enrolment, shifts

    email = f"apibench.{c['run']}.{i}@demo.kz"
    user = accounts.create_user(
        session,
        email=email,
        phone=None,
        full_name=f"Бенч Волонтер {i}",
        preferred_language="kk",
        unit_id=c["village_id"],
        password_hash=c["password_hash"],
        actor_id=None,
    )
    application = enrolment.submit_application(
        session,
        kind="public_assistant",
        unit_id=c["village_id"],
        patrol_unit_id=None,
        iin=make_iin(dt.date(1970, 1, 1) + dt.timedelta(days=i), "male", c["serial"]),
        full_name=f"Бенч Волонтер {i}",
        phone=None,
        email=email,
        address="Ботақара, Абай к-сі 5",
        is_citizen=True,
        no_criminal_record=True,
        not_on_register=True,
        consent_version=c["consent"],
        applicant_id=user.id,
        actor_id=c["coordinator_id"],
        channel="walk_in",
        today=c["today"],
    )
    coordinator = c["coordinator_id"]
    enrolment.take_check(session, application_id=application.id, actor_id=coordinator)
    enrolment.record_check(
        session, application_id=application.id, passed=True, reason=None, actor_id=coordinator
    )
    enrolment.petition(
        session, application_id=application.id, actor_id=coordinator, today=c["today"]
    )
    member = enrolment.register_applicant(
        session, application_id=application.id, actor_id=c["registrar_id"], today=c["today"]
    )
    signup = shifts.sign_up(
        session,
        shift_id=c["shift_ids"][i // SHIFT_CAPACITY],
        member_id=member.id,
        actor_id=user.id,
        now=utcnow(),
    )
    session.commit()
    return {
        "index": i,
        "email": email,
        "user_id": user.id,
        "member_id": member.id,
        "signup": signup.id,
    }


def issue_tokens(app, volunteers: list[dict]) -> None:
    """Give each volunteer an access token with their grants (``core.api_tokens.issue``)."""
    from core import accounts, api_tokens
    from core.db import utcnow
    from portal.extensions import db

    with app.app_context():
        admin = accounts.find_by_login(db.session, "admin@demo.kz")
        now = utcnow()
        for v in volunteers:
            user = db.session.get(accounts.User, v["user_id"])
            grants = [(g.role, g.unit_id) for g in api_tokens.holder_grants(user)]
            _token, v["token"] = api_tokens.issue(
                db.session,
                user_id=user.id,
                name="api bench",
                grants=grants,
                expires_at=now + dt.timedelta(days=1),
                actor_id=admin.id,
                now=now,
            )
        db.session.commit()


def checked_in(app, signup_ids: list[int]) -> Counter:
    """The statuses of the sign-ups after the run."""
    from portal.extensions import db
    from volunteers.activity_models import Signup

    with app.app_context():
        rows = db.session.execute(
            db.select(Signup.status, db.func.count())
            .where(Signup.id.in_(signup_ids))
            .group_by(Signup.status)
        ).all()
        db.session.rollback()
    return Counter(dict(rows))


def redis_ok(url: str) -> bool:
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        return bool(Redis.from_url(url, socket_connect_timeout=2).ping())
    except RedisError:
        return False


# ---- the client ---------------------------------------------------------------------------------


class Recorder:
    """Every request: (side, label, status, seconds); thread-safe."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rows: list[tuple[str, str, int, float]] = []
        self.problems: Counter = Counter()

    def add(self, side: str, label: str, status: int, seconds: float, problem: str = "") -> None:
        with self.lock:
            self.rows.append((side, label, status, seconds))
            if problem:
                self.problems[f"{side} {label}: {problem}"[:200]] += 1


def http_session() -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    return session


class Client:
    """One simulated phone: its own connection and, per side, its own volunteers."""

    def __init__(self, base: str, rec: Recorder):
        self.base, self.rec = base, rec
        self.http = http_session()

    def _send(self, side, method, path, label, expect, **kwargs):
        t0 = time.perf_counter()
        try:
            resp = self.http.request(
                method, self.base + path, allow_redirects=False, timeout=120, **kwargs
            )
        except OSError as exc:
            self.rec.add(side, label, 0, time.perf_counter() - t0, type(exc).__name__)
            return None
        seconds = time.perf_counter() - t0
        problem = "" if resp.status_code in expect else f"{resp.status_code} {resp.text[:120]}"
        self.rec.add(side, label, resp.status_code, seconds, problem)
        return resp if not problem else None

    # -- the API: a token per volunteer ----------------------------------------------------------

    def api_volunteer(self, v: dict, warm: bool = False) -> None:
        headers = {"Accept-Language": "kk"}
        if "token" in v:
            headers["Authorization"] = f"Bearer {v['token']}"
        else:  # the offline app's way: the signed-in session, its CSRF token in a header
            self.http.cookies.clear()
            self.http.cookies.update(v["cookies"])
            headers["X-CSRFToken"] = v["csrf"]
        side = "warm" if warm else "api"
        listing = self._send(
            side, "GET", "/api/v1/me/shifts", "GET /api/v1/me/shifts", (200,), headers=headers
        )
        if warm or listing is None:
            if "cookies" in v:
                v["cookies"] = self.http.cookies.get_dict()
            return
        ids = [i["id"] for i in listing.json()["items"] if i["status"] == "signed_up"]
        if not ids:
            self.rec.add(side, "GET /api/v1/me/shifts", 0, 0.0, "no sign-up to check in")
            return
        self._send(
            side,
            "POST",
            f"/api/v1/me/signups/{ids[0]}/check-in",
            "POST /api/v1/me/signups/<id>/check-in",
            (200,),
            headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
            json={},
        )
        for _ in range(2):
            self._send(
                side, "GET", "/api/v1/me/shifts", "GET /api/v1/me/shifts", (200,), headers=headers
            )
        if "cookies" in v:
            v["cookies"] = self.http.cookies.get_dict()

    # -- the pages: a signed-in session per volunteer --------------------------------------------

    def sign_in(self, v: dict, api: bool = False) -> None:
        """Sign in through the form (before the clock); keep the session's cookies."""
        tab = requests.Session()
        tab.headers["User-Agent"] = USER_AGENT
        page = tab.get(self.base + "/login", timeout=120)
        resp = tab.post(
            self.base + "/login",
            data={"csrf_token": csrf(page.text), "login": v["email"], "password": PASSWORD},
            allow_redirects=False,
            timeout=120,
        )
        if resp.status_code != 302 or "/login" in resp.headers.get("Location", ""):
            raise RuntimeError(f"sign-in of {v['email']} answered {resp.status_code}")
        if api:  # the offline app asks for its CSRF token once, then sends it with each write
            who = tab.get(self.base + "/api/v1/session", timeout=120)
            v["csrf"] = who.json()["csrf_token"]
        v["cookies"] = tab.cookies.get_dict()
        tab.close()

    def html_volunteer(self, v: dict, warm: bool = False) -> None:
        side = "warm" if warm else "html"
        self.http.cookies.clear()
        self.http.cookies.update(v["cookies"])
        page = self._send(side, "GET", "/my/shifts", "GET /my/shifts", (200,))
        if warm or page is None:
            v["cookies"] = self.http.cookies.get_dict()
            return
        found = CHECK_IN_RE.search(page.text)
        if not found:
            self.rec.add(side, "GET /my/shifts", 0, 0.0, "no check-in form on the page")
            return
        done = self._send(
            side,
            "POST",
            f"/my/signups/{found.group(1)}/check-in",
            "POST /my/signups/<id>/check-in",
            (302, 303),
            data={"csrf_token": csrf(page.text)},
            headers={"Referer": self.base + "/my/shifts"},
        )
        if done is not None:  # the browser follows the redirect
            self._send(side, "GET", "/my/shifts", "GET /my/shifts", (200,))
        self._send(side, "GET", "/my/shifts", "GET /my/shifts", (200,))
        v["cookies"] = self.http.cookies.get_dict()

    def close(self) -> None:
        self.http.close()


def run_turn(clients: list[Client], work: list[list[dict]], action: str, warm=False) -> float:
    """Each client works through its volunteers at once; return the wall time of the turn."""
    barrier = threading.Barrier(len(clients) + 1)

    def go(client: Client, volunteers: list[dict]) -> None:
        barrier.wait()
        for v in volunteers:
            getattr(client, action)(v, warm)

    threads = [
        threading.Thread(target=go, args=(c, w), daemon=True)
        for c, w in zip(clients, work, strict=True)
    ]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


# ---- the report ---------------------------------------------------------------------------------


def side_summary(rec: Recorder, side: str, seconds: float) -> dict:
    rows = [r for r in rec.rows if r[0] == side]
    lat = [r[3] * 1000 for r in rows]
    by_label = defaultdict(list)
    statuses = defaultdict(Counter)
    for _side, label, status, secs in rows:
        by_label[label].append(secs * 1000)
        statuses[label][status] += 1
    return {
        "requests": len(rows),
        "seconds": seconds,
        "rps": len(rows) / seconds if seconds else 0.0,
        "p50": pct(lat, 50),
        "p95": pct(lat, 95),
        "p99": pct(lat, 99),
        "mean": statistics.fmean(lat) if lat else 0.0,
        "errors": sum(1 for r in rows if not 200 <= r[2] < 400),
        "by_label": by_label,
        "statuses": statuses,
    }


def print_side(name: str, s: dict) -> None:
    print(
        f"{name:<5} requests={s['requests']:>6}  in {s['seconds']:6.1f} s  rps={s['rps']:7.1f}  "
        f"p50={s['p50']:6.1f} ms  p95={s['p95']:6.1f} ms  p99={s['p99']:6.1f} ms  "
        f"mean={s['mean']:6.1f} ms  errors={s['errors']}"
    )
    for label, lat in sorted(s["by_label"].items()):
        st = " ".join(f"{k}:{v}" for k, v in sorted(s["statuses"][label].items()))
        print(
            f"      {label:<42} n={len(lat):>5}  p50={pct(lat, 50):6.1f}  "
            f"p95={pct(lat, 95):6.1f}  max={max(lat):7.1f} ms  {st}"
        )


# ---- main ---------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=50, help="concurrent clients (threads)")
    ap.add_argument(
        "--per-client",
        type=int,
        default=4,
        help="volunteers (check-ins) per client on each side; even, split over two turns",
    )
    ap.add_argument("--workers", type=int, default=default_workers(), help="gunicorn workers")
    ap.add_argument("--keep", action="store_true", help="keep the database (for a post-mortem)")
    ap.add_argument(
        "--auth",
        choices=("session", "token"),
        default="session",
        help="how the API side calls: the offline app's session + CSRF header (default), or an "
        "integration's access token (each use audited)",
    )
    args = ap.parse_args()
    args.per_client = max(2, args.per_client + args.per_client % 2)
    return args


def main() -> int:
    args = parse_args()
    t_start = time.monotonic()
    pg = os.environ.get("PORTAL_LOAD_PG", "postgresql://postgres@127.0.0.1:5432")
    name = f"portal_apibench_{secrets.token_hex(4)}"
    tmp = Path(tempfile.mkdtemp(prefix=f"{name}-"))
    (tmp / "instance").mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": f"{pg}/{name}",
        "SECRET_KEY": secrets.token_hex(32),
        "PORTAL_SECURE_COOKIES": "0",
        "PORTAL_INSTANCE_PATH": str(tmp / "instance"),
        "PORTAL_DEMO_MFA_WAIVER": "1",
        "PYTHONUNBUFFERED": "1",
    }
    # Redis as deployed (the API's per-token limits count there), when it answers.
    redis_url = os.environ.get("PORTAL_LOAD_REDIS", "redis://127.0.0.1:6379/0")
    if redis_ok(redis_url):
        env.update({"REDIS_URL": redis_url, "PORTAL_RQ_QUEUE_PREFIX": name})
    else:
        print(f"Redis at {redis_url} does not answer: limits count per process, jobs in-process")
        env.pop("REDIS_URL", None)
        redis_url = None
    from sqlalchemy import create_engine, text

    admin = create_engine(
        "postgresql+psycopg://" + pg.split("://", 1)[1] + "/postgres", isolation_level="AUTOCOMMIT"
    )
    services = Services(tmp)
    created = False
    app = None
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        created = True
        print(f"database {name}, logs in {tmp}")
        t0 = time.monotonic()
        done = subprocess.run(
            [str(VENV_BIN / "flask"), "--app", "wsgi", "demo"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(f"flask demo failed:\n{done.stdout}\n{done.stderr}")
        print(f"flask --app wsgi demo: {time.monotonic() - t0:.1f} s")

        os.environ.update({k: v for k, v in env.items() if k != "PYTHONUNBUFFERED"})
        from portal import create_app

        app = create_app()
        per_side = args.clients * args.per_client
        t0 = time.monotonic()
        volunteers = enrol(app, 2 * per_side)
        api_vols, html_vols = volunteers[:per_side], volunteers[per_side:]
        if args.auth == "token":
            issue_tokens(app, api_vols)
        print(
            f"enrolled {len(volunteers)} volunteers, each signed up for a shift open for "
            f"check-in; the API side calls with {args.auth}s: {time.monotonic() - t0:.1f} s"
        )

        port = free_port()
        server = services.start(
            "portal", gunicorn_cmd("wsgi:app", port, args.workers, tmp, "portal"), env
        )
        wait_http(port, "/readyz", server)
        base = f"http://{HOST}:{port}"
        rec = Recorder()
        clients = [Client(base, rec) for _ in range(args.clients)]

        def share(vols: list[dict]) -> list[list[dict]]:
            return [vols[i :: args.clients] for i in range(args.clients)]

        api_work, html_work = share(api_vols), share(html_vols)
        t0 = time.monotonic()
        signing = [
            threading.Thread(target=lambda c, w: [c.sign_in(v) for v in w], args=(c, w))
            for c, w in zip(clients, html_work, strict=True)
        ]
        if args.auth == "session":
            signing += [
                threading.Thread(
                    target=lambda c, w: [c.sign_in(v, api=True) for v in w], args=(c, w)
                )
                for c, w in zip(clients, api_work, strict=True)
            ]
        for t in signing:
            t.start()
        for t in signing:
            t.join()
        unsigned = [v["email"] for v in html_vols if "cookies" not in v]
        if unsigned:
            raise RuntimeError(f"{len(unsigned)} sign-ins failed, e.g. {unsigned[0]}")
        print(
            f"gunicorn: {args.workers} sync workers (2 x {os.cpu_count()} cores + 1 by default); "
            f"{args.clients} clients; {len(html_vols)} page volunteers signed in through the "
            f"form in {time.monotonic() - t0:.1f} s"
        )
        # Warm-up: reads only, both sides (every worker imports, compiles and connects).
        run_turn(clients, api_work, "api_volunteer", warm=True)
        run_turn(clients, html_work, "html_volunteer", warm=True)
        half = args.per_client // 2
        seconds = {"api": 0.0, "html": 0.0}
        for turn in (slice(0, half), slice(half, None)):
            seconds["api"] += run_turn(clients, [w[turn] for w in api_work], "api_volunteer")
            seconds["html"] += run_turn(clients, [w[turn] for w in html_work], "html_volunteer")
        for c in clients:
            c.close()

        api, html = (
            side_summary(rec, "api", seconds["api"]),
            side_summary(rec, "html", seconds["html"]),
        )
        print(
            f"\n== {args.clients} clients, {args.per_client} check-ins each per side, in two "
            "turns per side (API, pages, API, pages) =="
        )
        print_side("api", api)
        print_side("html", html)
        if rec.problems:
            print("errors:")
            for what, n in rec.problems.most_common(10):
                print(f"  {n:>5}  {what}")
        states = checked_in(app, [v["signup"] for v in volunteers])
        missing = len(volunteers) - states.get("checked_in", 0)
        print(f"sign-ups after the run: {dict(states)} (expected {len(volunteers)} checked in)")
        errors = api["errors"] + html["errors"] + missing
        ratio = api["rps"] / html["rps"] if html["rps"] else 0.0
        print(f"\ntotal time {time.monotonic() - t_start:.0f} s")
        print(
            f"api_rps={api['rps']:.1f} html_rps={html['rps']:.1f} ratio={ratio:.3f} "
            f"p95_ms={api['p95']:.1f} errors={errors}"
        )
        return 0 if errors == 0 else 1
    finally:
        services.stop_all()
        if app is not None:
            from portal.extensions import db

            app.extensions["portal_executor"].shutdown(wait=False)
            with app.app_context():
                db.engine.dispose()
        clean_up(admin, name, tmp, redis_url=redis_url, created=created, keep=args.keep)


if __name__ == "__main__":
    sys.exit(main())
