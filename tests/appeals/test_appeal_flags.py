"""Red flags of hearings and complaints: each fires when a term ran out, is quiet before, scoped."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from appeals import flags, waiting
from core import accounts, calendar, clock, places
from core.jobruns import JobRun
from core.scope import Scope
from tests.appeals.test_appeal_reports import DISTRICT, HERE, THERE, _at, add_complaint, add_hearing
from tests.conftest import login_as, translated, wait_for_jobs

# Dates compared in SQL, a job and its page: both databases.
pytestmark = pytest.mark.both_databases

TODAY = dt.date(2026, 3, 18)  # a Wednesday


@pytest.fixture
def today(monkeypatch):
    """Freeze the portal's clock at noon of ``TODAY`` in Almaty."""
    monkeypatch.setattr(clock, "now", lambda: _at(TODAY, 12))
    return TODAY


def _ids(found, kind):
    return sorted(f.target_id for f in found if f.kind == kind)


def test_overdue_forwardings_and_reviews_fire_after_the_due_day_only(app, session, today):
    here = places.by_kato(session, HERE).id
    registrar = accounts.find_by_login(session, "registrar@demo.kz")
    yesterday, tomorrow = today - dt.timedelta(days=1), today + dt.timedelta(days=1)
    late = add_complaint(session, unit_id=here, actor_id=registrar.id, forward_due_on=yesterday)
    due_today = add_complaint(session, unit_id=here, actor_id=registrar.id, forward_due_on=today)
    police = add_complaint(
        session, unit_id=here, actor_id=registrar.id, kind="police", forward_due_on=yesterday
    )
    review_late = add_complaint(
        session,
        unit_id=here,
        actor_id=registrar.id,
        status="forwarded",
        forward_due_on=yesterday - dt.timedelta(days=30),
        forwarded_on=yesterday - dt.timedelta(days=30),
        review_due_on=yesterday,
    )
    review_due = add_complaint(
        session,
        unit_id=here,
        actor_id=registrar.id,
        status="forwarded",
        forward_due_on=yesterday - dt.timedelta(days=30),
        forwarded_on=yesterday - dt.timedelta(days=30),
        review_due_on=tomorrow,
    )
    session.commit()
    everywhere = Scope.everywhere()
    found = flags.overdue_forwardings(session, everywhere)
    assert _ids(found, "overdue_forwarding") == [late.id]
    assert found[0].params == {"number": late.number, "date": yesterday.isoformat()}
    assert (found[0].target_type, found[0].unit_id) == ("complaint", here)
    reviews = flags.overdue_reviews(session, everywhere)
    assert _ids(reviews, "overdue_review") == [review_late.id]
    assert due_today.id not in _ids(found, "overdue_forwarding")
    assert police.id not in _ids(found, "overdue_forwarding")  # the police's, not the akimat's
    assert review_due.id not in _ids(reviews, "overdue_review")


def test_overdue_hearings_count_working_days_across_a_holiday(app, session, today):
    here = places.by_kato(session, HERE).id
    registrar = accounts.find_by_login(session, "registrar@demo.kz")
    # Monday 16 March a holiday: a draft of Thursday 12 March has had 2 working days (Fri, Tue)
    # by this Wednesday, not yet late; without the holiday it would have had 3.
    calendar.set_day(
        session, day=dt.date(2026, 3, 16), kind="holiday", name_kk="Мереке", name_ru="Праздник"
    )
    kept = add_hearing(
        session, unit_id=here, actor_id=registrar.id, drafted_at=_at(dt.date(2026, 3, 12), 17)
    )
    late = add_hearing(
        session, unit_id=here, actor_id=registrar.id, drafted_at=_at(dt.date(2026, 3, 11), 9)
    )
    oral = add_hearing(
        session,
        unit_id=here,
        actor_id=registrar.id,
        status="notified",
        notified_at=_at(dt.date(2026, 3, 10)),
        objection_due_on=dt.date(2026, 3, 12),
        earliest_act_on=dt.date(2026, 3, 13),
        oral_requested_at=_at(dt.date(2026, 3, 11)),
    )
    waiting_act = add_hearing(
        session,
        unit_id=here,
        actor_id=registrar.id,
        status="notified",
        notified_at=_at(dt.date(2026, 3, 6)),
        objection_due_on=dt.date(2026, 3, 10),
        earliest_act_on=dt.date(2026, 3, 11),
    )
    act_late = add_hearing(
        session,
        unit_id=here,
        actor_id=registrar.id,
        status="heard",
        notified_at=_at(dt.date(2026, 2, 20)),
        objection_due_on=dt.date(2026, 2, 24),
        earliest_act_on=dt.date(2026, 2, 25),
    )
    session.commit()
    assert waiting.last_late_day(session, today, waiting.NOTICE_WITHIN) == dt.date(2026, 3, 11)
    found = flags.overdue_hearings(session, Scope.everywhere())
    assert _ids(found, "overdue_hearing") == sorted([late.id, oral.id, act_late.id])
    assert kept.id not in _ids(found, "overdue_hearing")
    # 11 March + 5 working days (holiday skipped) is 19 March: not late on the 18th.
    assert waiting_act.id not in _ids(found, "overdue_hearing")
    by_id = {f.target_id: f for f in found}
    assert by_id[late.id].params == {"date": "2026-03-11", "days": waiting.NOTICE_WITHIN}
    assert by_id[oral.id].params == {"date": "2026-03-13"}
    assert by_id[act_late.id].params == {"date": "2026-02-25", "days": waiting.ACT_WITHIN}


def test_another_districts_overdue_cases_are_not_in_the_scope(app, session, today):
    here, there = places.by_kato(session, HERE).id, places.by_kato(session, THERE).id
    registrar = accounts.find_by_login(session, "registrar@demo.kz")
    old = today - dt.timedelta(days=40)
    mine = add_complaint(session, unit_id=here, actor_id=registrar.id, forward_due_on=old)
    other = add_complaint(session, unit_id=there, actor_id=registrar.id, forward_due_on=old)
    session.commit()
    district = Scope.within([places.by_kato(session, DISTRICT).id])
    assert _ids(flags.overdue_forwardings(session, district), "overdue_forwarding") == [mine.id]
    everywhere = flags.overdue_forwardings(session, Scope.everywhere())
    assert {mine.id, other.id} <= set(_ids(everywhere, "overdue_forwarding"))


def test_the_flags_page_lists_an_overdue_review_in_the_deputys_territory(
    app, client, session, today
):
    here = places.by_kato(session, HERE).id
    foreign = places.by_kato(session, "750000000").id
    registrar = accounts.find_by_login(session, "registrar@demo.kz")
    old = today - dt.timedelta(days=40)
    overdue = {"status": "forwarded", "forwarded_on": old, "review_due_on": old}
    shown = add_complaint(session, unit_id=here, actor_id=registrar.id, **overdue)
    hidden = add_complaint(session, unit_id=foreign, actor_id=registrar.id, **overdue)
    session.commit()
    login_as(client, "deputy@demo.kz")
    deputy = accounts.find_by_login(session, "deputy@demo.kz")
    response = client.post("/oversight/flags/compute", data={"unit_id": deputy.scope("deputy")[0]})
    assert response.status_code == 302
    wait_for_jobs(app)
    session.rollback()
    run = session.get(JobRun, int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1]))
    assert run.status == "succeeded"
    assert set(json.loads(run.result)["counts"]) == set(flags.KINDS)
    page = client.get("/oversight/flags")
    assert page.status_code == 200
    assert 'data-kind="overdue_review"' in page.text
    label = translated(app, "Complaint not decided within 20 working days", "kk")
    assert label in page.text
    assert shown.number in page.text
    assert hidden.number not in page.text
    counts = page.text.split('id="flag-counts"', 1)[1].split("</table>", 1)[0]
    row = counts.split('data-kind="overdue_review"', 1)[1].split("</tr>", 1)[0]
    assert ">1</td>" in row
