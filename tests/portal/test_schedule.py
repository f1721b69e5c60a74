"""The schedule submits each periodic job once per slot, however many processes tick."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import func, select

from core.jobruns import JobRun
from portal import schedule
from tests.conftest import wait_for_jobs

# 2026-11-23 03:30 in Almaty (UTC+5) is 22:30 UTC the day before.
AFTER_ALL = dt.datetime(2026, 11, 22, 22, 30, tzinfo=dt.UTC)
# 00:30 local: before every daily hour.
BEFORE_ALL = dt.datetime(2026, 11, 22, 19, 30, tzinfo=dt.UTC)


def _runs(session, kind=None):
    session.rollback()
    query = select(JobRun.schedule_slot, JobRun.status).where(JobRun.schedule_slot.is_not(None))
    if kind:
        query = query.where(JobRun.kind == kind)
    return session.execute(query).all()


def test_daily_jobs_are_submitted_once_per_local_day(app, session):
    # Before every daily hour only the hourly closing of shifts is due.
    assert schedule.tick(app, BEFORE_ALL) == ["shifts.close@2026-11-23T00"]
    submitted = schedule.tick(app, AFTER_ALL)
    assert sorted(submitted) == [
        "audit.verify@2026-11-23",
        "budget.reconcile@2026-11-23",
        "members.expire@2026-11-23",
        "shifts.close@2026-11-23T03",
    ]
    wait_for_jobs(app)
    assert schedule.tick(app, AFTER_ALL + dt.timedelta(minutes=5)) == []
    runs = _runs(session)
    assert len(runs) == 5
    assert {status for _slot, status in runs} == {"succeeded"}
    # The next local day is a new slot.
    assert "members.expire@2026-11-24" in schedule.tick(app, AFTER_ALL + dt.timedelta(days=1))
    wait_for_jobs(app)


def test_every_periodic_kind_is_a_registered_job():
    from portal.jobs import JOBS

    assert {p.kind for p in schedule.PERIODIC} <= set(JOBS)


def test_a_daily_job_is_not_due_before_its_hour():
    expire = next(p for p in schedule.PERIODIC if p.kind == "members.expire")
    local = dt.datetime(2026, 11, 23, 0, 59)
    assert expire.slot(local) is None
    assert expire.slot(local.replace(hour=1)) == "members.expire@2026-11-23"
    hourly = schedule.Periodic("x", hour=None)
    assert hourly.slot(local) == "x@2026-11-23T00"


def test_concurrent_ticks_submit_each_slot_once(app, session):
    barrier = threading.Barrier(4)
    results: list[list[str]] = []

    def worker():
        barrier.wait()
        results.append(schedule.tick(app, AFTER_ALL))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wait_for_jobs(app)
    assert sum(len(r) for r in results) == 4
    session.rollback()
    assert (
        session.scalar(
            select(func.count()).select_from(JobRun).where(JobRun.schedule_slot.is_not(None))
        )
        == 4
    )


def test_serve_runs_the_server_and_the_in_process_schedule(app, monkeypatch):
    import werkzeug.serving

    started = {}
    monkeypatch.setattr(
        werkzeug.serving,
        "run_simple",
        lambda host, port, application, **kw: started.update(host=host, port=port, app=application),
    )
    monkeypatch.setattr(schedule, "start_in_process", lambda a: started.setdefault("ticks", a))
    result = app.test_cli_runner().invoke(args=["serve", "--port", "5099"])
    assert result.exit_code == 0, result.output
    assert started["port"] == 5099 and started["app"] is app and started["ticks"] is app
