"""Issue 10 and 16: the portal under a mixed load of signed-in users, against "hello" and the floor.

    .venv/bin/python bench/load.py --quick        # under 5 minutes including set-up
    .venv/bin/python bench/load.py                # 3 minutes of measured load
    .venv/bin/python bench/load.py --users 50 --duration 180 --workers 5 --think 0

Needs PostgreSQL and Redis (``PORTAL_LOAD_PG``, default ``postgresql://postgres@127.0.0.1:5432``;
``PORTAL_LOAD_REDIS``, default ``redis://127.0.0.1:6379/0``). What it does:

1. creates a scratch database ``portal_load_<random>``, migrates it and loads the demo data
   (``flask --app wsgi demo --scale N`` when the command has that option, else plain ``demo``;
   N = ``--scale``, 500 with ``--quick``, else 10000);
2. starts one RQ worker (``flask --app wsgi worker``, queues under a unique prefix), the portal
   under gunicorn and ``bench/hello_app.py`` under gunicorn with the same settings (sync
   workers, ``--workers``; default 2 x cores + 1, see ``default_workers``);
3. drives both with the same client: separate processes (multiprocessing, spawn; ``--procs``)
   holding one thread per simulated user, each with its own cookie jar and an ``http.client``
   connection that is reused while the server keeps it open (gunicorn's sync workers close it
   after every response, for both apps alike). By default a closed loop without think time,
   so requests/s is the throughput at ``--users`` concurrent users and latency includes the
   wait for a free worker; ``--think S`` adds a mean think time between actions. Each account
   signs in once through the form before the clock starts and every user gets a copy of that
   session's cookies per role (volunteer, coordinator, two finance officers, deputy,
   secretary). Each loop picks an action: browse a page 70 %, log a contribution 20 %, a
   commission or finance action 8 % (a coordinator confirms or rejects contributions in the
   queue, a finance officer enters a budget clarification that a second one verifies, or pays
   an approved reward), an export 2 % (the job runs on the RQ worker). Forms are filled like
   a browser: GET the page, take its ``csrf_token``, POST, follow the redirect; a sensitive
   step that asks for the password again gets it. Every request is timed; only those started
   in the measured window count;
4. prints requests/s, p50/p95/p99, errors and by-design refusals (409/422 on an action,
   counted apart) for both apps, where the CPU went meanwhile (the box may be shared), the
   p95 per endpoint beside the time spent inside the portal (its JSON access log, joined by
   request id), and what became of the export jobs;
5. profiles in-process (Flask test client on the same database, cProfile, top 15 functions by
   cumulative time) the slowest endpoint, i.e. the highest median time inside the app under
   load, and the one that took the most app time in all when that is another;
6. checks the invariants: per budget line committed + disbursed <= approved, committed equals
   the sum of its live commitments (approved agenda items not yet paid, handed over or
   voided), the nightly reconciliation job (run by the RQ worker) finds no drift, and the
   audit hash chain verifies;
7. stops everything it started, drops the database and the Redis keys under its prefix.

The idiomatic floor of issue 16 (``bench/floor.py``: a signed-in page of 20 rows under a 12-link
nav) runs under gunicorn with the same settings and is driven by as many users, each signed in
as one of the volunteers the portal's users sign in as (the scale data gives 100 of them).

The last line is ``rps=<n> p95_ms=<n> baseline_rps=<n> ratio=<n> floor_rps=<n>
ratio_to_floor=<n> errors=<n> invariants=ok|FAILED`` (rps and p95 of the portal; ratio = rps /
baseline_rps, ratio_to_floor = rps / floor_rps). Errors are 5xx, connection failures,
any other unexpected status (400, 403, 404, 429 …), a signed-in page sent back to the
sign-in form or redirected elsewhere, and export jobs that failed.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import html
import http.client
import io
import json
import logging
import multiprocessing as mp
import os
import pstats
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

# Scratch keys for sealing personal data in a throwaway benchmark database (portal/config.py).
os.environ.setdefault("PORTAL_DATA_KEYS", "bench:" + "A" * 43)
os.environ.setdefault("PORTAL_INDEX_KEY", "B" * 43)
# Demo accounts on a throwaway PostgreSQL database: a development, not a production.
os.environ.setdefault("PORTAL_ENV", "development")

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
HOST = "127.0.0.1"
PASSWORD = "demo-portal-2026"  # noqa: S105  (the published demo password)
DEMO_IBAN = "KZ86125KZT5004100100"
ZONE = ZoneInfo("Asia/Almaty")
MIX = {"browse": 70, "log": 20, "official": 8, "export": 2}
# Inside the 8 %: which commission or finance action.
OFFICIAL_MIX = {"confirm": 50, "decision": 30, "payout": 20}
ROLES = ("volunteer", "coordinator", "finance", "finance2", "deputy", "secretary")
BY_DESIGN = (409, 422)  # a conflict or a domain refusal on an action: counted, not an error


def default_workers() -> int:
    """Gunicorn's own rule, 2 x cores + 1 (5 on two cores).

    Sync workers block on every PostgreSQL round trip (and on the audit chain's advisory lock
    when writing), so more processes than cores keep both cores busy; many more only add
    context switches and memory, since PostgreSQL, the RQ worker and this client share the
    same cores. ``--workers`` overrides it, for both apps alike.
    """
    return 2 * (os.cpu_count() or 1) + 1


# ---- the client (runs in the load processes) ---------------------------------------------------


class Abort(Exception):
    """The current action cannot go on (a failed request); the loop starts the next one."""


class Response:
    __slots__ = ("location", "status", "text")

    def __init__(self, status: int, location: str, text: str):
        self.status, self.location, self.text = status, location, text


def label_of(method: str, path: str) -> str:
    """``GET /finance/lines/<id>``: the endpoint, for the per-endpoint table."""
    return f"{method} " + re.sub(r"/\d+(?=/|$)", "/<id>", path.split("?", 1)[0])


class Browser:
    """One signed-in tab: a cookie jar and a connection to the server, reused while open."""

    def __init__(self, port: int, record):
        self.port = port
        self.record = record
        self.conn: http.client.HTTPConnection | None = None
        self.cookies: dict[str, str] = {}

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def clone(self) -> Browser:
        """Another browser holding the same signed-in session (a copy of the cookies)."""
        twin = Browser(self.port, self.record)
        twin.cookies = dict(self.cookies)
        return twin

    def _cookies_from(self, resp) -> None:
        for header in resp.headers.get_all("Set-Cookie") or ():
            pair, _sep, attrs = header.partition(";")
            name, _eq, value = pair.strip().partition("=")
            attrs = attrs.lower()
            if "max-age=0" in attrs or "expires=thu, 01 jan 1970" in attrs or not value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value

    def send(
        self,
        method: str,
        path: str,
        data: dict | None = None,
        *,
        referer: str | None = None,
        record: bool = True,
    ) -> Response:
        headers = {"User-Agent": "portal-load/1", "Accept": "text/html"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if referer:
            headers["Referer"] = f"http://{HOST}:{self.port}{referer}"
        body = None
        if data is not None:
            body = urlencode(data, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        label = label_of(method, path)
        t0 = time.monotonic()
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=120)
            self.conn.request(method, path, body, headers)
            resp = self.conn.getresponse()
            raw = resp.read()
        except (OSError, http.client.HTTPException) as exc:
            latency = time.monotonic() - t0
            self.close()
            if record:
                self.record(label, 0, latency, t0, type(exc).__name__, path, None)
            raise Abort(f"{label}: {exc!r}") from None
        latency = time.monotonic() - t0
        if resp.will_close:
            self.close()
        self._cookies_from(resp)
        location = urlsplit(resp.headers.get("Location", ""))
        location = location.path + (f"?{location.query}" if location.query else "")
        problem = None
        if resp.status in (301, 302, 303) and location.startswith("/login") and path != "/login":
            problem = "sent to the sign-in form"
        elif 300 <= resp.status < 400 and method == "GET":
            problem = f"unexpected redirect to {location}"
        if record:
            self.record(
                label, resp.status, latency, t0, problem, path, resp.headers.get("X-Request-ID")
            )
        text = raw.decode("utf-8", "replace")
        return Response(resp.status, location, text)


INPUT_RE = re.compile(r"<input\b[^>]*>", re.S)
ATTR_RE = re.compile(r'([\w:-]+)="([^"]*)"')
SELECT_RE = re.compile(r'<select\b[^>]*\bname="([^"]+)"[^>]*>(.*?)</select>', re.S)
OPTION_RE = re.compile(r'<option\b[^>]*\bvalue="([^"]*)"')


def inputs(page: str) -> dict[str, str]:
    """The ``<input>`` values of a page by name (the first of each name)."""
    found = {}
    for tag in INPUT_RE.findall(page):
        attrs = dict(ATTR_RE.findall(tag))
        if "name" in attrs and attrs["name"] not in found:
            found[attrs["name"]] = html.unescape(attrs.get("value", ""))
    return found


def options(page: str, name: str) -> list[str]:
    for select_name, body in SELECT_RE.findall(page):
        if select_name == name:
            return [html.unescape(v) for v in OPTION_RE.findall(body)]
    return []


def csrf(page: str) -> str:
    token = inputs(page).get("csrf_token")
    if not token:
        raise Abort("no csrf_token on the page")
    return token


class LoginFailed(RuntimeError):
    pass


def sign_in(port: int, record, email: str) -> Browser:
    """Sign in through the form like a browser; return the signed-in tab."""
    tab = Browser(port, record)
    try:
        page = tab.send("GET", "/login", record=False)
        resp = tab.send(
            "POST",
            "/login",
            {"csrf_token": csrf(page.text), "login": email, "password": PASSWORD, "next": ""},
            record=False,
        )
    except Abort as exc:
        raise LoginFailed(f"{email}: {exc}") from None
    if resp.status != 302:
        raise LoginFailed(f"{email}: sign-in answered {resp.status}")
    if "/login/code" in resp.location or "two-factor" in resp.location:
        raise LoginFailed(f"{email}: sent to {resp.location} (is PORTAL_DEMO_MFA_WAIVER honoured?)")
    tab.send("GET", resp.location or "/", record=False)  # the welcome flash
    tab.close()
    return tab


class PortalUser:
    """A simulated user: one signed-in browser per role it acts in, and the action mix."""

    def __init__(self, index: int, port: int, fx: dict, record, rng: random.Random):
        self.index, self.port, self.fx, self.record, self.rng = index, port, fx, record, rng
        self.tabs: dict[str, Browser] = {}
        self.export_runs: list[int] = []
        self.actions: Counter = Counter()

    def account(self, role: str) -> str:
        i = self.index
        return {
            "volunteer": self.fx["volunteers"][i % len(self.fx["volunteers"])],
            "coordinator": ("coordinator@demo.kz", "coordinator2@demo.kz")[i % 2],
            "finance": "finance@demo.kz",
            "finance2": "finance2@demo.kz",
            "deputy": "deputy@demo.kz",
            "secretary": "secretary@demo.kz",
        }[role]

    def login(self, role: str) -> None:
        self.tabs[role] = sign_in(self.port, self.record, self.account(role))

    def close(self) -> None:
        for tab in self.tabs.values():
            tab.close()

    # -- helpers ---------------------------------------------------------------------------------

    def get(self, role: str, path: str) -> Response:
        return self.tabs[role].send("GET", path)

    def post(self, role: str, path: str, data: dict, referer: str) -> Response:
        """POST like a browser; re-enter the password when a sensitive step asks for it."""
        tab = self.tabs[role]
        resp = tab.send("POST", path, data, referer=referer)
        if resp.status in (302, 303) and resp.location.startswith("/account/confirm"):
            page = tab.send("GET", resp.location)
            fields = inputs(page.text)
            tab.send(
                "POST",
                resp.location,
                {
                    "csrf_token": csrf(page.text),
                    "password": PASSWORD,
                    "code": "",
                    "next": fields.get("next", ""),
                },
                referer=resp.location,
            )
            resp = tab.send("POST", path, data, referer=referer)
        if resp.status in BY_DESIGN:
            return resp
        if resp.status in (302, 303) and resp.location:
            tab.send("GET", resp.location)
        return resp

    def today(self) -> dt.date:
        return dt.datetime.now(ZONE).date()

    # -- the actions ----------------------------------------------------------------------------

    def browse(self) -> None:
        role, paths = self.rng.choices(
            list(self.fx["pages"].items()), weights=self.fx["page_weights"]
        )[0]
        path = self.rng.choice(paths)
        if "{" in path:
            path = path.format(**{k: self.rng.choice(v) for k, v in self.fx["ids"].items()})
        self.get(role, path)

    def log_contribution(self) -> None:
        page = self.get("volunteer", "/my/contributions")
        email = self.account("volunteer")
        back = self.rng.randint(1, max(1, min(30, self.fx["days_member"][email])))
        self.post(
            "volunteer",
            "/my/contributions",
            {
                "csrf_token": csrf(page.text),
                "kind": self.rng.choice(self.fx["kinds"]),
                "occurred_on": (self.today() - dt.timedelta(days=back)).isoformat(),
                "hours": "",
                "description": f"Жүктеме сынағы {uuid.uuid4().hex[:8]}: мектепте әңгіме өткізді",
                "reference": "",
            },
            "/my/contributions",
        )

    def confirm(self) -> None:
        page = self.get("coordinator", "/contributions/queue")
        ids = re.findall(r'name="ids" value="(\d+)"', page.text)
        if not ids:
            return
        picked = self.rng.sample(ids, min(len(ids), self.rng.randint(1, 3)))
        reject = self.rng.random() < 0.1
        self.post(
            "coordinator",
            "/contributions/queue",
            {
                "csrf_token": csrf(page.text),
                "action": "reject" if reject else "confirm",
                "reason": "Сынақ: құжат жоқ" if reject else "",
                "ids": picked,
            },
            "/contributions/queue",
        )

    def decision(self) -> None:
        page = self.get("finance", "/finance/decisions/new")
        units = [v for v in options(page.text, "unit_id") if v]
        lines = [v for v in options(page.text, "changes-0-line_id") if v not in ("", "0")]
        if not units or not lines:
            raise Abort("decision form without units or lines")
        data = {
            "csrf_token": csrf(page.text),
            "unit_id": units[0],
            "number": f"LT-{uuid.uuid4().hex[:10]}",
            "decided_on": self.today().isoformat(),
            "session_number": "LT",
            "kind": "clarification",
            "reference": "https://adilet.zan.kz/load-test",
        }
        for n in range(5):
            data[f"changes-{n}-line_id"] = self.rng.choice(lines) if n == 0 else "0"
            data[f"changes-{n}-amount"] = str(self.rng.randint(1, 50) * 1000) if n == 0 else ""
        resp = self.post("finance", "/finance/decisions/new", data, "/finance/decisions/new")
        found = re.match(r"/finance/decisions/(\d+)$", resp.location or "")
        if resp.status != 302 or not found:
            return
        path = f"/finance/decisions/{found.group(1)}"
        page = self.get("finance2", path)
        self.post("finance2", f"{path}/verify", {"csrf_token": csrf(page.text)}, path)

    def payout(self) -> None:
        listing = self.get("finance", "/commission/payouts")
        items = sorted(set(re.findall(r'href="/commission/payouts/(\d+)"', listing.text)))
        if not items:
            self.decision()
            return
        path = f"/commission/payouts/{self.rng.choice(items)}"
        page = self.get("finance", path)
        fields = inputs(page.text)
        if "key" in fields:
            self.post(
                "finance",
                f"{path}/pay",
                {
                    "csrf_token": fields["csrf_token"],
                    "key": fields["key"],
                    "iban": DEMO_IBAN,
                    "order_number": f"PP-{uuid.uuid4().hex[:8]}",
                    "order_date": self.today().isoformat(),
                    "amount": fields.get("amount", ""),
                },
                path,
            )
        elif "handed_on" in fields:
            self.post(
                "finance",
                f"{path}/hand-over",
                {"csrf_token": fields["csrf_token"], "handed_on": self.today().isoformat()},
                path,
            )
        else:  # everything is paid: the officer goes on to the day's budget paperwork
            self.decision()

    def export(self) -> None:
        page = self.get("deputy", "/oversight/exports")
        dataset = self.rng.choices(
            ("payouts", "decisions", "ledger", "register"), weights=(2, 2, 3, 3)
        )[0]
        resp = self.post(
            "deputy",
            "/oversight/exports",
            {
                "csrf_token": csrf(page.text),
                "dataset": dataset,
                "format": "xlsx" if self.rng.random() < 0.2 else "csv",
                "year": "" if dataset == "register" else "2026",
                "unit_id": "",
                "date_from": "",
                "date_to": "",
            },
            "/oversight/exports",
        )
        found = re.match(r"/jobs/(\d+)", resp.location or "")
        if found:
            self.export_runs.append(int(found.group(1)))

    def step(self) -> None:
        kind = self.rng.choices(list(MIX), weights=list(MIX.values()))[0]
        if kind == "official":
            kind = self.rng.choices(list(OFFICIAL_MIX), weights=list(OFFICIAL_MIX.values()))[0]
        self.actions[kind] += 1
        {
            "browse": self.browse,
            "log": self.log_contribution,
            "confirm": self.confirm,
            "decision": self.decision,
            "payout": self.payout,
            "export": self.export,
        }[kind]()


def client_process(conf: dict, control, results) -> None:
    """One load process, a thread per user in ``conf['indices']``: sign in, wait, run."""
    records: list[tuple] = []
    notes: Counter = Counter()
    lock = threading.Lock()

    def record(label, status, latency, t0, problem, path, request_id):
        with lock:
            records.append((label, status, latency, t0, problem, path, request_id))

    users = []
    login_errors = []
    if conf["mode"] == "portal":
        users = [
            PortalUser(i, conf["port"], conf["fx"], record, random.Random(conf["seed"] + i))
            for i in conf["indices"]
        ]

        # One sign-in per account (argon2id costs ~0.1 s of a core each), then every user
        # gets a copy of that session's cookies: sessions are signed cookies with no server
        # state, so the copies are as independent as separate sign-ins.
        signed_in: dict[str, Browser] = {}
        wanted = sorted({u.account(role) for u in users for role in ROLES})

        def login(email):
            try:
                signed_in[email] = sign_in(conf["port"], record, email)
            except LoginFailed as exc:
                login_errors.append(str(exc))

        threads = [threading.Thread(target=login, args=(e,)) for e in wanted]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if not login_errors:
            for u in users:
                u.tabs = {role: signed_in[u.account(role)].clone() for role in ROLES}
    floor_tabs: dict[int, Browser] = {}
    if conf["mode"] == "floor":
        # The floor's users: one sign-in each (no password: bench/floor.py's fixture route).
        ids = conf["fx"]["floor_user_ids"]
        for i in conf["indices"]:
            tab = Browser(conf["port"], record)
            try:
                resp = tab.send("GET", f"/sign-in/{ids[i % len(ids)]}", record=False)
                if resp.status != 302:
                    login_errors.append(f"floor sign-in answered {resp.status}")
            except Abort as exc:
                login_errors.append(f"floor sign-in: {exc}")
            floor_tabs[i] = tab
    results.put(("ready", login_errors))
    start_at, measure_at, end_at = control.get()
    if start_at is None:
        return

    think = conf["think"]

    def pause(rng: random.Random) -> None:
        if think > 0:
            time.sleep(min(rng.expovariate(1 / think), max(0.0, end_at - time.monotonic())))

    def run_hello(i: int):
        tab, rng = Browser(conf["port"], record), random.Random(conf["seed"] + i)
        while time.monotonic() < end_at:
            with contextlib.suppress(Abort):
                tab.send("GET", "/")
            pause(rng)
        tab.close()

    def run_floor(i: int):
        tab, rng = floor_tabs[i], random.Random(conf["seed"] + i)
        while time.monotonic() < end_at:
            with contextlib.suppress(Abort):
                tab.send("GET", "/members")
            pause(rng)
        tab.close()

    def run_portal(user: PortalUser):
        while time.monotonic() < end_at:
            try:
                user.step()
            except Abort as exc:
                with lock:
                    notes[str(exc)[:160]] += 1
            pause(user.rng)
        user.close()

    delay = start_at - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    if conf["mode"] == "hello":
        threads = [threading.Thread(target=run_hello, args=(i,)) for i in conf["indices"]]
    elif conf["mode"] == "floor":
        threads = [threading.Thread(target=run_floor, args=(i,)) for i in conf["indices"]]
    else:
        threads = [threading.Thread(target=run_portal, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    measured = [r for r in records if measure_at <= r[3] < end_at]
    actions: Counter = Counter()
    for u in users:
        actions.update(u.actions)
    results.put(
        (
            "done",
            {
                "records": measured,
                "notes": dict(notes),
                "actions": dict(actions),
                "export_runs": [r for u in users for r in u.export_runs],
            },
        )
    )


class CpuMeter:
    """Where the machine's CPU went in a window: /proc, grouped by who the processes are.

    The box is shared (other engineers' test runs), so the report says how much of the two
    cores the portal's processes had, and how much went to processes that are not ours.
    """

    def __init__(self, services: Services, db_name: str):
        self.services, self.db_name = services, db_name
        self.clients: set[int] = set()
        self.tick = os.sysconf("SC_CLK_TCK")

    def _groups(self) -> dict[str, set[int]]:
        roots = {name: proc.pid for name, proc in self.services.procs if proc.poll() is None}
        roots["client"] = None
        parents, names = {}, {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
            names[int(entry)] = cmd.decode(errors="replace")
        groups: dict[str, set[int]] = defaultdict(set)
        for pid in parents:
            p, seen = pid, 0
            while p > 1 and seen < 50:
                owner = next((n for n, r in roots.items() if r == p), None)
                if owner is None and p in self.clients:
                    owner = "client"
                if owner:
                    groups[owner].add(pid)
                    break
                p, seen = parents.get(p, 0), seen + 1
            else:
                if names[pid].startswith("postgres:"):
                    ours = f" {self.db_name} " in names[pid]
                    groups["postgres (this db)" if ours else "postgres (other)"].add(pid)
        return groups

    def _ticks(self, pid: int) -> int:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0
        return int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])

    def sample(self) -> dict:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = fields[3] + fields[4]
        per_pid = {}
        for group, pids in self._groups().items():
            for pid in pids:
                per_pid[pid] = (group, self._ticks(pid))
        return {"t": time.monotonic(), "busy": sum(fields[:8]) - idle, "pids": per_pid}

    def since(self, before: dict) -> dict:
        after = self.sample()
        seconds = after["t"] - before["t"]
        cores: Counter = Counter()
        for pid, (group, ticks) in after["pids"].items():
            start = before["pids"].get(pid, (group, 0))[1]
            # Children of ours (e.g. the RQ work-horse) count also after they have ended:
            # cutime/cstime of their parent (fields 15, 16) carry them.
            cores[group] += max(0, ticks - start) / self.tick / seconds
        busy = (after["busy"] - before["busy"]) / self.tick / seconds
        cores["other processes"] = max(0.0, busy - sum(cores.values()))
        cores["idle"] = max(0.0, (os.cpu_count() or 1) - busy)
        return dict(cores)


def drive(
    mode: str, port: int, fx: dict | None, args, warm: float, seconds: float, cpu: CpuMeter
) -> dict:
    """Run ``args.users`` simulated users over ``args.procs`` processes; return the results."""
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    procs, controls = [], []
    indices = list(range(args.users))
    for p in range(args.procs):
        control = ctx.Queue()
        conf = {
            "mode": mode,
            "port": port,
            "fx": fx,
            "indices": indices[p :: args.procs],
            "seed": 1000 * (p + 1),
            "think": args.think,
        }
        proc = ctx.Process(target=client_process, args=(conf, control, results), daemon=True)
        proc.start()
        procs.append(proc)
        controls.append(control)
    t_login = time.monotonic()
    login_errors = []
    for _ in procs:
        kind, errs = results.get(timeout=900)
        assert kind == "ready"
        login_errors.extend(errs)
    login_seconds = time.monotonic() - t_login
    if login_errors:
        for control in controls:
            control.put((None, None, None))
        for proc in procs:
            proc.join(10)
        raise SystemExit("sign-in failed: " + "; ".join(sorted(set(login_errors))[:5]))
    start_at = time.monotonic() + 0.5
    measure_at = start_at + warm
    end_at = measure_at + seconds
    for control in controls:
        control.put((start_at, measure_at, end_at))
    cpu.clients = {proc.pid for proc in procs}
    time.sleep(max(0.0, measure_at - time.monotonic()))
    before = cpu.sample()
    time.sleep(max(0.0, end_at - time.monotonic()))
    used = cpu.since(before)
    merged = {"records": [], "notes": Counter(), "actions": Counter(), "export_runs": []}
    for _ in procs:
        kind, part = results.get(timeout=seconds + warm + 600)
        merged["records"].extend(part["records"])
        merged["notes"].update(part["notes"])
        merged["actions"].update(part["actions"])
        merged["export_runs"].extend(part["export_runs"])
    for proc in procs:
        proc.join(30)
    merged["seconds"] = seconds
    merged["login_seconds"] = login_seconds
    merged["cpu"] = used
    return merged


# ---- statistics -------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def outcome(label: str, status: int, problem: str | None) -> str:
    if problem or status == 0:
        return "error"
    if 200 <= status < 400:
        return "ok"
    if status in BY_DESIGN and label.startswith("POST "):
        return "by_design"
    return "error"


def app_times(log: Path) -> dict[str, float]:
    """The portal's own time per request (its JSON access log, ``ms``), by request id."""
    times = {}
    if not log.exists():
        return times
    for line in log.read_text(errors="replace").splitlines():
        if '"portal.access"' not in line:
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("request_id") and entry.get("ms") is not None:
            times[entry["request_id"]] = float(entry["ms"])
    return times


def server_exceptions(log: Path) -> Counter:
    """The portal's unhandled errors (its JSON log): the exception line and its DETAIL."""
    found: Counter = Counter()
    if not log.exists():
        return found
    for line in log.read_text(errors="replace").splitlines():
        if '"exception"' not in line:
            continue
        try:
            text = json.loads(line)["exception"]
        except (ValueError, KeyError):
            continue
        lines = text.strip().splitlines()
        head = next((x for x in lines if re.match(r"^[\w.]+(Error|Exception|Detected)\b", x)), "")
        detail = next((x for x in lines if x.startswith("DETAIL:")), "")
        detail = re.sub(r"([Pp]rocess|transaction) \d+", r"\1 N", detail)
        found[f"{head or lines[-1]} {detail}".strip()[:400]] += 1
    return found


def summarize(result: dict, app_ms: dict[str, float] | None = None) -> dict:
    """Totals and per-endpoint figures; ``app_ms`` adds the time spent inside the app."""
    records = result["records"]
    lat = [r[2] * 1000 for r in records]
    kinds = Counter(outcome(r[0], r[1], r[4]) for r in records)
    by_label = defaultdict(list)
    in_app = defaultdict(list)
    statuses = defaultdict(Counter)
    problems = Counter()
    for label, status, latency, _t0, problem, _path, rid in records:
        by_label[label].append(latency * 1000)
        if app_ms and rid in app_ms:
            in_app[label].append(app_ms[rid])
        statuses[label][status] += 1
        if outcome(label, status, problem) == "error":
            problems[f"{label} -> {status}{' ' + problem if problem else ''}"] += 1
    app_all = [v for vs in in_app.values() for v in vs]
    return {
        "requests": len(records),
        "rps": len(records) / result["seconds"],
        "p50": pct(lat, 50),
        "p95": pct(lat, 95),
        "p99": pct(lat, 99),
        "mean": statistics.fmean(lat) if lat else 0.0,
        "app_mean": statistics.fmean(app_all) if app_all else None,
        "app_total": sum(app_all),
        "errors": kinds["error"],
        "by_design": kinds["by_design"],
        "by_label": by_label,
        "in_app": in_app,
        "statuses": statuses,
        "problems": problems,
    }


def print_summary(name: str, s: dict) -> None:
    print(
        f"{name:<8} requests={s['requests']:>7}  rps={s['rps']:8.1f}  p50={s['p50']:7.1f} ms  "
        f"p95={s['p95']:7.1f} ms  p99={s['p99']:7.1f} ms  mean={s['mean']:7.1f} ms  "
        f"errors={s['errors']}  409/422 by design={s['by_design']}"
    )
    if s["app_mean"] is not None:
        print(
            f"{'':<8} of the mean {s['mean']:.1f} ms, {s['app_mean']:.1f} ms inside the app "
            f"(its access log); the rest is waiting for a free worker, HTTP and the client"
        )


def print_endpoints(s: dict) -> None:
    rows = sorted(s["by_label"].items(), key=lambda kv: -pct(kv[1], 95))
    width = max(len(k) for k, _ in rows) if rows else 20
    total = s["app_total"] or 1.0
    print(
        f"{'endpoint':<{width}}  {'n':>5}  {'p50 ms':>7}  {'p95 ms':>7}  {'max ms':>7}  "
        f"{'app p50':>7}  {'app p95':>7}  {'app %':>5}  statuses"
    )
    for label, lat in rows:
        st = " ".join(f"{k}:{v}" for k, v in sorted(s["statuses"][label].items()))
        app = s["in_app"].get(label) or []
        app_cols = (
            f"{pct(app, 50):>7.1f}  {pct(app, 95):>7.1f}  {100 * sum(app) / total:>5.1f}"
            if app
            else f"{'-':>7}  {'-':>7}  {'-':>5}"
        )
        print(
            f"{label:<{width}}  {len(lat):>5}  {pct(lat, 50):>7.1f}  {pct(lat, 95):>7.1f}  "
            f"{max(lat):>7.1f}  {app_cols}  {st}"
        )
    print(
        "(p50/p95/max: as the client saw it; app p50/p95: inside the portal, from its access "
        "log; app %: share of all time spent inside the app)"
    )


# ---- processes --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Services:
    """The processes this run started, stopped by their own process groups only."""

    def __init__(self, logdir: Path):
        self.logdir = logdir
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, cmd: list[str], env: dict) -> subprocess.Popen:
        log = open(self.logdir / f"{name}.log", "wb")  # noqa: SIM115  (closed by the child's exit)
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.procs.append((name, proc))
        return proc

    def stop_all(self) -> None:
        for _name, proc in reversed(self.procs):
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for _name, proc in reversed(self.procs):
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)

    def tail(self, name: str, lines: int = 20) -> str:
        path = self.logdir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def gunicorn_cmd(app_spec: str, port: int, workers: int, logdir: Path, name: str) -> list[str]:
    """The same settings for the portal and the baseline; only the app differs."""
    cmd = [
        str(VENV_BIN / "gunicorn"),
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--bind",
        f"{HOST}:{port}",
        "--backlog",
        "2048",
        "--timeout",
        "120",
        "--graceful-timeout",
        "10",
        "--worker-tmp-dir",
        "/dev/shm",  # noqa: S108  (gunicorn's advice for the heartbeat file)
        "--log-level",
        "warning",
        "--error-logfile",
        str(logdir / f"{name}.gunicorn.log"),
    ]
    if app_spec.startswith(("hello_app", "floor")):
        cmd += ["--pythonpath", str(ROOT / "bench")]
    return [*cmd, app_spec]


def wait_http(port: int, path: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server on port {port} exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the server on port {port} did not answer {path} in {timeout} s")


def run_demo(env: dict, scale: int) -> str:
    """Migrate and load the demo data; with ``--scale N`` when the command offers it."""
    flask = [str(VENV_BIN / "flask"), "--app", "wsgi"]
    helptext = subprocess.run(
        [*flask, "demo", "--help"], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    cmd = [*flask, "demo"]
    if "--scale" in helptext and scale > 0:
        cmd += ["--scale", str(scale)]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0 and "--scale" in cmd:
        # The base demo commits before the scaled region: go on with it, and say so.
        print(f"warning: {' '.join(cmd[3:])} failed; going on with the plain demo data:")
        print("  " + (done.stderr.strip().splitlines() or ["?"])[-1])
        cmd = [*flask, "demo"]
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[3:])} failed:\n{done.stdout}\n{done.stderr}")
    return " ".join(cmd[3:])


# ---- fixtures, invariants and the profile (in this process, on the scratch database) -----------


def discover(engine) -> dict:
    """Accounts, ids and kinds the simulated users need, read from the demo data."""
    from sqlalchemy import text

    with engine.connect() as conn:
        today = dt.datetime.now(ZONE).date()
        vols = conn.execute(
            text(
                "SELECT u.email, min(m.issued_on) FROM member m "
                "JOIN user_account u ON u.id = m.user_id "
                "WHERE m.status = 'active' AND u.email LIKE '%@demo.kz' AND u.is_active "
                "GROUP BY u.email ORDER BY u.email"
            )
        ).all()
        district = conn.execute(
            text("SELECT path FROM admin_unit WHERE kato = '354000000'")
        ).scalar_one()
        members = conn.execute(
            text(
                "SELECT m.id FROM member m JOIN admin_unit a ON a.id = m.unit_id "
                "WHERE a.path LIKE :p ORDER BY m.id LIMIT 200"
            ),
            {"p": district + "%"},
        ).scalars()
        members = list(members)
        shifts = list(
            conn.execute(
                text(
                    "SELECT s.id FROM shift s JOIN admin_unit a ON a.id = s.unit_id "
                    "WHERE a.path LIKE :p ORDER BY s.id DESC LIMIT 100"
                ),
                {"p": district + "%"},
            ).scalars()
        )
        lines = list(conn.execute(text("SELECT id FROM budget_line ORDER BY id")).scalars())
        sessions = list(
            conn.execute(text("SELECT id FROM commission_session ORDER BY id")).scalars()
        )
        kinds = list(
            conn.execute(
                text(
                    "SELECT code FROM contribution_kind WHERE active AND measure <> 'hours' "
                    "AND NOT needs_reference ORDER BY code"
                )
            ).scalars()
        )
    volunteers = [email for email, _issued in vols]
    # SQLite (bench/pages.py --sqlite) hands an aggregate's date back as text.
    days = {
        email: (today - (dt.date.fromisoformat(i) if isinstance(i, str) else i)).days
        for email, i in vols
    }
    if "volunteer@demo.kz" not in volunteers:
        raise RuntimeError("the demo volunteer has no active membership")
    pages = {
        "volunteer": ["/", "/my", "/my/shifts", "/my/contributions", "/commission/my-rewards"],
        "coordinator": [
            "/shifts",
            "/shifts/{shift}",
            "/shifts/summary",
            "/contributions/queue",
            "/volunteers/applications",
            "/volunteers/members",
            "/volunteers/members/{member}",
            "/commission/candidates",
        ],
        "finance": [
            "/finance/lines",
            "/finance/lines/{line}",
            "/finance/decisions",
            "/commission/payouts",
        ],
        "deputy": ["/oversight/", "/oversight/audit", "/oversight/lines/{line}"],
        "secretary": ["/commission/sessions", "/commission/sessions/{session}"],
    }
    return {
        "volunteers": volunteers,
        "days_member": days,
        "kinds": kinds,
        "ids": {"member": members, "shift": shifts, "line": lines, "session": sessions},
        "pages": pages,
        # Who browses: mostly volunteers and coordinators, then the officials.
        "page_weights": [40, 25, 15, 12, 8],
    }


def usable_volunteers(fx: dict, port: int) -> None:
    """Keep the scaled volunteers only when they can sign in with the demo password.

    Tried once, with one account: failed sign-ins count against the address's throttle.
    """
    others = [v for v in fx["volunteers"] if v != "volunteer@demo.kz"]
    if not others:
        fx["volunteers"] = ["volunteer@demo.kz"]
        return
    probe = PortalUser(0, port, {**fx, "volunteers": [others[0]]}, lambda *a: None, random.Random())
    try:
        probe.login("volunteer")
        probe.close()
    except LoginFailed:
        fx["volunteers"] = ["volunteer@demo.kz"]


def user_ids(engine, emails: list[str]) -> list[int]:
    """The account ids of ``emails``: the floor signs in as the same volunteers."""
    from sqlalchemy import bindparam, text

    with engine.connect() as conn:
        return list(
            conn.execute(
                text("SELECT id FROM user_account WHERE email IN :emails ORDER BY id").bindparams(
                    bindparam("emails", expanding=True)
                ),
                {"emails": emails},
            ).scalars()
        )


def export_state(engine, run_ids: list[int]) -> Counter:
    from sqlalchemy import bindparam, text

    if not run_ids:
        return Counter()
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT status, count(*) FROM job_run WHERE id IN :ids GROUP BY status"
            ).bindparams(bindparam("ids", expanding=True)),
            {"ids": run_ids},
        ).all()
    return Counter(dict(rows))


def drain_exports(engine, run_ids: list[int], timeout: float) -> tuple[Counter, float]:
    t0 = time.monotonic()
    while True:
        state = export_state(engine, run_ids)
        if state["queued"] + state["running"] == 0 or time.monotonic() - t0 > timeout:
            return state, time.monotonic() - t0
        time.sleep(1)


LIVE_COMMITMENTS = """
SELECT l.id, l.approved_tiyn, l.committed_tiyn, l.disbursed_tiyn,
       coalesce((SELECT sum(n.amount_tiyn) FROM agenda_item ai
                 JOIN nomination n ON n.id = ai.nomination_id
                 WHERE ai.line_id = l.id AND ai.outcome = 'approved'
                   AND ai.ledger_entry_id IS NOT NULL
                   AND NOT EXISTS (SELECT 1 FROM payout p WHERE p.item_id = ai.id
                                   AND p.status IN ('paid', 'handed_over', 'voided'))), 0)
FROM budget_line l ORDER BY l.id
"""


def check_invariants(app, engine) -> list[str]:
    """Return the failed invariants (none when all hold), printing what was checked."""
    from sqlalchemy import text

    from core import audit, jobruns
    from portal import jobs
    from portal.extensions import db

    failed = []
    with engine.connect() as conn:
        rows = conn.execute(text(LIVE_COMMITMENTS)).all()
    over = [r for r in rows if r[2] > r[1] or r[2] + r[3] > r[1]]
    drift = [r for r in rows if r[2] != r[4]]
    print(
        f"budget lines: {len(rows)}; committed <= approved and committed + disbursed <= approved: "
        f"{'ok' if not over else f'FAILED on lines {[r[0] for r in over]}'}"
    )
    print(
        "committed = sum of live commitments (approved items not paid, handed over or voided): "
        + ("ok" if not drift else f"FAILED on {[(r[0], r[2], r[4]) for r in drift]}")
    )
    if over:
        failed.append("committed over approved")
    if drift:
        failed.append("committed differs from live commitments")
    with app.app_context():
        run = jobs.submit("budget.reconcile", requested_by_id=None, unit_id=None)
        run_id = run.id
        db.session.commit()  # dispatched to the RQ worker after the commit
        deadline = time.monotonic() + 90
        status = "queued"
        while time.monotonic() < deadline:
            db.session.rollback()
            status = jobruns.get_run(db.session, run_id).status
            if status in ("succeeded", "failed"):
                break
            time.sleep(0.5)
        by = "the RQ worker"
        if status not in ("succeeded", "failed"):
            by = "this process (the worker did not take it in 90 s)"
            jobs.execute(run_id)
            db.session.rollback()
        found = jobruns.get_run(db.session, run_id)
        report = json.loads(found.result or "{}")
        ok = found.status == "succeeded" and report.get("ok") is True
        print(
            f"nightly reconciliation (job run {run_id}, run by {by}): {found.status}, "
            f"drifts={len(report.get('drifts', []))}" + ("" if ok else f" {found.error or ''}")
        )
        if not ok:
            failed.append("reconciliation")
        db.session.rollback()
        t0 = time.monotonic()
        chain = audit.verify_chain(db.session)
        db.session.rollback()
        print(
            f"audit chain: {'ok' if chain.ok else 'BROKEN'} rows={chain.rows} "
            f"head_seq={chain.head_seq} ({time.monotonic() - t0:.1f} s)"
            + ("" if chain.ok else f" first bad seq {chain.first_bad_seq} ({chain.problem})")
        )
        if not chain.ok:
            failed.append("audit chain")
        db.session.remove()
    return failed


class TestTab:
    """The profile's browser: the Flask test client, signed in as one role."""

    def __init__(self, app, email: str):
        self.client = app.test_client()
        page = self.client.get("/login")
        token = csrf(page.get_data(as_text=True))
        resp = self.client.post(
            "/login", data={"csrf_token": token, "login": email, "password": PASSWORD, "next": ""}
        )
        if resp.status_code != 302:
            raise LoginFailed(f"{email}: {resp.status_code}")
        self.client.get(resp.headers["Location"])

    def token(self, path: str = "/") -> str:
        return csrf(self.client.get(path).get_data(as_text=True))


PROFILE_ACCOUNTS = (  # path prefix -> who opens it (first match)
    ("/commission/my-rewards", "volunteer@demo.kz"),
    ("/commission/sessions", "secretary@demo.kz"),
    ("/commission/candidates", "coordinator2@demo.kz"),
    ("/commission/payouts", "finance@demo.kz"),
    ("/finance", "finance@demo.kz"),
    ("/oversight", "deputy@demo.kz"),
    ("/jobs", "deputy@demo.kz"),
    ("/my", "volunteer@demo.kz"),
    ("/shifts", "coordinator2@demo.kz"),
    ("/contributions", "coordinator2@demo.kz"),
    ("/volunteers", "coordinator2@demo.kz"),
    ("/", "volunteer@demo.kz"),
)


def profile_recipe(label: str, samples: list[str], fx: dict):
    """Return (email, prepare) where prepare(tab) gives the next (method, path, data), or None.

    GETs replay the paths the load used; the POSTs below can be repeated safely. Preparing
    (fetching a form for its token) is outside the profiled call.
    """
    method, _space, pattern = label.partition(" ")
    rng = random.Random(7)
    today = dt.datetime.now(ZONE).date()
    if method == "GET":
        if not samples:
            return None
        email = next(e for prefix, e in PROFILE_ACCOUNTS if pattern.startswith(prefix))
        if pattern.startswith("/my"):
            # The load's volunteers asked for their own memberships (?member=…); replayed as
            # one account, another's membership is a 404: replay their pages without it.
            samples = sorted({path.partition("?")[0] for path in samples})
        return email, lambda tab: ("GET", rng.choice(samples), None)
    if label == "POST /my/contributions":

        def contribution(tab):
            return (
                "POST",
                "/my/contributions",
                {
                    "csrf_token": tab.token("/my/contributions"),
                    "kind": rng.choice(fx["kinds"]),
                    "occurred_on": (today - dt.timedelta(days=rng.randint(1, 30))).isoformat(),
                    "hours": "",
                    "description": "Профиль: мектепте әңгіме өткізді",
                    "reference": "",
                },
            )

        return "volunteer@demo.kz", contribution
    if label == "POST /contributions/queue":

        def queue(tab):
            page = tab.client.get("/contributions/queue").get_data(as_text=True)
            ids = re.findall(r'name="ids" value="(\d+)"', page)[:2]
            data = {"csrf_token": csrf(page), "action": "confirm", "reason": "", "ids": ids}
            return "POST", "/contributions/queue", data

        return "coordinator2@demo.kz", queue
    if label == "POST /oversight/exports":

        def export(tab):
            data = {
                "csrf_token": tab.token("/oversight/exports"),
                "dataset": "ledger",
                "format": "csv",
                "year": "2026",
            }
            return "POST", "/oversight/exports", data

        return "deputy@demo.kz", export
    if label == "POST /finance/decisions/new":

        def decision(tab):
            page = tab.client.get("/finance/decisions/new").get_data(as_text=True)
            lines = [v for v in options(page, "changes-0-line_id") if v not in ("", "0")]
            data = {
                "csrf_token": csrf(page),
                "unit_id": next(v for v in options(page, "unit_id") if v),
                "number": f"PR-{uuid.uuid4().hex[:10]}",
                "decided_on": today.isoformat(),
                "session_number": "PR",
                "kind": "clarification",
                "reference": "https://adilet.zan.kz/profile",
                "changes-0-line_id": rng.choice(lines),
                "changes-0-amount": "1000",
            }
            return "POST", "/finance/decisions/new", data

        return "finance@demo.kz", decision
    return None


def profile_one(app, label: str, why: str, recipe, iterations: int) -> str:
    """Time ``iterations`` requests alone, then cProfile as many; return the report."""
    email, prepare = recipe
    out = io.StringIO()
    # No app context around the requests: each test request gets its own, as under gunicorn
    # (an outer one would keep ``g``, hence the signed-in user and the CSRF token, cached).
    tab = TestTab(app, email)
    profiler = cProfile.Profile()
    plain, profiled = [], []
    for n in range(2 + 2 * iterations):
        method, path, data = prepare(tab)
        on = n >= 2 + iterations
        t0 = time.perf_counter()
        if on:
            profiler.enable()
        resp = tab.client.open(path, method=method, data=data)
        if on:
            profiler.disable()
        if n >= 2:
            (profiled if on else plain).append((time.perf_counter() - t0) * 1000)
        if resp.status_code >= 400 and resp.status_code not in BY_DESIGN:
            out.write(f"warning: {method} {path} answered {resp.status_code}\n")
    out.write(
        f"{label} ({why}); alone in-process (Flask test client, same database, signed in as "
        f"{email}): median {statistics.median(plain):.1f} ms over {iterations} requests, "
        f"{statistics.median(profiled):.1f} ms with cProfile on. Top 15 by cumulative time, "
        f"below the test client and Flask's dispatch (which wrap everything):\n"
    )
    stats = pstats.Stats(profiler)
    out.write(top_functions(stats, "cumulative", 15, iterations))
    out.write("\nand the top 10 by own time (tottime):\n")
    out.write(top_functions(stats, "tottime", 10, iterations))
    return out.getvalue()


# The frames that wrap every request (the test client, Flask's dispatch, the role check):
# listed, they would fill the top of the cumulative table with the same 100 %.
WRAPPERS = re.compile(
    r"flask/testing\.py|werkzeug/test\.py|"
    r"flask/app\.py:\d+\((__call__|wsgi_app|full_dispatch_request|dispatch_request)\)|"
    r"portal/security\.py:\d+\(wrapper\)"
)


def top_functions(stats: pstats.Stats, key: str, n: int, requests: int) -> str:
    """A pstats-like table (ms per request), shortened paths, without the request wrappers."""
    site = re.compile(re.escape(str(ROOT / ".venv" / "lib")) + r"/python[\d.]+/site-packages/")
    rows = []
    for (file, line, func), (cc, nc, tt, ct, _callers) in stats.stats.items():
        where = site.sub("", file).replace(str(ROOT) + "/", "")
        name = f"{where}:{line}({func})" if line else func
        if WRAPPERS.search(name):
            continue
        rows.append((ct if key == "cumulative" else tt, nc, cc, tt, ct, name))
    rows.sort(reverse=True)
    lines = [f"{'ncalls':>14} {'tottime':>8} {'cumtime':>8} {'cum ms/req':>10}  function"]
    for _k, nc, cc, tt, ct, name in rows[:n]:
        calls = f"{nc}/{cc}" if nc != cc else str(nc)
        lines.append(f"{calls:>14} {tt:8.3f} {ct:8.3f} {1000 * ct / requests:10.2f}  {name}")
    return "\n".join(lines)


def profile_slowest(app, summary: dict, records: list, fx: dict, iterations: int) -> str:
    """Profile the slowest endpoint inside the app (median of its access-log times under load)
    and, when it is another one, the endpoint that took the most app time in all."""
    samples = defaultdict(list)
    for label, status, _lat, _t0, _problem, path, _rid in records:
        if 200 <= status < 300:
            samples[label].append(path)
    in_app = summary["in_app"] or summary["by_label"]  # no access log: the client's view
    eligible = {k: v for k, v in in_app.items() if len(v) >= 5}
    slowest = sorted(eligible, key=lambda k: -pct(eligible[k], 50))
    heaviest = sorted(eligible, key=lambda k: -sum(eligible[k]))
    reports, done, skipped = [], set(), []
    total = sum(sum(v) for v in in_app.values()) or 1.0
    for ranking, why in (
        (slowest, "the slowest: highest median time inside the app under load, {p50:.1f} ms"),
        (heaviest, "the heaviest: {share:.0f} % of all time inside the app under load"),
    ):
        for label in ranking:
            recipe = profile_recipe(label, samples.get(label, []), fx)
            if recipe is None:
                skipped.append(label)
                continue
            if label not in done:
                text = why.format(
                    p50=pct(eligible[label], 50), share=100 * sum(eligible[label]) / total
                )
                reports.append(profile_one(app, label, text, recipe, iterations))
                done.add(label)
            break
    head = ""
    if skipped:
        head = f"(ranked higher but not replayable in-process: {', '.join(sorted(set(skipped)))})\n"
    return head + "\n\n".join(reports)


# ---- main -------------------------------------------------------------------------------------


def clean_up(admin, name: str, tmp: Path, *, redis_url: str | None, created: bool, keep: bool):
    """Remove what a run made: its Redis keys, its scratch database (unless kept or not made
    by the run) and its temporary files (unless kept); then let go of the admin engine."""
    from sqlalchemy import text

    if redis_url:
        with contextlib.suppress(Exception):  # the database is dropped all the same
            clean_redis(redis_url, name)
    if created and not keep:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
    if not keep:
        shutil.rmtree(tmp, ignore_errors=True)


def clean_redis(redis_url: str, prefix: str) -> int:
    """Delete this run's keys: its queues and registries, their jobs, worker, throttle counters."""
    from redis import Redis

    r = Redis.from_url(redis_url)
    keys = set(r.scan_iter(match=f"*{prefix}*", count=1000))
    jobs = set()
    for key in keys:
        kind = r.type(key)
        if kind == b"list":
            jobs.update(r.lrange(key, 0, -1))
        elif kind == b"zset":
            jobs.update(r.zrange(key, 0, -1))
    for job in jobs:
        job = (job.decode() if isinstance(job, bytes) else str(job)).split(":")[0]
        keys.update({f"rq:job:{job}", f"rq:job:{job}:dependents", f"rq:results:{job}"})
    keys = list(keys)
    for i in range(0, len(keys), 500):
        r.delete(*keys[i : i + 500])
    return len(keys)


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a short run (under 3 minutes)")
    ap.add_argument("--users", type=int, default=50, help="concurrent simulated users")
    ap.add_argument("--duration", type=float, help="measured seconds on the portal")
    ap.add_argument("--warmup", type=float, help="seconds of load before measuring")
    ap.add_argument("--baseline-duration", type=float, help="measured seconds on hello")
    ap.add_argument("--workers", type=int, default=default_workers(), help="gunicorn workers")
    ap.add_argument("--procs", type=int, default=2, help="load-generating processes")
    ap.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="mean think time in seconds between a user's actions (default 0: a closed loop "
        "at full speed, which measures throughput; applied to both apps alike)",
    )
    ap.add_argument(
        "--scale",
        type=int,
        help="members of the scaled demo region (demo --scale N, when the command has it; "
        "default 500 with --quick, else 10000; 0 for the plain demo)",
    )
    ap.add_argument("--profile-requests", type=int, help="requests per profiled endpoint")
    ap.add_argument("--keep", action="store_true", help="keep the database (for a post-mortem)")
    args = ap.parse_args()
    quick = args.quick
    args.duration = args.duration or (30.0 if quick else 180.0)
    args.warmup = args.warmup if args.warmup is not None else (10.0 if quick else 30.0)
    args.baseline_duration = args.baseline_duration or (15.0 if quick else 60.0)
    if args.scale is None:
        args.scale = 500 if quick else 10000
    args.profile_requests = args.profile_requests or (10 if quick else 30)
    args.procs = max(1, min(args.procs, args.users))
    return args


def main() -> int:
    args = parse_args()
    t_start = time.monotonic()
    pg = os.environ.get("PORTAL_LOAD_PG", "postgresql://postgres@127.0.0.1:5432")
    redis_url = os.environ.get("PORTAL_LOAD_REDIS", "redis://127.0.0.1:6379/0")
    name = f"portal_load_{secrets.token_hex(4)}"
    tmp = Path(tempfile.mkdtemp(prefix=f"{name}-"))
    (tmp / "instance").mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": f"{pg}/{name}",
        "REDIS_URL": redis_url,
        "SECRET_KEY": secrets.token_hex(32),
        "PORTAL_SECURE_COOKIES": "0",
        "PORTAL_RQ_QUEUE_PREFIX": name,
        "PORTAL_INSTANCE_PATH": str(tmp / "instance"),
        "PORTAL_DEMO_MFA_WAIVER": "1",
        "PYTHONUNBUFFERED": "1",
    }
    from sqlalchemy import create_engine, text

    admin = create_engine(
        "postgresql+psycopg://" + pg.split("://", 1)[1] + "/postgres", isolation_level="AUTOCOMMIT"
    )
    services = Services(tmp)
    engine = None
    created = False
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        created = True
        kept = "kept (--keep)" if args.keep else "dropped and removed at the end"
        print(f"database {name}, logs in {tmp}: {kept}")
        t0 = time.monotonic()
        demo_cmd = run_demo(env, args.scale)
        print(f"flask --app wsgi {demo_cmd}: {time.monotonic() - t0:.1f} s")
        engine = create_engine("postgresql+psycopg://" + pg.split("://", 1)[1] + "/" + name)
        fx = discover(engine)

        worker = services.start(
            "worker", [str(VENV_BIN / "flask"), "--app", "wsgi", "worker", "--name", name], env
        )
        portal_port, hello_port = free_port(), free_port()
        portal_srv = services.start(
            "portal",
            gunicorn_cmd("wsgi:app", portal_port, args.workers, tmp, "portal"),
            env,
        )
        hello_srv = services.start(
            "hello",
            gunicorn_cmd("hello_app:app", hello_port, args.workers, tmp, "hello"),
            env,
        )
        floor_port = free_port()
        floor_srv = services.start(
            "floor",
            gunicorn_cmd("floor:create_app()", floor_port, args.workers, tmp, "floor"),
            env,
        )
        wait_http(portal_port, "/readyz", portal_srv)
        wait_http(hello_port, "/", hello_srv)
        wait_http(floor_port, "/hello", floor_srv)
        if worker.poll() is not None:
            raise RuntimeError("the RQ worker exited:\n" + services.tail("worker"))
        usable_volunteers(fx, portal_port)
        fx["floor_user_ids"] = user_ids(engine, fx["volunteers"])
        print(
            f"gunicorn: {args.workers} sync workers each (2 x {os.cpu_count()} cores + 1 by "
            f"default); client: {args.procs} processes, {args.users} users; volunteers "
            f"signing in: {len(fx['volunteers'])}"
        )

        # The baseline first, while the portal and its worker are idle.
        cpu = CpuMeter(services, name)
        load_before = os.getloadavg()[0]
        hello = drive(
            "hello", hello_port, None, args, min(5.0, args.warmup), args.baseline_duration, cpu
        )
        hs = summarize(hello)
        # The idiomatic floor (bench/floor.py): signed-in pages of 20 rows under a 12-link nav.
        floor = drive("floor", floor_port, fx, args, min(5.0, args.warmup), args.duration, cpu)
        fs = summarize(floor)
        portal = drive("portal", portal_port, fx, args, args.warmup, args.duration, cpu)
        ps = summarize(portal, app_times(tmp / "portal.log"))
        portal["summary"] = ps
        print(
            f"\nload average (1 min) before the load: {load_before:.2f}; sign-in of the "
            f"accounts before the clock: {portal['login_seconds']:.1f} s"
        )
        print(
            f"\n== load: {args.users} users, closed loop, "
            + (f"mean think time {args.think:g} s" if args.think else "no think time")
            + "; measured "
            f"{args.duration:.0f} s after {args.warmup:.0f} s warm-up (hello: "
            f"{args.baseline_duration:.0f} s) =="
        )
        print_summary("portal", ps)
        print_summary("floor", fs)
        print_summary("hello", hs)
        if args.think:
            print(
                "note: with --think the users are paced, so requests/s follows the think time "
                "and not the servers' capacity; the ratio then means little"
            )
        per_request = {}
        for what, result, stats in (
            ("portal", portal, ps),
            ("floor", floor, fs),
            ("hello", hello, hs),
        ):
            used = result["cpu"]
            print(
                f"CPU cores used while measuring {what}: "
                + ", ".join(f"{k} {v:.2f}" for k, v in sorted(used.items(), key=lambda kv: -kv[1]))
            )
            ours = {
                k: 1000 * v / stats["rps"]
                for k, v in used.items()
                if stats["rps"]
                and k not in ("idle", "other processes", "postgres (other)")
                and v >= 0.005
            }
            per_request[what] = sum(ours.values())
            print(
                f"  CPU per {what} request (ms of one core): "
                + ", ".join(f"{k} {v:.2f}" for k, v in sorted(ours.items(), key=lambda kv: -kv[1]))
                + f"; total {per_request[what]:.2f}"
            )
        if per_request.get("portal"):
            cost_ratio = per_request["hello"] / per_request["portal"]
            print(
                f"  ratio of CPU costs hello/portal = {cost_ratio:.3f}"
                " (the throughput ratio on an idle box where CPU is the limit, whatever else "
                "runs on this one)"
            )
        total_actions = sum(portal["actions"].values()) or 1
        print(
            "actions (whole run incl. warm-up): "
            + ", ".join(
                f"{k} {v} ({100 * v / total_actions:.1f} %)"
                for k, v in sorted(portal["actions"].items(), key=lambda kv: -kv[1])
            )
        )
        print("\n== portal: p95 per endpoint (measured window) ==")
        print_endpoints(ps)
        if ps["problems"]:
            print("\nerrors:")
            for what, n in ps["problems"].most_common(15):
                print(f"  {n:>5}  {what}")
            for what, n in server_exceptions(tmp / "portal.log").most_common(5):
                print(f"  {n:>5}  in the portal's log: {what}")
        if hs["problems"]:
            print("hello errors:", dict(hs["problems"].most_common(5)))
        if fs["problems"]:
            print("floor errors:", dict(fs["problems"].most_common(5)))
        if portal["notes"]:
            print("actions cut short:")
            for what, n in Counter(portal["notes"]).most_common(8):
                print(f"  {n:>5}  {what}")

        runs = portal["export_runs"]
        state, waited = drain_exports(engine, runs, 60 if args.quick else 180)
        print(
            f"\nexport jobs submitted: {len(runs)}; after waiting {waited:.0f} s for the RQ "
            f"worker: {dict(state)}"
        )
        job_errors = state.get("failed", 0)
        if job_errors:
            with engine.connect() as conn:
                err = conn.execute(
                    text(
                        "SELECT error FROM job_run WHERE kind = 'oversight.export' "
                        "AND status = 'failed' LIMIT 1"
                    )
                ).scalar()
            print(f"  first failure: {err}")

        os.environ.update({k: v for k, v in env.items() if k != "PYTHONUNBUFFERED"})
        from portal import create_app

        app = create_app()
        logging.getLogger("portal.access").disabled = True  # one JSON line per test request
        print("\n== profile of the slowest endpoint ==")
        try:
            print(profile_slowest(app, ps, portal["records"], fx, args.profile_requests))
        except Exception as exc:  # the profile is a diagnosis; the invariants still run
            print(f"profile failed: {exc!r}")

        print("\n== invariants ==")
        failed = check_invariants(app, engine)
        app.extensions["portal_executor"].shutdown(wait=False)
        errors = ps["errors"] + job_errors
        ratio = ps["rps"] / hs["rps"] if hs["rps"] else 0.0
        to_floor = ps["rps"] / fs["rps"] if fs["rps"] else 0.0
        print(f"\ntotal time {time.monotonic() - t_start:.0f} s")
        print(
            f"rps={ps['rps']:.1f} p95_ms={ps['p95']:.1f} baseline_rps={hs['rps']:.1f} "
            f"ratio={ratio:.3f} floor_rps={fs['rps']:.1f} ratio_to_floor={to_floor:.3f} "
            f"errors={errors} invariants={'FAILED' if failed else 'ok'}"
        )
        return 0 if not failed else 1
    finally:
        services.stop_all()
        if engine is not None:
            engine.dispose()
        clean_up(admin, name, tmp, redis_url=redis_url, created=created, keep=args.keep)


if __name__ == "__main__":
    sys.exit(main())
