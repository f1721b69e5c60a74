"""Main list pages run the same number of SQL statements however many rows they show (no N+1)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import shutil

import pytest
from sqlalchemy import event, func, select

from tests.conftest import DEMO_PASSWORD, close_app, login, make_app, pg_url

# portal.paging.page_of's count of a list longer than a page.
PAGER_COUNT = re.compile(r"SELECT count\(\*\) AS count_1\s+FROM \(SELECT ")
SMALL = {"members": 20, "days": 100, "extras": 2}
LARGE = {"members": 400, "days": 364, "extras": 12}


@dataclasses.dataclass(frozen=True)
class Page:
    """A list page, who reads it, its address on the small and large data, and its row marker."""

    name: str
    user: str
    small: str
    large: str | None = None  # the same address unless a filter keeps the small page short
    rows: str | None = "<tr"  # what marks a row; None: an aggregate page, rows do not grow

    def path(self, size: str, ids: dict) -> str:
        return (self.large if size == "large" and self.large else self.small).format(**ids)


CITY_COORDINATOR = "coordinator.351000000@demo.kz"  # a scale coordinator of Karaganda city
PAGES = (
    Page("member register", "registrar@demo.kz", "/volunteers/members?unit={city}"),
    Page(
        "applications",
        "registrar@demo.kz",
        "/volunteers/applications?status=refused",
        "/volunteers/applications?status=registered",
    ),
    Page("upcoming shifts", CITY_COORDINATOR, "/shifts"),
    Page("past shifts", CITY_COORDINATOR, "/shifts?when=past", rows=None),
    Page("contributions queue", CITY_COORDINATOR, "/contributions/queue"),
    Page("finance lines", "finance@demo.kz", "/finance/lines?unit={district}", "/finance/lines"),
    Page("a line's ledger", "finance@demo.kz", "/finance/lines/{line}", rows='"ledger-entry"'),
    Page("candidates", CITY_COORDINATOR, "/commission/candidates?year={year}&quarter={quarter}"),
    Page("sessions", "secretary@demo.kz", "/commission/sessions"),
    # The agenda's votes and declared conflicts are read per session, not per item.
    Page("a session", "secretary@demo.kz", "/commission/sessions/{session}", rows='id="item-'),
    Page("payouts", "finance@demo.kz", "/commission/payouts"),
    Page("oversight dashboard", "deputy@demo.kz", "/oversight/", rows=None),
    Page("audit browser", "deputy@demo.kz", "/oversight/audit?action=minutes.final"),
    Page("sober registry", "coordinator.region@demo.kz", "/sober"),
    Page("red flags", "deputy@demo.kz", "/oversight/flags", rows='<li class="list-group-item"'),
    Page("inquiries asked", "deputy@demo.kz", "/oversight/inquiries"),
    Page("inquiries to answer", "finance@demo.kz", "/oversight/inquiries"),
)


@pytest.fixture
def large_db_url(request, db_url, tmp_path):
    """A second fresh database of the same backend as ``db_url``."""
    if db_url.startswith("sqlite"):
        path = tmp_path / "large.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    clones = request.getfixturevalue("pg_clones")
    name = clones.take()
    try:
        yield pg_url(name)
    finally:
        clones.drop(name)


def _load(app, members: int, days: int, extras: int) -> dict:
    """Load a scale region and ``extras`` sober declarations, inquiries and flagged units."""
    from core import places
    from demo import scale as demo_scale
    from portal.extensions import db

    with app.app_context():
        for _step in demo_scale.generate(
            db.session, members=members, password=DEMO_PASSWORD, days=days
        ):
            pass
        db.session.commit()
        _sober(db.session, extras)
        _inquiries(db.session, extras)
        _flags(db.session, extras)
        db.session.commit()
        return _ids(db.session, places)


def _ids(session, places) -> dict:
    from budget.models import BudgetLine, LedgerEntry
    from incentives.models import AgendaItem, CommissionSession

    city = places.by_kato(session, "351000000").id
    held = session.scalar(
        select(CommissionSession.held_on).order_by(CommissionSession.held_on.desc())
    )
    last = held - dt.timedelta(days=30)  # a session sits after the quarter it decides on
    return {
        "city": city,
        "district": places.by_kato(session, "354000000").id,
        # The busiest rewards line: on the small data some units paid nothing yet.
        "line": session.scalar(
            select(BudgetLine.id)
            .join(LedgerEntry, LedgerEntry.line_id == BudgetLine.id)
            .group_by(BudgetLine.id)
            .order_by(func.count().desc(), BudgetLine.id)
            .limit(1)
        ),
        "year": last.year,
        "quarter": (last.month - 1) // 3 + 1,
        # The session with the longest agenda.
        "session": session.scalar(
            select(AgendaItem.session_id)
            .group_by(AgendaItem.session_id)
            .order_by(func.count().desc(), AgendaItem.session_id)
            .limit(1)
        ),
    }


def _sober(session, count: int) -> None:
    import sober
    from core import clock, places
    from core.db import utcnow
    from core.scope import Scope
    from demo import sober as demo_sober

    actor = demo_sober._coordinator(session, DEMO_PASSWORD)
    region = places.by_kato(session, "350000000")
    today = clock.local_date(utcnow())
    settlements = demo_sober._settlements(session)[:count]
    for n, unit in enumerate(settlements, start=1):
        sober.declare(
            session,
            unit_id=unit.id,
            gathered_on=today - dt.timedelta(days=100 + n),
            attendance=50 + n,
            record_reference=f"Хаттама № {n}",
            record_file_id=None,
            signatories=[("Ахметов Ерлан", "rural_akim")],
            outlets=[],
            actor_id=actor.id,
            scope=Scope.within([region.id]),
            today=today,
        )


def _inquiries(session, count: int) -> None:
    from core import accounts, clock
    from core.db import utcnow
    from core.scope import Scope
    from incentives import inquiries
    from incentives.models import CommissionSession

    deputy = accounts.find_by_login(session, "deputy@demo.kz")
    sittings = session.scalars(
        select(CommissionSession.id).order_by(CommissionSession.id).limit(count)
    ).all()
    for sitting in sittings:
        inquiries.ask(
            session,
            object_type="commission_session",
            object_id=sitting,
            text="Комиссия отырысының хаттамасын түсіндіріңіз.",
            deputy_id=deputy.id,
            scope=Scope.of(deputy, "deputy"),
            today=clock.local_date(utcnow()),
        )


def _flags(session, count: int) -> None:
    """A finished red-flags run naming ``count`` commission sessions, each in its own unit."""
    from core import jobruns
    from core.db import utcnow
    from incentives import flags
    from incentives.models import Commission, CommissionSession

    rows = [
        flags.Flag(
            "payout_without_minutes",
            "Test flag No. %(n)s.",
            {"n": n},
            "commission_session",
            sitting,
            unit,
        ).as_dict()
        for n, (sitting, unit) in enumerate(
            session.execute(
                select(CommissionSession.id, Commission.unit_id)
                .join(Commission, Commission.id == CommissionSession.commission_id)
                .order_by(CommissionSession.id)
            ).all()
        )
    ]
    by_unit = {}
    for row in rows:
        by_unit.setdefault(row["unit_id"], row)
    kept = list(by_unit.values())[:count]
    run = jobruns.JobRun(kind="oversight.flags", status="succeeded", progress=100)
    run.result = json.dumps(
        {"counts": {"payout_without_minutes": len(kept)}, "rows": kept, "total": len(kept)}
    )
    run.finished_at = utcnow()
    session.add(run)


def _measure(app, ids: dict, size: str) -> dict[str, tuple[int, int]]:
    """Return, per page, the SQL statements of one request and the rows it showed."""
    from portal.extensions import db

    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    found = {}
    client = app.test_client()
    for user in dict.fromkeys(p.user for p in PAGES):
        assert login(client, user).status_code == 302, user
        for page in (p for p in PAGES if p.user == user):
            path = page.path(size, ids)
            assert client.get(path).status_code == 200, (page.name, path)  # warm the caches
            statements.clear()
            event.listen(engine, "before_cursor_execute", count)
            try:
                response = client.get(path)
            finally:
                event.remove(engine, "before_cursor_execute", count)
            assert response.status_code == 200, (page.name, path)
            rows = response.text.count(page.rows) if page.rows else 0
            found[page.name] = (len(statements) - _pager_counts(statements), rows)
        client.post("/logout")
    return found


def _pager_counts(statements: list[str]) -> int:
    """How many of ``statements`` are a pager's count (``portal.paging.page_of``).

    A list that fits on one page needs none (its page tells the total) and a longer one needs
    one, whatever its length: not a statement per row, so not what this test looks for.
    """
    counts = [s for s in statements if PAGER_COUNT.match(s)]
    assert len(counts) <= 1, counts
    return len(counts)


def test_list_pages_query_counts_do_not_grow_with_rows(app, large_db_url):
    small_ids = _load(app, **SMALL)
    large_app = make_app(large_db_url)
    try:
        large_ids = _load(large_app, **LARGE)
        small = _measure(app, small_ids, "small")
        large = _measure(large_app, large_ids, "large")
    finally:
        close_app(large_app)
    report = "\n".join(
        f"{p.name:<22} small {small[p.name][0]:3d} q / {small[p.name][1]:3d} rows"
        f"   large {large[p.name][0]:3d} q / {large[p.name][1]:3d} rows"
        for p in PAGES
    )
    for page in PAGES:
        if page.rows:  # the large data really shows several times more rows
            assert large[page.name][1] >= 2 * small[page.name][1] > 0, f"{page.name}\n{report}"
    grew = [p.name for p in PAGES if large[p.name][0] != small[p.name][0]]
    assert not grew, f"statements per request differ for {grew}:\n{report}"
