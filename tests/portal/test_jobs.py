"""Background jobs: job runs, the in-process runner, and a real RQ worker on Redis."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rq import Queue
from rq.serializers import JSONSerializer

from core import jobruns
from portal import jobs
from portal.extensions import db
from tests.conftest import (
    TEST_DATA_KEYS,
    TEST_INDEX_KEY,
    close_app,
    login_as,
    make_app,
    wait_for_jobs,
)

# Both databases: job leases and locks.
pytestmark = pytest.mark.both_databases

ROOT = Path(__file__).resolve().parents[2]


def test_verify_job_runs_in_process_and_shows_progress_page(app, client, session):
    login_as(client, "admin@demo.kz")
    response = client.post("/admin/audit/verify")
    assert response.status_code == 302
    page = response.headers["Location"]
    wait_for_jobs(app)
    status = client.get(page + "/status.json").get_json()
    assert status["status"] == "succeeded" and status["progress"] == 100
    assert status["result"]["ok"] is True
    html = client.get(page).data.decode()
    assert 'id="job-bar"' in html and "jobprogress.js" in html
    audit_page = client.get("/admin/audit").data.decode()
    assert status["result"]["head_hash"] in audit_page


def test_job_pages_are_private_to_requester_and_admins(app, client, session):
    login_as(client, "admin@demo.kz")
    page = client.post("/admin/audit/verify").headers["Location"]
    wait_for_jobs(app)
    other = app.test_client()
    login_as(other, "deputy@demo.kz")
    assert other.get(page).status_code == 404
    assert other.get(page + "/status.json").status_code == 404


def test_a_job_run_executes_once_however_often_delivered(app):
    with app.app_context():
        run = jobs.submit("audit.verify", requested_by_id=None, unit_id=None)
        db.session.commit()
        wait_for_jobs(app)
        assert jobs.execute(run.id) == "skipped"  # a re-delivered message does nothing
        db.session.rollback()
        assert jobruns.get_run(db.session, run.id).attempts == 1


def test_nothing_is_dispatched_when_the_transaction_rolls_back(app):
    with app.app_context():
        run = jobs.submit("audit.verify", requested_by_id=None, unit_id=None)
        run_id = run.id
        db.session.rollback()
        wait_for_jobs(app)
        assert db.session.get(jobruns.JobRun, run_id) is None


def test_failing_job_records_the_error(app, monkeypatch):
    def broken(run_id, progress):
        raise RuntimeError("disk full")

    monkeypatch.setitem(jobs.JOBS, "test.broken", jobs.JobSpec("test.broken", "default", broken))
    with app.app_context():
        run = jobs.submit("test.broken", requested_by_id=None, unit_id=None)
        db.session.commit()
        wait_for_jobs(app)
        db.session.rollback()
        run = jobruns.get_run(db.session, run.id)
        assert run.status == "failed" and "disk full" in run.error


def test_job_runs_through_a_real_rq_worker(db_url, rq_prefix, redis_url):
    """Enqueue after commit to Redis with the JSON serializer; a real worker runs it (burst)."""
    app = make_app(db_url, REDIS_URL=redis_url, RQ_QUEUE_PREFIX=rq_prefix)
    try:
        client = app.test_client()
        login_as(client, "admin@demo.kz")
        page = client.post("/admin/audit/verify").headers["Location"]
        run_id = int(page.rsplit("/", 1)[1])
        queue = Queue(
            jobs.queue_name(app, "audit"), connection=jobs._redis(app), serializer=JSONSerializer
        )
        assert queue.count == 1
        job = queue.jobs[0]
        assert job.func_name == "portal.jobs.run_job" and list(job.args) == [run_id]
        raw = queue.connection.hget(job.key, "data")
        assert json.loads(__import__("zlib").decompress(raw)) is not None  # JSON, not pickle
        env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "REDIS_URL": redis_url,
            "PORTAL_RQ_QUEUE_PREFIX": rq_prefix,
            "SECRET_KEY": "worker-test-key" * 3,
            "PORTAL_DATA_KEYS": TEST_DATA_KEYS,
            "PORTAL_INDEX_KEY": TEST_INDEX_KEY,
        }
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "wsgi",
                "worker",
                "--burst",
                "--name",
                f"{rq_prefix}-worker",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        status = client.get(page + "/status.json").get_json()
        assert status["status"] == "succeeded", (status, done.stderr[-2000:])
        assert status["result"]["ok"] is True
    finally:
        close_app(app)
