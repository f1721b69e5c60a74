"""Jobs under faults (J1-J5): redelivery, killed worker, time-out, retries, Redis down."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker
from rq.job import Job
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry
from rq.serializers import JSONSerializer
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from core import audit, jobruns, places
from core.accounts import find_by_login
from core.audit import AuditEvent
from core.db import utcnow
from core.notifications import Notification
from portal import jobs
from portal.extensions import db
from tests.conftest import (
    TEST_DATA_KEYS,
    TEST_INDEX_KEY,
    close_app,
    login_as,
    make_app,
    pg_url,
    unavailable,
)
from volunteers.models import Application

# Both databases: job leases, locks and failures.
pytestmark = pytest.mark.both_databases

ROOT = Path(__file__).resolve().parents[2]


# ---- helpers ----------------------------------------------------------------------------------


def rq_app(db_url: str, redis_url: str, prefix: str):
    return make_app(db_url, REDIS_URL=redis_url, RQ_QUEUE_PREFIX=prefix)


def queue_of(app, name: str = "default") -> Queue:
    return Queue(jobs.queue_name(app, name), connection=jobs._redis(app), serializer=JSONSerializer)


def drain(app, queue: Queue) -> tuple[float, float]:
    """Run every job waiting on ``queue`` in this process (RQ's SimpleWorker, no fork).

    Return when it began and ended: a retry scheduled by a job that failed meanwhile counts
    its back-off from a moment between the two.
    """
    began = time.time()
    worker = SimpleWorker(
        [queue],
        connection=queue.connection,
        serializer=JSONSerializer,
        name=f"{queue.name}-simple-{uuid.uuid4().hex[:6]}",
    )
    with app.app_context():
        worker.work(burst=True)
    return began, time.time()


def release_retries(queue: Queue) -> list[float]:
    """Put retries waiting out their back-off on the queue now; return when each fell due.

    This stands in for the worker's scheduler, which would move them when they fall due.
    """
    registry = ScheduledJobRegistry(queue=queue)
    dues = []
    for job_id in registry.get_jobs_to_schedule(timestamp=int(time.time()) + 3600):
        dues.append(queue.connection.zscore(registry.key, job_id))
        job = Job.fetch(job_id, connection=queue.connection, serializer=JSONSerializer)
        registry.remove(job)
        queue.enqueue_job(job)
    return dues


def assert_back_off(retries: list[tuple[tuple[float, float], float]], expected) -> None:
    """Each retry fell due its back-off after its job failed, within the step that ran it.

    ``retries``: for each retry, the (began, ended) window of that step and when the retry fell
    due. RQ adds the interval to the moment of the failure and keeps whole seconds, rounded
    down; bounding the failure by the step's window, not by the time the test reads the
    registry, keeps a slow machine from failing the test (a delay of 7.99 s for 10 did).
    """
    assert len(retries) == len(expected), retries
    for ((began, ended), due), interval in zip(retries, expected, strict=True):
        assert began + interval - 1 < due <= ended + interval, (retries, expected)


def submit(app, kind: str) -> int:
    with app.app_context():
        run = jobs.submit(kind, requested_by_id=None, unit_id=None)
        db.session.commit()  # dispatched to RQ after the commit
        return run.id


def run_state(app, run_id: int) -> tuple[str, int, str | None]:
    with app.app_context():
        run = jobruns.get_run(db.session, run_id)
        state = (run.status, run.attempts, run.error)
        db.session.rollback()
    return state


def effects(app, action: str, run_id: int | None = None) -> int:
    """Count the audit events ``action`` (of run ``run_id``): each job's one lasting effect."""
    query = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    if run_id is not None:
        query = query.where(AuditEvent.object_id == str(run_id))
    with app.app_context():
        count = db.session.scalar(query)
        db.session.rollback()
    return count


def transient_error() -> OperationalError:
    return OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))


def worker_env(db_url: str, redis_url: str, prefix: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "PORTAL_RQ_QUEUE_PREFIX": prefix,
        "SECRET_KEY": "worker-test-key" * 3,
        "PORTAL_DATA_KEYS": TEST_DATA_KEYS,
        "PORTAL_INDEX_KEY": TEST_INDEX_KEY,
    }


def worker_command(prefix: str) -> list[str]:
    name = f"{prefix}-worker-{uuid.uuid4().hex[:6]}"
    return [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst", "--name", name]


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def pg_db_url(request):
    """A fresh PostgreSQL database: the killed worker's job is held up by a table lock."""
    clones = request.getfixturevalue("pg_clones")
    name = clones.take()
    try:
        yield pg_url(name)
    finally:
        clones.drop(name)


class OwnRedis:
    """A disposable redis-server on a spare port, which a test may stop and start again."""

    def __init__(self, binary: str, workdir: Path):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.binary, self.workdir, self.process = binary, workdir, None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        connection = Redis.from_url(self.url, socket_connect_timeout=1)

        def answers() -> bool:
            try:
                return connection.ping()
            except RedisError:
                return False

        wait_until(answers, 10, "redis-server to start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def own_redis(tmp_path):
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("redis-server", "the binary is not on PATH")
    server = OwnRedis(binary, tmp_path)
    server.start()
    yield server
    server.stop()


# ---- J1: redelivery ---------------------------------------------------------------------------


def test_j1_a_redelivered_message_has_one_effect(db_url, redis_url, rq_prefix):
    """The relay's duplicate and a replay of the very same message find the run taken or done."""
    app = rq_app(db_url, redis_url, rq_prefix)
    try:
        run_id = submit(app, "budget.reconcile")
        jobs.dispatch(app, run_id, "budget.reconcile")  # what the relay sends after an outage
        queue = queue_of(app)
        first, duplicate = queue.jobs
        assert queue.count == 2
        drain(app, queue)
        assert first.return_value(refresh=True) == "done"
        assert duplicate.return_value(refresh=True) == "skipped"
        # The same message once more (a replay after a Redis fail-over).
        queue.enqueue_job(
            Job.fetch(first.id, connection=queue.connection, serializer=JSONSerializer)
        )
        drain(app, queue)
        assert first.return_value(refresh=True) == "skipped"
        assert run_state(app, run_id)[:2] == ("succeeded", 1)
        assert effects(app, "budget.reconcile", run_id) == 1
    finally:
        close_app(app)


# ---- J2: the worker killed mid-job -----------------------------------------------------------


def children(pid: int) -> list[int]:
    """Return the ids of the processes whose parent is ``pid``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@pytest.mark.parametrize("horse_survives", [False, True], ids=["crash", "worker-only"])
def test_j2_worker_killed_mid_job_has_one_effect(pg_db_url, redis_url, rq_prefix, horse_survives):
    """SIGKILL while the job waits on a lock the test holds; RQ then retries the job.

    "crash": the worker and its work-horse die, as when the host fails; the retry takes the run
    back. "worker-only": RQ's work-horse runs in a process group of its own, so killing the
    worker's group leaves it running (so would an OOM kill of the worker alone); the retry
    finds it alive and does nothing, and the horse finishes the run.
    """
    app = rq_app(pg_db_url, redis_url, rq_prefix)
    holder = create_engine(pg_db_url)
    lock = holder.connect()
    admin = create_engine(pg_url("postgres"), isolation_level="AUTOCOMMIT")
    worker, horses = None, []
    try:
        # ACCESS EXCLUSIVE blocks even reads: the reconciliation stops at its first look at the
        # budget lines, after it has claimed the run, until the lock goes.
        lock.execute(text("LOCK TABLE budget_line IN ACCESS EXCLUSIVE MODE"))
        run_id = submit(app, "budget.reconcile")
        queue = queue_of(app)
        job = queue.jobs[0]
        database = make_url(pg_db_url).database
        worker = subprocess.Popen(
            worker_command(rq_prefix),
            cwd=ROOT,
            env=worker_env(pg_db_url, redis_url, rq_prefix),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

        def blocked() -> bool:
            with admin.connect() as conn:
                waiting = conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = :db AND wait_event_type = 'Lock'"
                    ),
                    {"db": database},
                ).scalar()
            return bool(waiting) and run_state(app, run_id)[0] == "running"

        wait_until(blocked, 25, "the job to start and block on the lock")
        assert job.get_status(refresh=True) == "started"
        horses = children(worker.pid)
        assert len(horses) == 1
        os.killpg(worker.pid, signal.SIGKILL)
        if not horse_survives:
            os.killpg(os.getpgid(horses[0]), signal.SIGKILL)
            wait_until(lambda: gone(horses[0]), 10, "the work-horse to die")
        worker.wait(timeout=10)
        killed_at = time.monotonic()
        assert run_state(app, run_id)[:2] == ("running", 1)
        assert gone(horses[0]) is not horse_survives

        # RQ gives the job up once its heartbeat expires (about 90 s); the test does not wait.
        began = time.time()
        StartedJobRegistry(queue=queue).cleanup(timestamp=time.time() + 3600)
        given_up = (began, time.time())
        job.refresh()
        assert job.get_status() == "scheduled" and job.retries_left == jobs.RETRY_MAX - 1
        retries = [(given_up, due) for due in release_retries(queue)]
        assert_back_off(retries, jobs.RETRY_INTERVALS[:1])
        if horse_survives:
            drain(app, queue)  # the retry finds the run's lease held: it does nothing
            assert job.return_value(refresh=True) == "skipped"
            lock.rollback()
            wait_until(lambda: run_state(app, run_id)[0] == "succeeded", 20, "the horse")
            assert run_state(app, run_id)[:2] == ("succeeded", 1)
        else:
            lock.rollback()
            drain(app, queue)
            assert job.return_value(refresh=True) == "done"
            # The retry took the run back as attempt 2; the killed attempt left nothing behind.
            assert run_state(app, run_id)[:2] == ("succeeded", 2)
        recovered = time.monotonic() - killed_at
        assert job.id not in FailedJobRegistry(queue=queue)
        assert effects(app, "budget.reconcile", run_id) == 1
        variant = "worker-only" if horse_survives else "crash"
        print(f"J2 {variant}: run done {recovered:.2f} s after the kill")
    finally:
        for pid in horses:
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)
        if worker is not None and worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
        lock.close()
        holder.dispose()
        admin.dispose()
        close_app(app)


# ---- J3: time-out -----------------------------------------------------------------------------


def test_j3_a_job_over_its_time_limit_fails_and_its_writes_roll_back(
    db_url, redis_url, rq_prefix, monkeypatch
):
    def slow_write(run_id, progress):
        audit.record(
            db.session,
            action="test.slow_write",
            object_type="job_run",
            object_id=run_id,
            actor_id=None,
        )
        db.session.flush()  # written, not committed, when the time limit strikes
        time.sleep(30)

    spec = jobs.JobSpec("test.slow_write", "default", slow_write, timeout=1)
    monkeypatch.setitem(jobs.JOBS, spec.kind, spec)
    app = rq_app(db_url, redis_url, rq_prefix)
    try:
        run_id = submit(app, spec.kind)
        queue = queue_of(app)
        job = queue.jobs[0]
        started = time.monotonic()
        drain(app, queue)
        assert time.monotonic() - started < 10
        status, attempts, error = run_state(app, run_id)
        assert (status, attempts) == ("failed", 1)
        assert error.startswith("JobTimeoutException")
        assert effects(app, "test.slow_write") == 0
        # A time-out would recur: not retried, failed at once.
        assert job.get_status(refresh=True) == "failed" and job.id in FailedJobRegistry(queue=queue)
        assert release_retries(queue) == []
        with app.app_context():
            assert audit.verify_chain(db.session).ok
    finally:
        close_app(app)


# ---- J4: retries ------------------------------------------------------------------------------


def test_j4_transient_failures_are_retried_with_back_off_then_succeed(
    db_url, redis_url, rq_prefix, monkeypatch
):
    calls = []

    def flaky(run_id, progress):
        calls.append(run_id)
        if len(calls) < 3:
            raise transient_error()
        audit.record(
            db.session, action="test.flaky", object_type="job_run", object_id=run_id, actor_id=None
        )
        jobruns.finish(db.session, run_id, result="{}")
        db.session.commit()

    monkeypatch.setitem(jobs.JOBS, "test.flaky", jobs.JobSpec("test.flaky", "default", flaky))
    app = rq_app(db_url, redis_url, rq_prefix)
    try:
        run_id = submit(app, "test.flaky")
        queue = queue_of(app)
        job = queue.jobs[0]
        retries = []
        for _ in range(3):
            step = drain(app, queue)
            retries += [(step, due) for due in release_retries(queue)]
        assert len(calls) == 3
        assert_back_off(retries, jobs.RETRY_INTERVALS[:2])
        assert job.get_status(refresh=True) == "finished"
        assert run_state(app, run_id) == ("succeeded", 3, None)
        assert effects(app, "test.flaky", run_id) == 1
    finally:
        close_app(app)


def test_j4_exhausted_retries_land_in_the_failed_registry_and_on_the_operations_page(
    db_url, redis_url, rq_prefix, monkeypatch
):
    state = {"broken": True, "calls": 0}

    def unreachable(run_id, progress):
        state["calls"] += 1
        if state["broken"]:
            raise transient_error()
        audit.record(
            db.session, action="test.fixed", object_type="job_run", object_id=run_id, actor_id=None
        )
        jobruns.finish(db.session, run_id, result="{}")
        db.session.commit()

    spec = jobs.JobSpec("test.unreachable", "default", unreachable)
    monkeypatch.setitem(jobs.JOBS, spec.kind, spec)
    app = rq_app(db_url, redis_url, rq_prefix)
    try:
        run_id = submit(app, spec.kind)
        queue = queue_of(app)
        job = queue.jobs[0]
        retries = []
        step = drain(app, queue)
        # Between attempts the run shows failed, with the error and a note of the retry.
        status, _attempts, error = run_state(app, run_id)
        assert status == "failed" and "retried automatically" in error
        while True:
            waiting = release_retries(queue)
            if not waiting:
                break
            retries += [(step, due) for due in waiting]
            step = drain(app, queue)
        assert state["calls"] == 1 + jobs.RETRY_MAX
        assert_back_off(retries, jobs.RETRY_INTERVALS)
        assert job.get_status(refresh=True) == "failed"
        assert job.id in FailedJobRegistry(queue=queue)
        status, attempts, error = run_state(app, run_id)
        assert (status, attempts) == ("failed", 1 + jobs.RETRY_MAX)
        assert "server closed the connection" in error and "retried" not in error

        admin = app.test_client()
        login_as(admin, "admin@demo.kz")
        page = admin.get("/admin/operations").data.decode()
        retry_url = f"/admin/operations/runs/{run_id}/retry"
        assert retry_url in page and "server closed the connection" in page
        state["broken"] = False  # the outage is over; the administrator runs it again
        response = admin.post(retry_url)
        assert response.status_code == 302
        assert run_state(app, run_id)[0] == "queued"
        drain(app, queue)
        assert run_state(app, run_id) == ("succeeded", 2 + jobs.RETRY_MAX, None)
        assert effects(app, "test.fixed", run_id) == 1
        assert effects(app, "job.retry", run_id) == 1
        assert f"{retry_url}" not in admin.get("/admin/operations").data.decode()
    finally:
        close_app(app)


def test_j4_a_lasting_failure_is_not_retried(db_url, redis_url, rq_prefix, monkeypatch):
    def broken(run_id, progress):
        raise ValueError("column 7 is not a date")

    monkeypatch.setitem(jobs.JOBS, "test.broken", jobs.JobSpec("test.broken", "default", broken))
    app = rq_app(db_url, redis_url, rq_prefix)
    try:
        run_id = submit(app, "test.broken")
        queue = queue_of(app)
        job = queue.jobs[0]
        drain(app, queue)
        assert release_retries(queue) == []
        assert job.id in FailedJobRegistry(queue=queue)
        assert run_state(app, run_id) == ("failed", 1, "ValueError: column 7 is not a date")
    finally:
        close_app(app)


def test_a_late_retry_after_an_administrators_retry_is_a_no_op(
    db_url, redis_url, rq_prefix, monkeypatch
):
    """Two messages for one run: whichever claims it first runs it, the other does nothing."""
    calls = []

    def once_flaky(run_id, progress):
        calls.append(run_id)
        if len(calls) == 1:
            raise transient_error()
        audit.record(
            db.session, action="test.once", object_type="job_run", object_id=run_id, actor_id=None
        )
        jobruns.finish(db.session, run_id, result="{}")
        db.session.commit()

    spec = jobs.JobSpec("test.once", "default", once_flaky)
    monkeypatch.setitem(jobs.JOBS, spec.kind, spec)
    app = rq_app(db_url, redis_url, rq_prefix)
    try:
        run_id = submit(app, spec.kind)
        queue = queue_of(app)
        drain(app, queue)  # attempt 1 fails; RQ's retry waits out its back-off
        with app.app_context():
            assert jobs.retry(run_id)  # meanwhile an administrator runs it again
            db.session.commit()
        drain(app, queue)  # attempt 2 succeeds
        release_retries(queue)
        drain(app, queue)  # the late retry finds the run claimed since: skipped
        assert len(calls) == 2
        assert run_state(app, run_id) == ("succeeded", 2, None)
        assert effects(app, "test.once", run_id) == 1
    finally:
        close_app(app)


def test_an_execution_given_up_on_cannot_commit_after_the_retry_took_the_run(db_url, monkeypatch):
    """The fencing check: a zombie's commit fails once another delivery has claimed the run."""
    from sqlalchemy.orm import Session

    def overtaken(run_id, progress):
        # Meanwhile RQ has given this execution up and its retry claimed the run (attempt 2).
        with Session(db.engine) as other:
            assert jobruns.claim(other, run_id, retry_of=1)
            other.commit()
        audit.record(
            db.session, action="test.zombie", object_type="job_run", object_id=run_id, actor_id=None
        )
        jobruns.finish(db.session, run_id, result="{}")
        db.session.commit()

    spec = jobs.JobSpec("test.zombie", "default", overtaken)
    monkeypatch.setitem(jobs.JOBS, spec.kind, spec)
    app = make_app(db_url)
    try:
        with app.app_context():
            run = jobruns.create_run(db.session, kind=spec.kind, requested_by_id=None, unit_id=None)
            db.session.commit()  # not dispatched: jobs.submit was not used
            run_id = run.id
            assert jobs.execute(run_id) == "superseded"
        assert run_state(app, run_id) == ("running", 2, None)
        assert effects(app, "test.zombie") == 0
    finally:
        close_app(app)


def test_relay_sends_again_a_run_abandoned_while_running(db_url, redis_url, rq_prefix):
    """No retry came (its message was lost with Redis): past its time limit the relay sends it."""
    app = rq_app(db_url, redis_url, rq_prefix)
    try:
        run_id = submit(app, "budget.reconcile")
        queue = queue_of(app)
        queue.empty()
        spec = jobs.JOBS["budget.reconcile"]
        with app.app_context():
            long_ago = utcnow() - spec.stale_after - dt.timedelta(minutes=1)
            assert jobruns.claim(db.session, run_id, now=long_ago)
            db.session.commit()
        # The count also takes in the demo's pending notifications, old by now on a slow run.
        assert jobs.relay_stale(app) >= 1
        drain(app, queue)
        assert run_state(app, run_id)[:2] == ("succeeded", 2)
        assert effects(app, "budget.reconcile", run_id) == 1
    finally:
        close_app(app)


# ---- J5: Redis down ---------------------------------------------------------------------------


def test_j5_with_redis_down_requests_succeed_and_the_backlog_drains_once(db_url, own_redis):
    prefix = f"portal-test-{uuid.uuid4().hex[:10]}"
    app = rq_app(db_url, own_redis.url, prefix)
    try:
        finance, deputy, police, admin = (app.test_client() for _ in range(4))
        for client, who in (
            (finance, "finance@demo.kz"),
            (deputy, "deputy@demo.kz"),
            (police, "coordinator@demo.kz"),
            (admin, "admin@demo.kz"),
        ):
            login_as(client, who)
        own_redis.stop()

        reconcile = finance.post("/finance/reconcile")
        export = deputy.post("/oversight/exports", data={"dataset": "register", "format": "csv"})
        assert reconcile.status_code == 302 and export.status_code == 302
        run_ids = [int(r.headers["Location"].rsplit("/", 1)[1]) for r in (reconcile, export)]
        assert finance.get(f"/jobs/{run_ids[0]}").status_code == 200
        # A state change that enqueues nothing is untouched by the outage.
        with app.app_context():
            coordinator = find_by_login(db.session, "coordinator@demo.kz")
            application_id = next(
                a.id
                for a in db.session.scalars(
                    select(Application).where(Application.status == "submitted")
                )
                if places.within(db.session, a.unit_id, coordinator.scope("coordinator"))
            )
            notes = db.session.scalar(
                select(func.count())
                .select_from(Notification)
                .where(Notification.status == "pending")
            )
            db.session.rollback()
        step = police.post(f"/volunteers/applications/{application_id}/take")
        assert step.status_code == 302
        # The operations page says Redis does not answer, and still shows the runs.
        operations = admin.get("/admin/operations")
        assert operations.status_code == 200
        for run_id in run_ids:
            assert run_state(app, run_id) == ("queued", 0, None)

        own_redis.start()  # back, empty: the queued messages were lost with it
        started = time.monotonic()
        assert jobs.relay_stale(app, older_than=dt.timedelta(0)) == len(run_ids) + notes
        relayed = time.monotonic() - started
        done = subprocess.run(
            worker_command(prefix),
            cwd=ROOT,
            env=worker_env(db_url, own_redis.url, prefix),
            capture_output=True,
            text=True,
            timeout=120,
        )
        drained = time.monotonic() - started
        assert done.returncode == 0, done.stderr[-2000:]
        for run_id in run_ids:
            assert run_state(app, run_id) == ("succeeded", 1, None), done.stderr[-2000:]
        assert effects(app, "budget.reconcile", run_ids[0]) == 1
        assert effects(app, "oversight.export", run_ids[1]) == 1
        print(
            f"J5 backlog of {len(run_ids)} runs drained {drained:.2f} s after Redis returned "
            f"(relay {relayed * 1000:.0f} ms, the rest a worker's start and the jobs)"
        )
    finally:
        close_app(app)
