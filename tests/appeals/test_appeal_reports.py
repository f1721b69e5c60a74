"""Deputies' hearing and complaint figures: equal to a count of the rows, scoped, per quarter."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random

import pytest
from sqlalchemy import select

from appeals import reports
from appeals.models import (
    ACT_KINDS,
    COMPLAINT_KINDS,
    EXCEPTION_KINDS,
    OUTCOMES,
    OVERTURNING,
    Complaint,
    Hearing,
    HearingProtocol,
)
from core import accounts, clock, places
from core.iin import make_iin
from core.scope import Scope
from tests.conftest import login_as, translated

# SQL with FILTER and a local date per dialect: both databases.
pytestmark = pytest.mark.both_databases

SUBJECT = {
    "refuse_registration": "application",
    "suspend": "member",
    "expel": "member",
    "refuse_reward": "nomination",
    "defer_reward": "nomination",
    "decline_initiative": "sober_initiative",
}
HERE, THERE = "354030100", "355630100"  # settlements of the demo district and of another one
DISTRICT = "354000000"
YEAR = 2026
_serial = iter(range(10_000, 99_999))


def _at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A local time of ``day`` as an aware UTC moment."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=clock.zone()).astimezone(dt.UTC)


def add_hearing(session, *, unit_id: int, actor_id: int, act_kind: str = "suspend", **fields):
    """Write a hearing row as the workflow would have left it (status and its dates given)."""
    n = next(_serial)
    status = fields.pop("status", "drafted")
    values = {
        "act_kind": act_kind,
        "subject_type": SUBJECT[act_kind],
        "subject_id": n,
        "unit_id": unit_id,
        "person_name": f"Тест Адам {n}",
        "grounds": [],
        "grounds_text": "",
        "status": status,
        "drafted_by_id": actor_id,
        "drafted_at": _at(dt.date(YEAR, 1, 5)),
    }
    if status == "adopted":
        values.update(act_number=f"A-{n}", act_reasons="Негіздеме", adopted_by_id=actor_id)
        values.setdefault("adopted_at", _at(dt.date(YEAR, 1, 20)))
    if status == "withdrawn":
        values.update(withdrawn_reason="Қайтарып алынды")
        values.setdefault("withdrawn_at", _at(dt.date(YEAR, 1, 20)))
    if fields.get("exception_kind"):
        values["exception_reason"] = "Себебі"
    values.update(fields)
    hearing = Hearing(**values)
    session.add(hearing)
    session.flush()
    return hearing


def add_protocol(session, hearing, *, held_at: dt.datetime, actor_id: int):
    session.add(
        HearingProtocol(
            hearing_id=hearing.id,
            held_at=held_at,
            mode="in_person",
            attendees="—",
            body="Хаттама",
            recorded_by_id=actor_id,
            signed_on=clock.local_date(held_at),
            remarks_due_on=clock.local_date(held_at) + dt.timedelta(days=5),
        )
    )
    session.flush()


def add_complaint(session, *, unit_id: int, actor_id: int, kind: str = "act", **fields):
    """Write a complaint row as the workflow would have left it (status and dates given)."""
    n = next(_serial)
    registered = fields.pop("registered_on", dt.date(YEAR, 2, 2))
    values = {
        "number": f"T-{YEAR}-{n}",
        "kind": kind,
        "subject_type": "member",
        "subject_id": n,
        "act_kind": "suspend" if kind == "act" else None,
        "unit_id": unit_id,
        "person_key": "k" * 64,
        "complainant_name": f"Шағымданушы {n}",
        "complainant_iin": make_iin(dt.date(1990, 1, 1), "male", n % 9000),
        "complainant_address": "Ботакөз, 1",
        "act_challenged": "Акт",
        "grounds": "Негіздер",
        "request": "Өтініш",
        "channel": "paper",
        "entered_by_id": actor_id,
        "filed_at": _at(registered),
        "registered_on": registered,
        "term_ends_on": registered + dt.timedelta(days=90),
        "forward_due_on": registered + dt.timedelta(days=5),
        "status": "registered",
    }
    if kind == "act" and "hearing_id" not in fields:
        act = add_hearing(session, unit_id=unit_id, actor_id=actor_id, status="adopted")
        values["hearing_id"] = act.id
    values.update(fields)
    complaint = Complaint(**values)
    session.add(complaint)
    session.flush()
    return complaint


def _random_world(session, rng: random.Random, actor_id: int, units: list[int]) -> None:
    """Hearings and complaints of every kind, state and quarter, spread over ``units``."""
    for _ in range(60):
        day = dt.date(YEAR, 1, 1) + dt.timedelta(days=rng.randrange(360))
        status = rng.choice(("drafted", "notified", "heard", "adopted", "withdrawn"))
        fields = {"drafted_at": _at(day, rng.randrange(24), rng.randrange(60))}
        later = _at(day + dt.timedelta(days=rng.randrange(1, 40)), rng.randrange(24))
        excepted = status == "adopted" and rng.random() < 0.4
        if status != "drafted" and not excepted:
            fields["notified_at"] = _at(day + dt.timedelta(days=1))
        if status == "adopted":
            fields["adopted_at"] = later
            if excepted:
                fields["exception_kind"] = rng.choice(EXCEPTION_KINDS)
        if status == "withdrawn":
            fields["withdrawn_at"] = later
        hearing = add_hearing(
            session,
            unit_id=rng.choice(units),
            actor_id=actor_id,
            act_kind=rng.choice(ACT_KINDS),
            status=status,
            **fields,
        )
        if status in ("heard", "adopted") and not excepted and rng.random() < 0.6:
            add_protocol(
                session, hearing, held_at=_at(day + dt.timedelta(days=2)), actor_id=actor_id
            )
    for _ in range(80):
        registered = dt.date(YEAR, 1, 1) + dt.timedelta(days=rng.randrange(360))
        kind = rng.choice(COMPLAINT_KINDS)
        stages = ("registered", "decided") if kind == "police" else None
        status = rng.choice(stages or ("registered", "granted", "forwarded", "decided"))
        fields = {"registered_on": registered, "status": status}
        if status in ("forwarded", "decided") and kind != "police":
            fields["forwarded_on"] = registered + dt.timedelta(days=rng.randrange(1, 9))
            fields["review_due_on"] = fields["forwarded_on"] + dt.timedelta(days=28)
        if status == "decided":
            base = fields.get("review_due_on", registered + dt.timedelta(days=30))
            # Around the due day, some just past local midnight (late by minutes).
            fields["decided_at"] = rng.choice(
                (
                    _at(base - dt.timedelta(days=rng.randrange(20)), rng.randrange(24)),
                    _at(base, 23, 50),
                    _at(base + dt.timedelta(days=1), 0, 10),
                    _at(base + dt.timedelta(days=rng.randrange(1, 10))),
                )
            )
            fields["outcome"] = rng.choice(OUTCOMES)
        add_complaint(session, unit_id=rng.choice(units), actor_id=actor_id, kind=kind, **fields)


def _expected(session, district_id: int, period: reports.Period, today: dt.date) -> dict:
    """Count the same figures in Python over every row of the district: the independent sum."""
    inside = set(places.covered_by(session, [district_id]))
    start, end = period.moments()

    def within(moment):
        return moment is not None and start <= moment < end

    hearings = [h for h in session.scalars(select(Hearing)) if h.unit_id in inside]
    complaints = [c for c in session.scalars(select(Complaint)) if c.unit_id in inside]
    protocols = session.scalars(select(HearingProtocol)).all()
    held = {p.hearing_id for p in protocols if within(p.held_at)}
    by_kind = {
        k: {
            "drafted": sum(within(h.drafted_at) for h in hearings if h.act_kind == k),
            "notified": sum(within(h.notified_at) for h in hearings if h.act_kind == k),
            "oral_held": sum(h.id in held for h in hearings if h.act_kind == k),
            "adopted": sum(within(h.adopted_at) for h in hearings if h.act_kind == k),
            "withdrawn": sum(within(h.withdrawn_at) for h in hearings if h.act_kind == k),
        }
        for k in ACT_KINDS
    }
    exceptions = {
        e: sum(within(h.adopted_at) and h.exception_kind == e for h in hearings)
        for e in EXCEPTION_KINDS
    }
    filed = [c for c in complaints if period.first <= c.registered_on <= period.last]
    decided = [c for c in complaints if c.status == "decided" and within(c.decided_at)]
    forwarded = [
        c for c in complaints if c.forwarded_on and period.first <= c.forwarded_on <= period.last
    ]
    reviewed = [c for c in decided if c.review_due_on is not None]
    return {
        "by_kind": by_kind,
        "exceptions": exceptions,
        "filed": {
            k: {
                s: sum(c.kind == k and c.status == s for c in filed)
                for s in reports.COMPLAINT_STATUSES
            }
            for k in COMPLAINT_KINDS
        },
        "outcomes": {
            k: {o: sum(c.kind == k and c.outcome == o for c in decided) for o in OUTCOMES}
            for k in COMPLAINT_KINDS
        },
        "overturned": sum(c.outcome in OVERTURNING for c in decided),
        "timeliness": {
            "forwarded": len(forwarded),
            "forwarded_on_time": sum(c.forwarded_on <= c.forward_due_on for c in forwarded),
            "reviewed": len(reviewed),
            "reviewed_on_time": sum(
                clock.local_date(c.decided_at) <= c.review_due_on for c in reviewed
            ),
            "overdue_forwarding": sum(
                c.status == "registered" and c.kind != "police" and c.forward_due_on < today
                for c in complaints
            ),
            "overdue_review": sum(
                c.status == "forwarded" and c.review_due_on < today for c in complaints
            ),
        },
    }


def _units(session):
    return [places.by_kato(session, kato).id for kato in (HERE, THERE, DISTRICT)]


def test_figures_equal_an_independent_count_per_quarter_and_year(app, session):
    here, there, district = _units(session)
    registrar = accounts.find_by_login(session, "registrar@demo.kz")
    _random_world(session, random.Random(20), registrar.id, [here, there, district])
    session.commit()
    today = dt.date(YEAR, 7, 1)
    scope = Scope.within([district])
    for quarter in (None, 1, 2, 3, 4):
        period = reports.Period.of(YEAR, quarter)
        got = reports.appeal_figures(session, scope=scope, year=YEAR, quarter=quarter, today=today)
        want = _expected(session, district, period, today)
        h, c = got["hearings"], got["complaints"]
        assert h["by_kind"] == want["by_kind"], quarter
        assert h["exceptions"] == want["exceptions"], quarter
        assert c["filed"] == want["filed"], quarter
        assert c["outcomes"] == want["outcomes"], quarter
        assert c["overturned"] == want["overturned"], quarter
        assert c["timeliness"] == want["timeliness"], quarter
        decided = sum(sum(v.values()) for v in want["outcomes"].values())
        assert c["decided"] == decided
        if decided:
            assert c["overturned_pct"] == round(want["overturned"] * 100 / decided, 1)
    year = reports.appeal_figures(session, scope=scope, year=YEAR, quarter=None, today=today)
    quarters = [
        reports.appeal_figures(session, scope=scope, year=YEAR, quarter=q, today=today)
        for q in (1, 2, 3, 4)
    ]
    # The quarters add up to the year (a step falls in exactly one quarter).
    for figure in ("drafted", "notified", "adopted", "withdrawn", "oral_held", "exceptions"):
        assert year["hearings"]["totals"][figure] == sum(
            q["hearings"]["totals"][figure] for q in quarters
        )
    assert year["complaints"]["filed_total"] == sum(
        q["complaints"]["filed_total"] for q in quarters
    )
    assert year["complaints"]["filed_total"] > 0 and year["complaints"]["decided"] > 0


def test_another_districts_cases_are_not_counted(app, session):
    here, there, _district = _units(session)
    registrar = accounts.find_by_login(session, "registrar@demo.kz")
    mine = places.by_kato(session, DISTRICT).id
    other = places.by_kato(session, "355600000").id
    today = dt.date(YEAR, 12, 1)

    def figures(unit_id):
        return reports.appeal_figures(
            session, scope=Scope.within([unit_id]), year=YEAR, quarter=1, today=today
        )

    add_complaint(session, unit_id=here, actor_id=registrar.id, registered_on=dt.date(YEAR, 2, 3))
    session.commit()
    before_mine, before_other = figures(mine), figures(other)
    add_complaint(
        session,
        unit_id=there,
        actor_id=registrar.id,
        kind="inaction",
        registered_on=dt.date(YEAR, 2, 4),
    )
    add_hearing(session, unit_id=there, actor_id=registrar.id, drafted_at=_at(dt.date(YEAR, 2, 4)))
    session.commit()
    after_mine, after_other = figures(mine), figures(other)
    assert after_mine == before_mine
    assert after_mine["complaints"]["filed_total"] == 1
    assert after_other["complaints"]["filed"]["inaction"]["registered"] == (
        before_other["complaints"]["filed"]["inaction"]["registered"] + 1
    )
    assert after_other["hearings"]["totals"]["drafted"] == (
        before_other["hearings"]["totals"]["drafted"] + 1
    )
    # Both overdue today (forward_due_on long past): each counted in its own district only.
    assert after_mine["complaints"]["timeliness"]["overdue_forwarding"] == 1
    assert after_other["complaints"]["timeliness"]["overdue_forwarding"] == 1


def test_a_decision_just_after_local_midnight_of_the_due_day_is_late(app, session):
    here = places.by_kato(session, HERE).id
    registrar = accounts.find_by_login(session, "registrar@demo.kz")
    due = dt.date(YEAR, 3, 10)
    for minute, hour in ((50, 23), (10, 0)):
        add_complaint(
            session,
            unit_id=here,
            actor_id=registrar.id,
            status="decided",
            outcome="unsatisfied",
            registered_on=dt.date(YEAR, 2, 2),
            forwarded_on=dt.date(YEAR, 2, 4),
            review_due_on=due,
            decided_at=_at(due + dt.timedelta(days=hour == 0), hour, minute),
        )
    session.commit()
    got = reports.appeal_figures(
        session,
        scope=Scope.within([places.by_kato(session, DISTRICT).id]),
        year=YEAR,
        quarter=1,
        today=dt.date(YEAR, 4, 1),
    )["complaints"]["timeliness"]
    assert (got["reviewed"], got["reviewed_on_time"]) == (2, 1)


def test_a_bad_period_is_refused():
    with pytest.raises(reports.DomainError):
        reports.Period.of(YEAR, 5)
    with pytest.raises(reports.DomainError):
        reports.Period.of(1999, 1)


def test_the_deputys_page_and_csv_show_the_figures_and_refuse_bad_input(app, client, session):
    here = places.by_kato(session, HERE).id
    registrar = accounts.find_by_login(session, "registrar@demo.kz")
    add_complaint(
        session,
        unit_id=here,
        actor_id=registrar.id,
        status="decided",
        outcome="cancel",
        registered_on=dt.date(YEAR, 5, 4),
        forwarded_on=dt.date(YEAR, 5, 5),
        review_due_on=dt.date(YEAR, 6, 2),
        decided_at=_at(dt.date(YEAR, 5, 20)),
    )
    session.commit()
    login_as(client, "deputy@demo.kz")
    district = places.by_kato(session, DISTRICT).id
    page = client.get(f"/oversight/appeals?unit_id={district}&year={YEAR}&quarter=2")
    assert page.status_code == 200
    assert translated(app, "Hearings and complaints", "kk") in page.text
    outcome_row = page.text.split('data-outcome="cancel"', 1)[1].split("</tr>", 1)[0]
    assert 'data-figure="total">1<' in outcome_row
    response = client.get(f"/oversight/appeals.csv?unit_id={district}&year={YEAR}&quarter=2")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    cancelled = [r for r in rows if r[0] == "complaint_outcomes" and r[3] == "cancel"]
    assert sorted(int(r[4]) for r in cancelled) == [0, 0, 1]  # act, inaction, police
    assert ["timeliness", "reviewed_on_time", "1"] in [[r[0], r[3], r[4]] for r in rows]
    for bad in ("year=abc", "quarter=9", "year=1800", "unit_id=x"):
        refused = client.get(f"/oversight/appeals?{bad}")
        assert refused.status_code == 400, bad
        assert 'role="alert"' in refused.text
        assert client.get(f"/oversight/appeals.csv?{bad}").status_code == 400
    # A jurisdiction the deputy does not oversee does not exist for them.
    foreign = places.by_kato(session, "750000000")
    assert client.get(f"/oversight/appeals?unit_id={foreign.id}").status_code == 404
    client.post("/logout")
    login_as(client, "registrar@demo.kz")
    assert client.get("/oversight/appeals").status_code == 403
