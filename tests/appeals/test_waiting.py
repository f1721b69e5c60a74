"""To-do lines of hearings and complaints: counted in the official's territory, late in red."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from appeals import terms, waiting
from core import accounts, calendar, clock, places
from core.scope import Scope
from tests.appeals.test_appeal_reports import HERE, THERE, _at, add_complaint, add_hearing
from tests.conftest import login_as, translated

# Counts with FILTER and EXISTS: both databases.
pytestmark = pytest.mark.both_databases

TODAY = dt.date(2026, 3, 18)  # a Wednesday
LINES = {
    "notify": "Preliminary decisions to send to the person or whose receipt to record",
    "oral": "Oral hearings to hold",
    "adopt": "Hearings whose act may be adopted: adopt or withdraw",
    "forward": "Complaints to grant in full or forward (3 working days)",
    "police": "Complaints about the police awaiting the police's outcome",
    "review": "Complaints to review (20 working days)",
}
LINE = re.compile(
    r'<a class="stretched-link[^"]*" href="([^"]+)">([^<]+)</a>(.*?)data-count="(\d+)"', re.S
)


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: _at(TODAY, 12))
    return TODAY


def _todo(client) -> dict[str, tuple[int, int]]:
    """Each to-do line's label -> (count, overdue) as the home page shows them."""
    page = client.get("/")
    assert page.status_code == 200
    block = page.text.split('data-testid="todo"', 1)
    if len(block) == 1:
        return {}
    body = block[1].split("</ul>", 1)[0]
    found = {}
    for url, label, middle, count in LINE.findall(body):
        assert client.get(url.replace("&amp;", "&")).status_code == 200, url
        late = re.search(r"text-bg-danger\">(\d+)", middle)
        found[label.strip()] = (int(count), int(late.group(1)) if late else 0)
    return found


def test_forwarding_is_late_only_after_the_third_working_day_across_a_holiday(app, session):
    here = places.by_kato(session, HERE).id
    registrar = accounts.find_by_login(session, "registrar@demo.kz")
    # Registered on Friday 13 March; Monday 16 March made a holiday: the third working day is
    # Thursday 19 March, not Wednesday 18 March.
    calendar.set_day(
        session, day=dt.date(2026, 3, 16), kind="holiday", name_kk="Мереке", name_ru="Праздник"
    )
    registered = dt.date(2026, 3, 13)
    due = terms.working_day_after(session, registered, terms.FORWARD_WD)
    assert due == dt.date(2026, 3, 19)
    add_complaint(
        session,
        unit_id=here,
        actor_id=registrar.id,
        registered_on=registered,
        forward_due_on=due,
    )
    session.commit()
    scopes = waiting.act_scopes(registrar)
    on = {
        day: waiting.complaints_to_forward(session, scopes, day)
        for day in (dt.date(2026, 3, 18), due, dt.date(2026, 3, 20))
    }
    assert [(w.count, w.overdue) for w in on.values()] == [(1, 0), (1, 0), (1, 1)]


def test_the_home_page_counts_each_line_and_its_late_ones(app, client, session, today):
    here, there = places.by_kato(session, HERE).id, places.by_kato(session, THERE).id
    foreign = places.by_kato(session, "750000000").id
    region = places.by_kato(session, "350000000").id
    registrar = accounts.find_by_login(session, "registrar@demo.kz")
    coordinator = accounts.find_by_login(session, "coordinator@demo.kz")
    before = {}
    login_as(client, "registrar@demo.kz")
    before["registrar"] = _todo(client)
    # Drafted: one late (a week ago), one fresh; one in another region (not counted).
    add_hearing(session, unit_id=here, actor_id=registrar.id, drafted_at=_at(TODAY, 9))
    add_hearing(session, unit_id=there, actor_id=registrar.id, drafted_at=_at(dt.date(2026, 3, 10)))
    add_hearing(
        session, unit_id=foreign, actor_id=registrar.id, drafted_at=_at(dt.date(2026, 3, 10))
    )
    # Objection term over, the act waiting (late: earliest act day a month ago).
    add_hearing(
        session,
        unit_id=here,
        actor_id=registrar.id,
        act_kind="expel",
        status="notified",
        notified_at=_at(dt.date(2026, 2, 10)),
        objection_due_on=dt.date(2026, 2, 12),
        earliest_act_on=dt.date(2026, 2, 13),
    )
    # An oral hearing asked for, its day not yet come.
    add_hearing(
        session,
        unit_id=here,
        actor_id=registrar.id,
        status="notified",
        notified_at=_at(dt.date(2026, 3, 17)),
        objection_due_on=dt.date(2026, 3, 19),
        earliest_act_on=dt.date(2026, 3, 20),
        oral_requested_at=_at(dt.date(2026, 3, 17), 15),
    )
    # Complaints: one late to forward, one in time, an inaction one (the registrar's too).
    add_complaint(session, unit_id=here, actor_id=registrar.id, forward_due_on=dt.date(2026, 3, 17))
    add_complaint(session, unit_id=here, actor_id=registrar.id, forward_due_on=TODAY)
    add_complaint(
        session,
        unit_id=there,
        actor_id=registrar.id,
        kind="inaction",
        subject_type="application",
        forward_due_on=dt.date(2026, 3, 20),
    )
    add_complaint(session, unit_id=here, actor_id=registrar.id, kind="police")
    # A reviewer on the region, who drafted the act of one of the two forwarded complaints.
    reviewer = accounts.find_by_login(session, "reviewer@demo.kz")
    if reviewer is None:
        reviewer = accounts.create_user(
            session,
            email="reviewer@demo.kz",
            phone=None,
            full_name="Тексеруші",
            unit_id=region,
            preferred_language="kk",
            password="demo-portal-2026",
            actor_id=None,
        )
        accounts.grant_role(
            session, user_id=reviewer.id, role="reviewer", unit_id=region, actor_id=None
        )
    forwarded = {
        "status": "forwarded",
        "forwarded_on": dt.date(2026, 2, 2),
        "review_unit_id": region,
    }
    add_complaint(
        session,
        unit_id=here,
        actor_id=registrar.id,
        review_due_on=dt.date(2026, 3, 2),
        **forwarded,
    )
    own_act = add_hearing(session, unit_id=here, actor_id=reviewer.id, status="adopted")
    add_complaint(
        session,
        unit_id=here,
        actor_id=registrar.id,
        hearing_id=own_act.id,
        review_due_on=dt.date(2026, 3, 30),
        **forwarded,
    )
    session.commit()
    lines = _todo(client)
    lang = "kk"

    def line(key):
        return lines[translated(app, LINES[key], lang)]

    def grown(key):
        was = before["registrar"].get(translated(app, LINES[key], lang), (0, 0))
        now = line(key)
        return now[0] - was[0], now[1] - was[1]

    assert grown("notify") == (2, 1)  # the foreign one is not the registrar's
    assert grown("adopt") == (1, 1)
    assert grown("oral") == (1, 0)
    assert grown("forward") == (3, 1)
    assert translated(app, LINES["police"], lang) not in lines  # the coordinator's
    assert translated(app, LINES["review"], lang) not in lines  # not a reviewer
    client.post("/logout")
    login_as(client, "coordinator@demo.kz")
    coordinator_lines = _todo(client)
    assert coordinator_lines[translated(app, LINES["police"], lang)][0] >= 1
    assert coordinator.id  # the coordinator's scope is the district: the police complaint is in it
    client.post("/logout")
    login_as(client, "reviewer@demo.kz")
    reviewer_lines = _todo(client)
    # The reviewer's own act is not theirs to review (APPK Art. 97(2)): one complaint, late.
    assert reviewer_lines[translated(app, LINES["review"], lang)] == (1, 1)


def test_a_named_reviewer_outside_the_reviewer_role_sees_their_complaints(app, session, today):
    here = places.by_kato(session, HERE).id
    registrar = accounts.find_by_login(session, "registrar@demo.kz")
    finance = accounts.find_by_login(session, "finance@demo.kz")
    add_complaint(
        session,
        unit_id=here,
        actor_id=registrar.id,
        status="forwarded",
        forwarded_on=dt.date(2026, 3, 2),
        review_due_on=dt.date(2026, 3, 30),
        reviewer_id=finance.id,
    )
    session.commit()
    found = {w.key: w for w in waiting.for_user(session, finance, TODAY)}
    assert (found["complaints_to_review"].count, found["complaints_to_review"].overdue) == (1, 0)
    assert waiting.complaints_to_review(session, registrar, TODAY).count == 0
    assert Scope.of(finance, "reviewer").is_nothing
