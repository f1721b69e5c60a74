"""Issue 15: every workflow at once, with the same step fired on the same record by several hands.

    .venv/bin/python bench/chaos.py --quick            # 60 s of chaos (about 2 minutes in all)
    .venv/bin/python bench/chaos.py                    # 300 s
    .venv/bin/python bench/chaos.py --workers 8 --seed 7 --duration 120

Needs PostgreSQL (``PORTAL_CHAOS_PG``, default ``postgresql://postgres@127.0.0.1:5432``). What it
does:

1. creates a scratch database ``portal_chaos_<random>``, migrates it and loads the demo data
   (``bench/load.py``'s ``run_demo``: ``flask --app wsgi demo``), builds the app in-process on it
   (jobs in-process, CSRF off: the subject is the workflows, not the forms' tokens);
2. signs every demo account in once (Flask test client through ``/login``; the demo waives the
   second factor) and gives each of ``--workers`` worker threads its own copy of every signed-in
   browser;
3. runs rounds until the time is up. In a round every worker sends one POST, all released at once
   by a barrier. Most rounds are a *storm*: 2..N workers fire the SAME step on the SAME record
   (a double click, two officers on one screen, a retried form), the other workers do random
   other steps. The steps cover every workflow through its screen: maslikhat decisions entered
   and verified; contributions logged and confirmed or rejected; nominations made and
   submitted; sessions planned, given an agenda, opened, voted on, closed, their minutes
   finalised and the akimat's act recorded; payouts paid, voided, failed, handed over;
   applicants walking in, checked, petitioned and registered; deputies' inquiries asked,
   answered, followed up and closed. Targets are read from the database before each round;
4. counts per transition: attempts, effects (2xx/3xx), conflicts (409), refusals (other 4xx),
   errors (5xx, each a violation; the exception is reported);
5. checks the invariants on the books: ``flask budget reconcile`` (run through the app's CLI
   runner) and ``budget.ledger.reconcile`` (drift), line counters equal the live commitments of
   approved items and committed + disbursed <= approved, the approved amounts still equal the sum
   of verified amendments (no decision applied twice), at most one settled payout per agenda item,
   one commitment per approved money item and every approved money item committed, no nomination
   approved twice or on two open agendas, no contribution behind two approved rewards, the annual
   cap per person (IIN) per year, no act recorded before the minutes were final, no payout without
   final minutes and act, every one-shot step (verify, open, close, finalise, applicant steps,
   contribution decisions) done at most once per record, and the audit hash chain;
6. drops the database (also on Ctrl+C or an error; ``--keep`` keeps it for a post-mortem).

It prints the transitions, most conflicting first, then the invariants, and ends with the line
``transitions=<n> conflicts=<n> violations=<n> drift=<n>`` (transitions: attempted POSTs;
violations: 5xx answers plus broken invariants; drift: reconciliation differences). Exit 1 when
violations or drift.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
import os
import random
import re
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_all
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
# The app and bench/load.py of this tree, whatever the environment's install points at.
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
# Scratch keys for sealing personal data in a throwaway benchmark database (portal/config.py).
os.environ.setdefault("PORTAL_DATA_KEYS", "bench:" + "A" * 43)
os.environ.setdefault("PORTAL_INDEX_KEY", "B" * 43)
# Demo accounts on a throwaway PostgreSQL database: a development, not a production.
os.environ.setdefault("PORTAL_ENV", "development")

import load  # noqa: E402  (bench/load.py: run_demo, PASSWORD, DEMO_IBAN, LIVE_COMMITMENTS)

ZONE = ZoneInfo("Asia/Almaty")
DISTRICT_KATO = "354000000"  # the demo commission's district
ACCOUNTS = {
    "finance": "finance@demo.kz",
    "finance2": "finance2@demo.kz",
    "coordinator": "coordinator@demo.kz",
    "coordinator2": "coordinator2@demo.kz",
    "registrar": "registrar@demo.kz",
    "secretary": "secretary@demo.kz",
    "chair": "chair@demo.kz",
    "member": "member@demo.kz",
    "member2": "member2@demo.kz",
    "member3": "member3@demo.kz",
    "deputy": "deputy@demo.kz",
}
ROLE_OF = {email: role for role, email in ACCOUNTS.items()}
ROUND_TIMEOUT = 120  # seconds a round may take before the run counts a hang and stops
STORM_SHARE = 0.6  # rounds that fire one step on one record from several workers


@dataclass(frozen=True)
class Post:
    label: str  # the transition, e.g. "session.close"
    role: str
    path: str
    data: dict


@dataclass
class Tally:
    attempts: int = 0
    effects: int = 0
    conflicts: int = 0
    refusals: int = 0
    errors: int = 0
    storms: int = 0


@dataclass
class Run:
    tallies: dict = field(default_factory=lambda: defaultdict(Tally))
    crashes: Counter = field(default_factory=Counter)  # "label: exception" of the 5xx answers
    notes: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    rounds: int = 0

    def count(self, post: Post, status: int, location: str) -> None:
        with self.lock:
            t = self.tallies[post.label]
            t.attempts += 1
            if status >= 500 or status == 0:
                t.errors += 1
            elif status == 409:
                t.conflicts += 1
            elif status >= 400:
                t.refusals += 1
            elif location.startswith(("/login", "/account/confirm")):
                t.refusals += 1  # the tool's own problem (session ended): not an effect
                self.notes[f"{post.label}: sent to {location.split('?')[0]}"] += 1
            else:
                t.effects += 1


# ---- the database the steps read their targets from --------------------------------------------


class Books:
    """Reads of the scratch database (its own small pool, outside the app)."""

    def __init__(self, url: str):
        from sqlalchemy import create_engine

        self.engine = create_engine(url, pool_size=2, max_overflow=2)

    def rows(self, sql: str, **params) -> list:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            return list(conn.execute(text(sql), params))

    def scalar(self, sql: str, **params):
        rows = self.rows(sql, **params)
        return rows[0][0] if rows else None

    def ids(self, sql: str, **params) -> list[int]:
        return [r[0] for r in self.rows(sql, **params)]


@dataclass
class World:
    """What the steps need that does not change: ids of the demo's people and places."""

    district_id: int
    district_path: str
    commission_id: int
    users: dict  # role -> user id
    seat_of: dict  # commission_member id -> role of its account
    lines: list  # (line id, unit id of its program)
    members: list  # active members of the district (ids)
    kinds: list  # contribution kinds a coordinator may log without a reference or hours
    consent_version: str


def today() -> dt.date:
    return dt.datetime.now(ZONE).date()


def quarter() -> tuple[int, int, dt.date]:
    d = today()
    q = (d.month - 1) // 3 + 1
    return d.year, q, dt.date(d.year, 3 * q - 2, 1)


def tenge(tiyn: int) -> str:
    return f"{tiyn // 100},{tiyn % 100:02d}"


def discover(books: Books) -> World:
    district_id, district_path = books.rows(
        "SELECT id, path FROM admin_unit WHERE kato = :k", k=DISTRICT_KATO
    )[0]
    users = {
        role: books.scalar("SELECT id FROM user_account WHERE email = :e", e=email)
        for role, email in ACCOUNTS.items()
    }
    commission_id = books.scalar(
        "SELECT id FROM commission WHERE unit_id = :u ORDER BY id", u=district_id
    )
    seats = books.rows(
        "SELECT cm.id, u.email FROM commission_member cm JOIN user_account u ON u.id = cm.user_id "
        "WHERE cm.commission_id = :c AND cm.term_to IS NULL",
        c=commission_id,
    )
    lines = [
        (r[0], r[1])
        for r in books.rows(
            "SELECT l.id, p.unit_id FROM budget_line l "
            "JOIN budget_program p ON p.id = l.program_id ORDER BY l.id"
        )
    ]
    members = books.ids(
        "SELECT m.id FROM member m JOIN admin_unit a ON a.id = m.unit_id "
        "WHERE m.status = 'active' AND a.path LIKE :p AND m.issued_on <= :d ORDER BY m.id",
        p=district_path + "%",
        d=quarter()[2],
    )
    kinds = books.ids(
        "SELECT code FROM contribution_kind WHERE active AND measure <> 'hours' "
        "AND NOT needs_reference ORDER BY code"
    )
    consent = books.scalar("SELECT version FROM consent_text ORDER BY effective_from DESC")
    return World(
        district_id=district_id,
        district_path=district_path,
        commission_id=commission_id,
        users=users,
        seat_of={sid: ROLE_OF[email] for sid, email in seats if email in ROLE_OF},
        lines=lines,
        members=members,
        kinds=kinds,
        consent_version=consent,
    )


# ---- the steps --------------------------------------------------------------------------------
#
# Each step: a weight, whether it is stormed, ``targets(books, world)`` (records it can act on
# now) and ``build(target, copy, rng, world)`` -> Post. ``copy`` is the index of the worker in a
# storm: most steps send the same request from every copy; some alternate between the competing
# steps of one record (confirm / reject, pay / void, pass / refuse) or between two records that
# compete for one (a nomination put on two agendas).


@dataclass(frozen=True)
class Step:
    name: str
    weight: int
    storm: bool
    targets: object
    build: object


def _one(_b, _w):
    return [None]


def _decision_targets(b: Books, w: World):
    return b.ids(
        "SELECT id FROM maslikhat_decision WHERE verified_at IS NULL AND entered_by_id = :f "
        "ORDER BY random() LIMIT 5",
        f=w.users["finance"],
    )


def _enter_decision(_t, _copy, rng, w: World) -> Post:
    line_id, unit_id = rng.choice(w.lines)
    data = {
        "unit_id": unit_id,
        "number": f"CH-{uuid.uuid4().hex[:8]}",
        "decided_on": today().isoformat(),
        "session_number": "CH",
        "kind": "clarification",
        "reference": "https://adilet.zan.kz/chaos",
    }
    for n in range(5):
        data[f"changes-{n}-line_id"] = line_id if n == 0 else 0
        data[f"changes-{n}-amount"] = str(rng.randint(20, 400) * 1000) if n == 0 else ""
    return Post("decision.enter", "finance", "/finance/decisions/new", data)


def _verify(t, _copy, _rng, _w) -> Post:
    return Post("decision.verify", "finance2", f"/finance/decisions/{t}/verify", {})


def _log_contribution(_t, _copy, rng, w: World) -> Post:
    first = quarter()[2]
    span = max(0, (today() - first).days)
    occurred = today() - dt.timedelta(days=rng.randint(0, min(span, 40)))
    member_id = rng.choice(w.members)
    return Post(
        "contribution.log",
        "coordinator",
        f"/volunteers/members/{member_id}/contributions",
        {
            "kind": rng.choice(w.kinds),
            "occurred_on": occurred.isoformat(),
            "hours": "",
            "description": f"Хаос сынағы {uuid.uuid4().hex[:6]}: профилактикалық іс-шара",
            "reference": "",
        },
    )


def _logged(b: Books, w: World):
    return b.ids(
        "SELECT c.id FROM contribution c JOIN admin_unit a ON a.id = c.unit_id "
        "WHERE c.status = 'logged' AND a.path LIKE :p "
        "AND coalesce(c.logged_by_id, 0) <> :me ORDER BY random() LIMIT 10",
        p=w.district_path + "%",
        me=w.users["coordinator2"],
    )


def _decide(t, copy, _rng, _w) -> Post:
    reject = copy % 3 == 2
    return Post(
        "contribution.reject" if reject else "contribution.confirm",
        "coordinator2",
        "/contributions/queue",
        {
            "action": "reject" if reject else "confirm",
            "reason": "Хаос: дәлел жоқ" if reject else "",
            "ids": [t],
        },
    )


def _nominees(b: Books, w: World):
    _year, _q, first = quarter()
    return [
        (r[0], list(r[1]))
        for r in b.rows(
            "SELECT c.member_id, array_agg(c.id ORDER BY c.id) FROM contribution c "
            "JOIN member m ON m.id = c.member_id JOIN admin_unit a ON a.id = m.unit_id "
            "WHERE c.status = 'confirmed' AND c.occurred_on BETWEEN :f AND :t "
            "AND m.status = 'active' AND a.path LIKE :p AND c.id NOT IN "
            "(SELECT contribution_id FROM nomination_contribution WHERE approved) "
            "GROUP BY c.member_id ORDER BY random() LIMIT 10",
            f=first,
            t=today(),
            p=w.district_path + "%",
        )
    ]


def _nominate(t, _copy, rng, _w) -> Post:
    member_id, contribution_ids = t
    year, q, _first = quarter()
    form = rng.choices(("cash", "valuable_gift", "thanks"), weights=(75, 10, 15))[0]
    return Post(
        "nomination.create",
        "coordinator",
        f"/commission/candidates/{member_id}/nominate?year={year}&quarter={q}",
        {
            "contribution_ids": contribution_ids[:3],
            "justification": "Хаос сынағы: тоқсан бойы белсенді болды.",
            "reward_form": form,
            "amount": str(rng.choice((3, 5, 8))) if form != "thanks" else "",
            "unit": "mci",
        },
    )


def _drafts(b: Books, w: World):
    return b.ids(
        "SELECT id FROM nomination WHERE status = 'draft' AND nominator_id = :c "
        "ORDER BY random() LIMIT 5",
        c=w.users["coordinator"],
    )


def _submit(t, _copy, _rng, _w) -> Post:
    return Post("nomination.submit", "coordinator", f"/commission/nominations/{t}/submit", {})


def _plan_targets(b: Books, w: World):
    planned = b.scalar(
        "SELECT count(*) FROM commission_session WHERE commission_id = :c AND status = 'planned'",
        c=w.commission_id,
    )
    return [None] if planned < 2 else []


def _plan(_t, _copy, _rng, w: World) -> Post:
    return Post(
        "session.plan",
        "secretary",
        "/commission/sessions",
        {
            "commission_id": w.commission_id,
            "held_on": today().isoformat(),
            "place_kk": "Әкімдік, мәжіліс залы (хаос)",
            "place_ru": "Акимат, зал заседаний (хаос)",
        },
    )


def _agenda_targets(b: Books, w: World):
    sessions = b.ids(
        "SELECT id FROM commission_session WHERE commission_id = :c AND status = 'planned' "
        "ORDER BY id",
        c=w.commission_id,
    )
    if not sessions:
        return []
    waiting = b.ids(
        "SELECT id FROM nomination WHERE commission_id = :c "
        "AND status IN ('submitted', 'deferred') ORDER BY random() LIMIT 5",
        c=w.commission_id,
    )
    return [(n, sessions) for n in waiting]


def _agenda(t, copy, _rng, _w) -> Post:
    nomination_id, sessions = t  # the copies of a storm spread over every planned session
    session_id = sessions[copy % len(sessions)]
    return Post(
        "session.agenda",
        "secretary",
        f"/commission/sessions/{session_id}/agenda",
        {"nomination_ids": [nomination_id]},
    )


def _openable(b: Books, w: World):
    return b.ids(
        "SELECT s.id FROM commission_session s WHERE s.commission_id = :c AND s.status = 'planned' "
        "AND EXISTS (SELECT 1 FROM agenda_item i WHERE i.session_id = s.id) "
        "AND (SELECT count(*) FROM agenda_item i WHERE i.session_id = s.id) >= 2",
        c=w.commission_id,
    )


def _open(t, _copy, _rng, w: World) -> Post:
    return Post(
        "session.open",
        "secretary",
        f"/commission/sessions/{t}/open",
        {"present": sorted(w.seat_of)},
    )


def _ballots(b: Books, w: World):
    rows = b.rows(
        "SELECT i.id, a.commission_member_id FROM agenda_item i "
        "JOIN commission_session s ON s.id = i.session_id "
        "JOIN attendance a ON a.session_id = s.id AND a.present "
        "WHERE s.commission_id = :c AND s.status = 'open' AND NOT s.on_paper "
        "AND NOT EXISTS (SELECT 1 FROM vote v WHERE v.item_id = i.id "
        "                AND v.commission_member_id = a.commission_member_id) "
        "ORDER BY random() LIMIT 10",
        c=w.commission_id,
    )
    return [(item, w.seat_of[seat]) for item, seat in rows if seat in w.seat_of]


def _vote(t, _copy, rng, _w) -> Post:
    item_id, role = t
    choice = rng.choices(("for", "against", "abstain"), weights=(85, 10, 5))[0]
    return Post(
        "session.vote",
        role,
        f"/commission/my-sessions/items/{item_id}/vote",
        {f"i{item_id}-choice": choice, f"i{item_id}-reason": ""},
    )


def _closable(b: Books, w: World):
    # Sessions whose every item has at least three votes; now and then one that has not.
    return b.ids(
        "SELECT s.id FROM commission_session s WHERE s.commission_id = :c AND s.status = 'open' "
        "AND (random() < 0.1 OR NOT EXISTS (SELECT 1 FROM agenda_item i WHERE i.session_id = s.id "
        "     AND (SELECT count(*) FROM vote v WHERE v.item_id = i.id) < 3))",
        c=w.commission_id,
    )


def _close(t, _copy, _rng, _w) -> Post:
    return Post("session.close", "secretary", f"/commission/sessions/{t}/close", {})


def _closed(b: Books, w: World):
    return b.ids(
        "SELECT id FROM commission_session WHERE commission_id = :c AND status = 'closed'",
        c=w.commission_id,
    )


def _finalize(t, _copy, _rng, _w) -> Post:
    return Post("minutes.final", "secretary", f"/commission/sessions/{t}/minutes", {})


def _without_act(b: Books, w: World):
    # Closed sessions too: the act is only for final minutes, and the guard must say so.
    return b.ids(
        "SELECT id FROM commission_session WHERE commission_id = :c "
        "AND status IN ('closed', 'minutes_final') AND act_number IS NULL",
        c=w.commission_id,
    )


def _act(t, _copy, _rng, _w) -> Post:
    return Post(
        "session.act",
        "secretary",
        f"/commission/sessions/{t}/act",
        {"number": f"№ {t}-ХС", "date": today().isoformat()},
    )


UNSETTLED = (
    "SELECT i.id, n.amount_tiyn FROM agenda_item i JOIN nomination n ON n.id = i.nomination_id "
    "JOIN commission_session s ON s.id = i.session_id "
    "WHERE s.commission_id = :c AND i.outcome = 'approved' "
    "AND s.status IN ('closed', 'minutes_final') AND n.form {form} "
    "AND NOT EXISTS (SELECT 1 FROM payout p WHERE p.item_id = i.id "
    "                AND p.status IN ('pending', 'paid', 'handed_over', 'voided')) "
    "ORDER BY random() LIMIT 5"
)


def _payable(b: Books, w: World):
    rows = b.rows(UNSETTLED.format(form="= 'cash'"), c=w.commission_id)
    return [(item, amount, uuid.uuid4().hex) for item, amount in rows]


def _pay(t, copy, rng, _w) -> Post:
    """Pay; in a storm every fourth copy voids, and odd copies use a key of their own."""
    item_id, amount, key = t
    if copy % 4 == 3:
        return Post(
            "payout.void",
            "finance",
            f"/commission/payouts/{item_id}/void",
            {"void-reason": "Хаос: алушы бас тартты"},
        )
    if copy < 0 and rng.random() < 0.05:  # a lone step now and then records a bank failure
        return Post(
            "payout.fail",
            "finance",
            f"/commission/payouts/{item_id}/fail",
            {
                "fail-iban": load.DEMO_IBAN,
                "fail-order_number": "ХС-fail",
                "fail-reason": "Банк қайтарды",
            },
        )
    return Post(
        "payout.pay",
        "finance" if copy % 2 == 0 else "finance2",
        f"/commission/payouts/{item_id}/pay",
        {
            "iban": load.DEMO_IBAN,
            "order_number": f"ХС-{item_id}",
            "order_date": today().isoformat(),
            "amount": tenge(amount),
            "key": key if copy % 2 == 0 else uuid.uuid4().hex,
        },
    )


def _givable(b: Books, w: World):
    return b.ids(UNSETTLED.format(form="<> 'cash'"), c=w.commission_id)


def _hand_over(t, _copy, _rng, _w) -> Post:
    return Post(
        "payout.hand_over",
        "finance",
        f"/commission/payouts/{t}/hand-over",
        {"handed_on": today().isoformat()},
    )


def _walk_in_targets(_b, _w):
    from core.iin import make_iin

    rng = random.Random()
    birth = dt.date(rng.randint(1965, 2004), rng.randint(1, 12), rng.randint(1, 28))
    return [make_iin(birth, rng.choice(("male", "female")), rng.randint(1000, 9999))]


def _walk_in(t, _copy, _rng, w: World) -> Post:
    return Post(
        "application.submit",
        "coordinator",
        "/volunteers/applications/new",
        {
            "kind": "public_assistant",
            "unit_id": w.district_id,
            "patrol_unit_id": 0,
            "iin": t,
            "full_name": "Хаос Сынақұлы",
            "phone": "+7 701 123 45 67",
            "email": "",
            "address": "Ботақара, Бейбітшілік 1",
            "is_citizen": "y",
            "no_criminal_record": "y",
            "not_on_register": "y",
            "consent": "y",
            "consent_version": w.consent_version,
        },
    )


APPLICATIONS = (
    "SELECT ap.id FROM application ap JOIN admin_unit a ON a.id = ap.unit_id "
    "WHERE {where} AND a.path LIKE :p ORDER BY random() LIMIT 5"
)


def _applications(where: str):
    def targets(b: Books, w: World):
        return b.ids(APPLICATIONS.format(where=where), p=w.district_path + "%")

    return targets


def _take(t, _copy, _rng, _w) -> Post:
    return Post("application.take", "coordinator", f"/volunteers/applications/{t}/take", {})


def _check(t, copy, _rng, _w) -> Post:
    if copy % 3 == 2:
        return Post(
            "application.refuse",
            "coordinator2",
            f"/volunteers/applications/{t}/refuse",
            {"reason": "Хаос: тексеру нәтижесі теріс"},
        )
    return Post(
        "application.pass",
        "coordinator" if copy % 2 == 0 else "coordinator2",
        f"/volunteers/applications/{t}/pass",
        {},
    )


def _petition(t, _copy, _rng, _w) -> Post:
    return Post("application.petition", "coordinator", f"/volunteers/applications/{t}/petition", {})


def _register(t, _copy, _rng, _w) -> Post:
    return Post("application.register", "registrar", f"/volunteers/applications/{t}/register", {})


def _line_targets(_b, w: World):
    return [line for line, _unit in w.lines]


def _ask(t, _copy, _rng, _w) -> Post:
    return Post(
        "inquiry.ask",
        "deputy",
        "/oversight/inquiries",
        {"object_type": "budget_line", "object_id": t, "text": "Хаос: бұл жолдың қалдығы қанша?"},
    )


def _inquiries(status: str):
    def targets(b: Books, _w):
        return b.ids(
            "SELECT id FROM inquiry WHERE status = :s AND object_type = 'budget_line' "
            "ORDER BY random() LIMIT 5",
            s=status,
        )

    return targets


def _answer(t, copy, _rng, _w) -> Post:
    return Post(
        "inquiry.answer",
        "finance" if copy % 2 == 0 else "secretary",
        f"/oversight/inquiries/{t}/answer",
        {"answer-text": "Хаос: қалдық жол бетінде көрсетілген."},
    )


def _close_inquiry(t, _copy, _rng, _w) -> Post:
    return Post("inquiry.close", "deputy", f"/oversight/inquiries/{t}/close", {})


def _follow_up(t, _copy, _rng, _w) -> Post:
    return Post(
        "inquiry.follow_up",
        "deputy",
        f"/oversight/inquiries/{t}/follow-up",
        {"follow-text": "Хаос: толығырақ жазыңыз."},
    )


STEPS = [
    Step("decision.enter", 3, False, _one, _enter_decision),
    Step("decision.verify", 4, True, _decision_targets, _verify),
    Step("contribution.log", 6, False, _one, _log_contribution),
    Step("contribution.decide", 6, True, _logged, _decide),
    Step("nomination.create", 5, True, _nominees, _nominate),
    Step("nomination.submit", 3, True, _drafts, _submit),
    Step("session.plan", 2, False, _plan_targets, _plan),
    Step("session.agenda", 5, True, _agenda_targets, _agenda),
    Step("session.open", 3, True, _openable, _open),
    Step("session.vote", 14, True, _ballots, _vote),
    Step("session.close", 4, True, _closable, _close),
    Step("minutes.final", 4, True, _closed, _finalize),
    Step("session.act", 3, True, _without_act, _act),
    Step("payout.pay", 6, True, _payable, _pay),
    Step("payout.hand_over", 3, True, _givable, _hand_over),
    Step("application.submit", 3, True, _walk_in_targets, _walk_in),
    Step("application.take", 3, True, _applications("ap.status = 'submitted'"), _take),
    Step(
        "application.check",
        3,
        True,
        _applications("ap.status = 'police_check' AND ap.check_outcome IS NULL"),
        _check,
    ),
    Step(
        "application.petition",
        3,
        True,
        _applications("ap.status = 'police_check' AND ap.check_outcome = 'passed'"),
        _petition,
    ),
    Step("application.register", 3, True, _applications("ap.status = 'petitioned'"), _register),
    Step("inquiry.ask", 2, False, _line_targets, _ask),
    Step("inquiry.answer", 3, True, _inquiries("open"), _answer),
    Step("inquiry.close", 2, True, _inquiries("answered"), _close_inquiry),
    Step("inquiry.follow_up", 1, True, _inquiries("answered"), _follow_up),
]


# ---- the workers ------------------------------------------------------------------------------


def sign_in(app, email: str):
    client = app.test_client()
    resp = client.post("/login", data={"login": email, "password": load.PASSWORD, "next": ""})
    location = resp.headers.get("Location", "")
    if resp.status_code != 302 or "/login" in location:
        raise RuntimeError(f"{email}: sign-in answered {resp.status_code} {location}")
    return client


def same_browser(app, client):
    """Another test client with ``client``'s cookies: the same signed-in person."""
    other = app.test_client()
    for cookie in client._cookies.values():
        other.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
    return other


def choose(rng: random.Random, books: Books, world: World, storm: bool, cache: dict):
    """Pick a step that has a target now (stormable ones if ``storm``); return (step, target)."""
    pool = [s for s in STEPS if s.storm or not storm]
    while pool:
        step = rng.choices(pool, weights=[s.weight for s in pool])[0]
        if step.name not in cache:
            cache[step.name] = step.targets(books, world)
        if cache[step.name]:
            return step, rng.choice(cache[step.name])
        pool.remove(step)
    return None, None


def plan_round(rng: random.Random, books: Books, world: World, n: int) -> tuple[list, str | None]:
    """Return one Post per worker (a storm on one record for some, random steps for the rest)
    and the transition the storm is listed under, if there is one."""
    cache: dict = {}
    posts: list[Post] = []
    storm_name = None
    if n >= 2 and rng.random() < STORM_SHARE:
        step, target = choose(rng, books, world, True, cache)
        if step is not None:
            k = rng.randint(2, n)
            posts = [step.build(target, copy, rng, world) for copy in range(k)]
            storm_name = posts[0].label
    while len(posts) < n:
        step, target = choose(rng, books, world, False, cache)
        if step is None:
            break
        posts.append(step.build(target, -1, rng, world))
    rng.shuffle(posts)
    return posts, storm_name


def fire(clients: dict, post: Post, barrier: threading.Barrier, run: Run, local) -> None:
    local.label = post.label
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait(timeout=30)
    try:
        resp = clients[post.role].post(post.path, data=post.data)
        status, location = resp.status_code, resp.headers.get("Location", "")
        resp.close()
    except Exception as exc:  # the test client raised: count it as a 5xx
        status, location = 0, ""
        with run.lock:
            run.crashes[
                f"{post.label}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
            ] += 1
    run.count(post, status, location)


# ---- the invariants ---------------------------------------------------------------------------


ONE_SHOT = {  # audit actions a record may see at most once (the groups compete for one record)
    "decision verified": ("budget.decision_verify",),
    "session opened": ("session.open",),
    "session closed": ("session.close",),
    "minutes finalised": ("minutes.final",),
    "police check taken": ("application.take_check",),
    "check recorded": ("application.check_passed", "application.refuse"),
    "akimat petitioned": ("application.petition",),
    "applicant registered": ("application.register",),
    "contribution decided": ("contribution.confirm", "contribution.reject"),
}


def baseline(app) -> dict:
    """What the demo data holds before the chaos: the checks count only what is new."""
    from sqlalchemy import text

    from portal.extensions import db

    with app.app_context():
        s = db.session
        found = {
            "seq": s.execute(text("SELECT coalesce(max(seq), 0) FROM audit_event")).scalar(),
            "amend_gap": dict(s.execute(text(AMEND_GAP)).all()),
            "flags": flag_targets(s),
        }
        s.rollback()
    return found


AMEND_GAP = """
SELECT l.id, l.approved_tiyn - coalesce((SELECT sum(a.delta_tiyn) FROM amendment a
        JOIN maslikhat_decision d ON d.id = a.decision_id
        WHERE a.line_id = l.id AND d.verified_at IS NOT NULL), 0)
FROM budget_line l
"""


def flag_targets(s) -> dict:
    """The red flags the chaos must not add, by kind: the records they point at."""
    from incentives import flags

    out = {}
    for kind, check in (
        ("over_annual_cap", flags.over_annual_cap),
        ("payout_without_minutes", flags.payouts_without_minutes),
    ):
        out[kind] = {(f.target_type, f.target_id, str(f.params)) for f in check(s, None)}
    return out


def check(app, before: dict) -> tuple[list[str], int, list[str]]:
    """Return (broken invariants, drift count, lines of what was checked)."""
    from sqlalchemy import text

    from budget import ledger
    from core import audit
    from portal.extensions import db

    broken: list[str] = []
    shown: list[str] = []

    def expect(name: str, bad: list, detail=lambda rows: rows[:5]) -> None:
        shown.append(
            f"  {'ok    ' if not bad else 'BROKEN'} {name}" + (f": {detail(bad)}" if bad else "")
        )
        if bad:
            broken.append(f"{name} ({len(bad)})")

    runner = app.test_cli_runner()
    cli = runner.invoke(args=["budget", "reconcile"])
    with app.app_context():
        s = db.session

        def rows(sql: str, **params) -> list:
            return [tuple(r) for r in s.execute(text(sql), params).all()]

        drifts = ledger.reconcile(s)
        shown.append(
            f"  {'ok    ' if cli.exit_code == 0 else 'DRIFT '} flask budget reconcile: exit "
            f"{cli.exit_code}: {cli.output.strip().splitlines()[0] if cli.output.strip() else ''}"
        )
        for d in drifts[:5]:
            shown.append(f"         {d}")
        live = rows(load.LIVE_COMMITMENTS)
        unlive = [(r[0], r[2], r[4]) for r in live if r[2] != r[4]]
        shown.append(
            f"  {'ok    ' if not unlive else 'DRIFT '} line committed = live commitments of "
            f"approved items{': ' + str(unlive[:5]) if unlive else ''}"
        )
        drift = len(drifts) + len(unlive) + (1 if cli.exit_code and not drifts else 0)
        expect(
            "committed + disbursed <= approved on every line",
            [(r[0],) for r in live if r[2] < 0 or r[2] + r[3] > r[1]],
        )
        gap = dict(rows(AMEND_GAP))
        expect(
            "approved = the demo's base + verified amendments (no decision applied twice)",
            [
                (line, before["amend_gap"].get(line), g)
                for line, g in gap.items()
                if g != before["amend_gap"].get(line, g)
            ],
        )
        expect(
            "at most one settled payout per agenda item",
            rows(
                "SELECT item_id, count(*) FROM payout WHERE status IN "
                "('pending', 'paid', 'handed_over', 'voided') GROUP BY item_id HAVING count(*) > 1"
            ),
        )
        expect(
            "payouts only for approved items",
            rows(
                "SELECT p.id FROM payout p JOIN agenda_item i ON i.id = p.item_id "
                "WHERE coalesce(i.outcome, '') <> 'approved'"
            ),
        )
        expect(
            "one commitment per approved money item",
            rows(
                "SELECT reference_id, count(*) FROM ledger_entry WHERE kind = 'commit' "
                "AND reference_type = 'agenda_item' GROUP BY reference_id HAVING count(*) > 1"
            ),
        )
        expect(
            "every approved money item is committed",
            rows(
                "SELECT i.id FROM agenda_item i JOIN nomination n ON n.id = i.nomination_id "
                "WHERE i.outcome = 'approved' AND n.amount_tiyn > 0 AND i.ledger_entry_id IS NULL"
            ),
        )
        expect(
            "paid no more than approved per item",
            rows(
                "SELECT i.id FROM agenda_item i JOIN nomination n ON n.id = i.nomination_id "
                "WHERE (SELECT coalesce(sum(e.amount_tiyn), 0) FROM payout p "
                "       JOIN ledger_entry e ON e.reference_type = 'payout' "
                "            AND e.reference_id = CAST(p.id AS VARCHAR) AND e.kind = 'disburse' "
                "       WHERE p.item_id = i.id) > n.amount_tiyn"
            ),
        )
        expect(
            "no nomination approved twice",
            rows(
                "SELECT nomination_id, count(*) FROM agenda_item WHERE outcome = 'approved' "
                "GROUP BY nomination_id HAVING count(*) > 1"
            ),
        )
        expect(
            "no nomination on two undecided agendas",
            rows(
                "SELECT nomination_id, count(*) FROM agenda_item WHERE outcome IS NULL "
                "GROUP BY nomination_id HAVING count(*) > 1"
            ),
        )
        expect(
            "approved nominations match approved items",
            rows(
                "SELECT n.id FROM nomination n WHERE (n.status = 'approved') <> EXISTS "
                "(SELECT 1 FROM agenda_item i WHERE i.nomination_id = n.id "
                " AND i.outcome = 'approved')"
            ),
        )
        expect(
            "no contribution behind two approved rewards",
            rows(
                "SELECT nc.contribution_id, count(*) FROM nomination_contribution nc "
                "JOIN agenda_item i ON i.nomination_id = nc.nomination_id "
                "AND i.outcome = 'approved' GROUP BY nc.contribution_id HAVING count(*) > 1"
            ),
        )
        after = flag_targets(s)
        for kind, name in (
            ("over_annual_cap", "annual cap per person (IIN) per year"),
            ("payout_without_minutes", "no payout without final minutes and the akimat's act"),
        ):
            expect(name, sorted(after[kind] - before["flags"][kind], key=str))
        expect(
            "the akimat's act only for final minutes",
            rows(
                "SELECT e.object_id, e.seq FROM audit_event e WHERE e.action = 'session.act' "
                "AND e.seq > :seq AND NOT EXISTS (SELECT 1 FROM audit_event m "
                "WHERE m.action = 'minutes.final' AND m.object_type = e.object_type "
                "AND m.object_id = e.object_id AND m.seq < e.seq)",
                seq=before["seq"],
            ),
        )
        for name, actions in ONE_SHOT.items():
            expect(
                f"{name} at most once per record",
                rows(
                    "SELECT object_type, object_id, count(*) FROM audit_event "
                    "WHERE action IN :actions AND seq > :seq "
                    "GROUP BY object_type, object_id HAVING count(*) > 1".replace(
                        ":actions", "(" + ", ".join(f"'{a}'" for a in actions) + ")"
                    ),
                    seq=before["seq"],
                ),
            )
        acts = rows(
            "SELECT object_id, count(*) FROM audit_event WHERE action = 'session.act' "
            "AND seq > :seq GROUP BY object_id HAVING count(*) > 1",
            seq=before["seq"],
        )
        if acts:  # recording the act again may be a correction: shown, not counted
            shown.append(f"  note   the akimat's act recorded more than once: {acts[:5]}")
        t0 = time.monotonic()
        chain = audit.verify_chain(s)
        expect(
            f"audit chain verifies ({chain.rows} rows, {time.monotonic() - t0:.1f} s)",
            [] if chain.ok else [(chain.first_bad_seq, chain.problem)],
        )
        s.rollback()
    return broken, drift, shown


# ---- main -------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="60 s of chaos instead of 300 s")
    ap.add_argument("--duration", type=float, help="seconds of chaos (overrides --quick)")
    ap.add_argument("--workers", type=int, default=8, help="worker threads (default 8)")
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    ap.add_argument("--keep", action="store_true", help="keep the database (for a post-mortem)")
    args = ap.parse_args()
    args.duration = args.duration or (60.0 if args.quick else 300.0)
    args.workers = max(1, args.workers)
    if args.seed is None:
        args.seed = secrets.randbelow(10**6)
    return args


def _interrupt(_signum, _frame):
    raise KeyboardInterrupt


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, _interrupt)
    started = time.monotonic()
    pg = os.environ.get("PORTAL_CHAOS_PG", "postgresql://postgres@127.0.0.1:5432").rstrip("/")
    pg = "postgresql+psycopg://" + pg.split("://", 1)[1]
    name = f"portal_chaos_{secrets.token_hex(4)}"
    tmp = Path(tempfile.mkdtemp(prefix=f"{name}-"))
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(
        DATABASE_URL=f"{pg}/{name}",
        SECRET_KEY=secrets.token_hex(32),
        PORTAL_INSTANCE_PATH=str(tmp),
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    os.environ["PORTAL_INSTANCE_PATH"] = str(tmp)
    for key in ("REDIS_URL", "DATABASE_URL"):
        os.environ.pop(key, None)

    from sqlalchemy import create_engine, text

    admin = create_engine(f"{pg}/postgres", isolation_level="AUTOCOMMIT")
    created, app, books, pool = False, None, None, None
    stop = threading.Event()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        created = True
        print(f"database {name}: {'kept (--keep)' if args.keep else 'dropped at the end'}")
        t0 = time.monotonic()
        load.run_demo(env, 0)
        print(f"migrated and loaded the demo data in {time.monotonic() - t0:.1f} s")

        from flask import got_request_exception

        from portal import create_app

        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"{pg}/{name}",
                "REDIS_URL": None,
                "SECRET_KEY": env["SECRET_KEY"],
                "CHECK_SERVICES": False,
                "TESTING": False,
                "PROPAGATE_EXCEPTIONS": False,
                "WTF_CSRF_ENABLED": False,
                "DEMO_MFA_WAIVER": True,
                # The run is longer than a sensitive step's fresh window; it is not the subject.
                "FRESH_LOGIN_SECONDS": 24 * 3600,
                "SESSION_IDLE_SECONDS": 24 * 3600,
                "SQLALCHEMY_ENGINE_OPTIONS": {
                    "pool_pre_ping": True,
                    "pool_size": args.workers + 4,
                    "max_overflow": 8,
                },
            }
        )
        run = Run()
        local = threading.local()

        def crashed(label: str, exception: BaseException) -> None:
            lines = str(exception).strip().splitlines() or [""]
            line = lines[0][:200]
            # A deadlock's DETAIL names the two statements' locks: keep it (process ids out).
            detail = next((x for x in lines if x.startswith("DETAIL:")), "")
            if detail:
                line += " " + re.sub(r"[Pp]rocess \d+", "process N", detail)[:300]
            with run.lock:
                run.crashes[f"{label}: {type(exception).__name__}: {line}"] += 1

        class CrashLog(logging.Handler):
            """The app logs every unhandled error before its 500 page: count them instead."""

            def emit(self, record: logging.LogRecord) -> None:
                if record.exc_info and record.exc_info[1] is not None:
                    crashed(getattr(local, "label", "?"), record.exc_info[1])

        got_request_exception.connect(
            lambda _sender, exception, **_kw: crashed(getattr(local, "label", "?"), exception),
            app,
            weak=False,
        )
        # One line per unhandled error, counted; the tracebacks would bury the report.
        app.logger.handlers[:] = [CrashLog()]
        app.logger.propagate = False
        logging.getLogger("portal.access").disabled = True
        logging.getLogger("werkzeug").setLevel(logging.CRITICAL)

        books = Books(f"{pg}/{name}")
        world = discover(books)
        before = baseline(app)
        t0 = time.monotonic()
        signed = {role: sign_in(app, email) for role, email in ACCOUNTS.items()}
        clients = [
            {role: same_browser(app, c) for role, c in signed.items()} for _ in range(args.workers)
        ]
        print(
            f"{len(signed)} accounts signed in ({time.monotonic() - t0:.1f} s); {args.workers} "
            f"workers, seed {args.seed}, {args.duration:.0f} s of chaos; district members "
            f"{len(world.members)}, commission seats {len(world.seat_of)}"
        )

        rng = random.Random(args.seed)
        pool = ThreadPoolExecutor(max_workers=args.workers, thread_name_prefix="chaos")
        end = time.monotonic() + args.duration
        hung = False
        while time.monotonic() < end and not stop.is_set():
            posts, storm = plan_round(rng, books, world, args.workers)
            if not posts:
                run.notes["a round found nothing to do"] += 1
                time.sleep(0.2)
                continue
            if storm:
                with run.lock:
                    run.tallies[storm].storms += 1
            barrier = threading.Barrier(len(posts))
            futures = [
                pool.submit(fire, clients[i], post, barrier, run, local)
                for i, post in enumerate(posts)
            ]
            done, pending = wait_all(futures, timeout=ROUND_TIMEOUT)
            for f in done:
                if f.exception() is not None:
                    run.notes[f"worker failed: {f.exception()!r}"[:200]] += 1
            run.rounds += 1
            if pending:
                hung = True
                print(f"a round did not finish in {ROUND_TIMEOUT} s: stopping")
                break
        pool.shutdown(wait=not hung, cancel_futures=True)
        pool = None
        app.extensions["portal_executor"].shutdown(wait=True)

        print(f"\n== {run.rounds} rounds in {args.duration:.0f} s ==")
        rows = sorted(run.tallies.items(), key=lambda kv: (-kv[1].conflicts, -kv[1].attempts))
        width = max([len(k) for k in run.tallies] + [10])
        print(
            f"{'transition':<{width}}  {'attempts':>8}  {'effects':>7}  {'409':>5}  "
            f"{'other 4xx':>9}  {'5xx':>5}  {'storms':>6}"
        )
        for label, t in rows:
            print(
                f"{label:<{width}}  {t.attempts:>8}  {t.effects:>7}  {t.conflicts:>5}  "
                f"{t.refusals:>9}  {t.errors:>5}  {t.storms:>6}"
            )
        print(
            "(effects: 2xx/3xx answers, a repeat that is safely a no-op included; storms: rounds "
            "where 2..N workers fired this step on one record at once)"
        )
        if run.crashes:
            print("\n5xx answers (unhandled exceptions):")
            for what, n in run.crashes.most_common(12):
                print(f"  {n:>5}  {what}")
        if run.notes:
            print("\nnotes:")
            for what, n in run.notes.most_common(8):
                print(f"  {n:>5}  {what}")

        print("\n== invariants ==")
        broken, drift, shown = check(app, before)
        print("\n".join(shown))
        if hung:
            broken.append("a round hung")
        transitions = sum(t.attempts for t in run.tallies.values())
        conflicts = sum(t.conflicts for t in run.tallies.values())
        errors = sum(t.errors for t in run.tallies.values())
        violations = errors + len(broken)
        print(f"\ntotal time {time.monotonic() - started:.0f} s")
        print(
            f"transitions={transitions} conflicts={conflicts} violations={violations} drift={drift}"
        )
        return 1 if violations or drift else 0
    except KeyboardInterrupt:
        stop.set()
        print("\ninterrupted: cleaning up")
        return 130
    finally:
        stop.set()
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        if app is not None:
            from portal.extensions import db

            with contextlib.suppress(Exception):
                app.extensions["portal_executor"].shutdown(wait=False)
            with contextlib.suppress(Exception), app.app_context():
                db.engine.dispose()
        if books is not None:
            books.engine.dispose()
        if created and not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
