"""Executing one job run: claim, lease, fence, progress, and the failure recorded or retried."""

from __future__ import annotations

import logging
import time

from flask import Flask, current_app, has_app_context
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from core import jobruns
from core.jobs import Progress
from portal.database import READ_ONLY_OPTION
from portal.extensions import db
from portal.jobs.registry import (
    _FENCE,
    ATTEMPT_TTL,
    JOBS,
    LEASE_SPACE,
    JobSpec,
    transient,
)
from portal.observability import log_context

log = logging.getLogger("portal.jobs")  # one logger for the runtime, as operators filter it


def execute(run_id: int) -> str:
    """Run one job run: claim it, run its body, record success or failure. Safe to repeat.

    Every delivery of a run's message comes here; only the one that claims the run runs it,
    the others return "skipped". A failure is recorded on the run (visible to administrators,
    with a retry button) and raised to RQ, which runs the message again only when the failure
    is transient and retries are left; that retry may take the run back (``jobruns.claim``).

    RQ retries a job when it believes its execution died; a work-horse may outlive its worker
    though (it runs in a process group of its own). So an execution holds a lease while it
    runs (on PostgreSQL), and each commit of the body checks that its claim is still the
    latest: an execution that was given up on cannot apply its effects after the retry's.
    """
    rq_job = _current_rq_job()
    kind = db.session.scalar(select(jobruns.JobRun.kind).where(jobruns.JobRun.id == run_id))
    db.session.rollback()
    if kind is None:
        return "skipped"
    with log_context(job_id=run_id, job_kind=kind):
        return _execute(JOBS[kind], run_id, rq_job)


def _execute(spec: JobSpec, run_id: int, rq_job) -> str:
    lease = _take_lease(run_id)
    if lease is False:
        return "skipped"  # an execution of this run is alive, wherever RQ thinks it is
    try:
        claimed = jobruns.claim(
            db.session, run_id, stale_after=spec.stale_after, retry_of=_claimed_attempt(rq_job)
        )
        if not claimed:
            db.session.rollback()
            return "skipped"
        attempt = db.session.scalar(
            select(jobruns.JobRun.attempts).where(jobruns.JobRun.id == run_id)
        )
        db.session.commit()
        _remember_attempt(rq_job, attempt)
        db.session.info[_FENCE] = (run_id, attempt)
        try:
            return _perform(spec, run_id, rq_job)
        finally:
            db.session.info.pop(_FENCE, None)
    finally:
        _release_lease(lease, run_id)


def _perform(spec: JobSpec, run_id: int, rq_job) -> str:
    try:
        spec.body(run_id, _progress_reporter(run_id))
    except jobruns.Superseded:
        db.session.rollback()
        log.warning("job run %s was claimed again meanwhile; this execution's work is void", run_id)
        return "superseded"
    except Exception as exc:
        db.session.rollback()
        again = _retried(rq_job, exc)
        error = f"{type(exc).__name__}: {exc}"
        if again:
            error += " (transient: retried automatically)"
        try:
            jobruns.fail(db.session, run_id, error=error)
            if not again:  # a failure RQ retries may still pass: no alarm yet
                jobruns.notify_failure(db.session, run_id)
            db.session.commit()
        except jobruns.Superseded:
            db.session.rollback()
            return "superseded"
        except Exception:
            # The database is what failed: the run stays running, and RQ's retry (or, failing
            # that, the relay once the run is stale) takes it back.
            db.session.rollback()
            log.exception("could not record the failure of job run %s", run_id)
        _failed(spec, run_id, error, retried=again)
        raise
    found = db.session.execute(
        select(jobruns.JobRun.status, jobruns.JobRun.message).where(jobruns.JobRun.id == run_id)
    ).one()
    db.session.rollback()
    if found.status == "failed":  # the body's check found a fault (a broken chain, drift)
        _failed(spec, run_id, found.message, retried=False)
        return "failed"
    log.info("job run %s (%s) %s", run_id, spec.kind, found.status)
    return "done"


def _failed(spec: JobSpec, run_id: int, error: str, *, retried: bool) -> None:
    """Log a failed run as one ERROR line (its id and kind are the line's fields)."""
    log.error(
        "job run %s (%s) failed%s: %s",
        run_id,
        spec.kind,
        " (retried automatically)" if retried else "",
        error,
        extra={"extra_fields": {"job_id": run_id, "job_kind": spec.kind, "status": "failed"}},
    )


def _take_lease(run_id: int):
    """Hold a session advisory lock on PostgreSQL while the run executes; False if taken.

    It lives on a connection of its own, which dies with the process: a lock still held means
    an execution is still alive. (SQLite has no such lock: there the claim check alone holds.)
    """
    if db.engine.dialect.name != "postgresql":
        return None
    conn = db.engine.execution_options(**{READ_ONLY_OPTION: True}).connect()
    try:
        taken = conn.execute(
            text("SELECT pg_try_advisory_lock(:space, :run)"),
            {"space": LEASE_SPACE, "run": run_id},
        ).scalar()
        conn.commit()  # a session lock outlives the transaction; the connection idles
    except Exception:
        conn.close()
        raise
    if not taken:
        conn.close()
        return False
    return conn


def _release_lease(conn, run_id: int) -> None:
    if not conn:
        return
    try:
        conn.execute(
            text("SELECT pg_advisory_unlock(:space, :run)"), {"space": LEASE_SPACE, "run": run_id}
        )
        conn.commit()
    except Exception:
        # A pooled connection must not keep the lock: drop it, and the server releases it.
        conn.invalidate()
        log.exception("could not release the lease of job run %s", run_id)
    finally:
        conn.close()


def _check_claim_before_commit(session: Session) -> None:
    # The fencing check (see execute): only while a job body runs in this session.
    fence = session.info.get(_FENCE)
    if fence is not None:
        jobruns.check_claim(session, *fence)


def _current_rq_job():
    from rq import get_current_job

    return get_current_job()


def _attempt_key(rq_job) -> str:
    return f"rq:job:{rq_job.id}:portal-attempt"


def _claimed_attempt(rq_job) -> int | None:
    """Return the attempt of the run that this RQ job claimed in an earlier execution."""
    if rq_job is None:
        return None
    try:
        value = rq_job.connection.get(_attempt_key(rq_job))
    except Exception:
        log.exception("could not read the claimed attempt of %s", rq_job.id)
        return None
    return int(value) if value else None


def _remember_attempt(rq_job, attempt: int) -> None:
    # A key of its own rather than job.meta: when a work-horse is killed, RQ saves the job
    # from its parent's copy and would drop what the horse wrote into meta.
    if rq_job is None:
        return
    try:
        rq_job.connection.set(_attempt_key(rq_job), attempt, ex=ATTEMPT_TTL)
    except Exception:
        # Without it a retry cannot take the run back; the relay does once the run is stale.
        log.exception("could not note the claimed attempt of %s", rq_job.id)


def _retried(rq_job, exc: BaseException) -> bool:
    """Tell whether RQ will run the message again after ``exc``; stop it for lasting failures."""
    if rq_job is None:
        return False  # the in-process runner does not retry
    if not transient(exc):
        # RQ reads this attribute of the job being performed when the body has raised.
        rq_job.retries_left = 0
        return False
    return bool(rq_job.retries_left)


def run_job(run_id: int) -> str:
    """The RQ entry point: run ``run_id`` inside an app context, creating the app if needed."""
    if has_app_context():
        return execute(run_id)
    from portal import create_app

    app = create_app()
    with app.app_context():
        return execute(run_id)


def _progress_reporter(run_id: int) -> Progress:
    """Return a callback that commits progress on its own connection, at most twice a second."""
    last = {"at": 0.0, "pct": -1}

    def report(percent: int, message: str = "") -> None:
        now = time.monotonic()
        if percent == last["pct"] or (now - last["at"] < 0.5 and percent < 100):
            return
        last.update(at=now, pct=percent)
        sqlite = db.engine.dialect.name == "sqlite"
        # A connection of its own that never takes the audit chain's lock (it writes no audit
        # event): the job's own transaction may hold that lock, and waiting for it would hang.
        with db.engine.execution_options(**{READ_ONLY_OPTION: True}).connect() as conn:
            raw = conn.connection.dbapi_connection
            if sqlite:
                # The job's own transaction may hold SQLite's single write lock: then skip
                # this update at once rather than wait (the result shows at the end).
                raw.execute("PRAGMA busy_timeout=50")
            try:
                with Session(bind=conn) as session:
                    jobruns.set_progress(session, run_id, percent, message)
                    session.commit()
            except OperationalError:
                if not sqlite:
                    raise
            finally:
                if sqlite:
                    raw.execute("PRAGMA busy_timeout=15000")

    return report


def _run_in_app(app: Flask, run_id: int) -> None:
    with app.app_context():
        try:
            execute(run_id)
        except Exception:
            log.exception("in-process job run %s failed", run_id)


def _send_in_app(app: Flask, note_id: int) -> None:
    with app.app_context():
        try:
            send_notification(note_id)
        except Exception:
            log.exception("notification %s failed", note_id)


def send_notification(note_id: int) -> str:
    """The RQ entry point for one notification; safe to run twice."""
    from portal.mail import deliver

    if has_app_context():
        return deliver(current_app._get_current_object(), db.session, note_id)
    from portal import create_app

    app = create_app()
    with app.app_context():
        return deliver(app, db.session, note_id)
