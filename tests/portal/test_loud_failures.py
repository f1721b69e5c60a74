"""Loud failures (issue 18, finding 4): a broken chain or drift fails its run, logs, notifies."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import select, text

from core import jobruns
from core.notifications import Notification
from portal import jobs
from portal.extensions import db
from portal.observability import JsonFormatter
from tests.conftest import login_as, translated

pytestmark = pytest.mark.demo_data


def _run(app, kind: str) -> int:
    """Write a run of ``kind`` and execute it here (no executor thread: the log is ours)."""
    with app.app_context():
        run = jobruns.create_run(db.session, kind=kind, requested_by_id=None, unit_id=None)
        db.session.commit()
        jobs.execute(run.id)
        return run.id


def _break_chain(session) -> None:
    sql = "UPDATE audit_event SET payload = '{}' WHERE seq = 3"
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        session.execute(text(sql))
        session.execute(text("ALTER TABLE audit_event ENABLE TRIGGER USER"))
    else:
        session.execute(text("DROP TRIGGER audit_event_no_update"))
        session.execute(text(sql))
    session.commit()


def _error_lines(caplog, run_id: int) -> list[dict]:
    return [
        json.loads(JsonFormatter().format(r))
        for r in caplog.records
        if r.levelno == logging.ERROR and getattr(r, "extra_fields", {}).get("job_id") == run_id
    ]


def _notices(session, run_id: int) -> list[Notification]:
    session.rollback()
    return [
        note
        for note in session.scalars(
            select(Notification).where(Notification.kind == jobruns.FAILURE_NOTICE)
        )
        if json.loads(note.params)["run_id"] == run_id
    ]


def test_broken_audit_chain_fails_the_run_logs_notifies_and_shows(app, client, session, caplog):
    caplog.set_level(logging.INFO)
    _break_chain(session)
    run_id = _run(app, "audit.verify")

    run = session.get(jobruns.JobRun, run_id)
    assert run.status == "failed"
    assert run.message == run.error == "audit chain broken at event #3 (hash)"
    assert json.loads(run.result)["first_bad_seq"] == 3

    (line,) = _error_lines(caplog, run_id)
    assert line["level"] == "ERROR" and line["time"][:2] == "20"
    assert line["job_id"] == run_id and line["job_kind"] == "audit.verify"
    assert "audit chain broken at event #3" in line["message"]

    # One notice per country administrator, rendered in their language, and only once per run.
    admins = {u.id for u in jobruns.country_admins(session)}
    notes = _notices(session, run_id)
    assert admins and {n.user_id for n in notes} == admins and len(notes) == len(admins)
    with app.test_request_context():
        assert jobruns.notify_failure(db.session, run_id) == 0
        db.session.rollback()
        from portal.mail import render

        message = render(notes[0])
    assert f"/jobs/{run_id}" in message.body and message.subject

    metrics = client.get("/metrics").text
    assert "portal_audit_chain_ok 0.0" in metrics
    assert 'portal_job_runs{kind="audit.verify",status="failed"} 1.0' in metrics

    login_as(client, "admin@demo.kz")
    page = client.get("/admin/operations").text
    assert f'href="/jobs/{run_id}"' in page and "audit chain broken at event #3" in page
    assert translated(app, "No failed jobs.", "en") not in page
    # The audit page still says BROKEN, though the run failed.
    assert translated(app, "BROKEN: the first broken link is event #%(seq)s.", "en", seq=3) in (
        client.get("/admin/audit").text
    )


def test_an_intact_chain_succeeds_quietly(app, client, session, caplog):
    caplog.set_level(logging.INFO)
    run_id = _run(app, "audit.verify")
    assert session.get(jobruns.JobRun, run_id).status == "succeeded"
    assert _error_lines(caplog, run_id) == [] and _notices(session, run_id) == []
    assert "portal_audit_chain_ok 1.0" in client.get("/metrics").text


def test_reconciliation_drift_fails_the_run(app, client, session, caplog):
    caplog.set_level(logging.INFO)
    line_id = session.scalar(text("SELECT min(id) FROM budget_line"))
    session.execute(
        text("UPDATE budget_line SET committed_tiyn = committed_tiyn + 5 WHERE id = :i"),
        {"i": line_id},
    )
    session.commit()
    run_id = _run(app, "budget.reconcile")
    run = session.get(jobruns.JobRun, run_id)
    assert run.status == "failed"
    assert run.message.startswith("budget reconcile: 1 difference(s): budget_line")
    assert json.loads(run.result)["ok"] is False
    assert _error_lines(caplog, run_id) and _notices(session, run_id)
    assert "portal_reconciliation_ok 0.0" in client.get("/metrics").text
    # The run's page shows the differences, though the run failed.
    login_as(client, "admin@demo.kz")
    page = client.get(f"/jobs/{run_id}").text
    assert "<code>line_ledger</code> budget_line" in page


def test_a_job_that_raises_is_logged_and_notified_once(app, session, caplog, monkeypatch):
    caplog.set_level(logging.INFO)
    spec = jobs.JOBS["shifts.close"]

    def broken(run_id, progress):
        raise ValueError("bad data")

    monkeypatch.setitem(jobs.JOBS, "shifts.close", spec.__class__(spec.kind, spec.queue, broken))
    with pytest.raises(ValueError):
        _run(app, "shifts.close")
    run = session.scalars(select(jobruns.JobRun).order_by(jobruns.JobRun.id.desc())).first()
    assert run.status == "failed" and run.error == "ValueError: bad data"
    (line,) = _error_lines(caplog, run.id)
    assert line["job_kind"] == "shifts.close"
    assert len(_notices(session, run.id)) == len(jobruns.country_admins(session))
