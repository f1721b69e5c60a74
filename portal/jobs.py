"""Background jobs: the registry, enqueue after commit, RQ and in-process runners, bodies."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from flask import Flask, current_app, has_app_context
from sqlalchemy import event, select, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from core import audit, jobruns
from core.db import utcnow
from core.notifications import Notification
from portal.database import READ_ONLY_OPTION, read_only
from portal.extensions import db

log = logging.getLogger(__name__)
_PENDING = "portal_pending_jobs"
_NOTES = "portal_pending_notifications"
_FENCE = "portal_job_claim"
Progress = Callable[[int, str], None]

# RQ re-runs a job whose body failed transiently, after 10, 30 and 60 s (the intervals need a
# worker running its scheduler, as `flask worker` does); it retries a job whose worker died too.
RETRY_MAX = 3
RETRY_INTERVALS = (10, 30, 60)
# RQ interrupts a job at its time limit and its worker kills it a minute later at the latest:
# a run still "running" this long after its limit has lost its worker and may be taken back.
STALE_MARGIN = dt.timedelta(minutes=5)
# How long a worker remembers which attempt of a run its message claimed (for its retries).
ATTEMPT_TTL = 7 * 86400
# First key of the PostgreSQL advisory locks held while a run executes (the second: its id).
LEASE_SPACE = 0x6A6F6273


@dataclasses.dataclass(frozen=True)
class JobSpec:
    """A job kind: which queue carries it, its body and its time limit in seconds."""

    kind: str
    queue: str
    body: Callable[[int, Progress], None]
    timeout: int = 1800

    @property
    def stale_after(self) -> dt.timedelta:
        """How long a run of this kind may stay running before it counts as abandoned."""
        return dt.timedelta(seconds=self.timeout) + STALE_MARGIN


JOBS: dict[str, JobSpec] = {}


def job(kind: str, *, queue: str = "default", timeout: int = 1800):
    """Register ``body(run_id, progress)`` as the job of ``kind``."""

    def register(body):
        JOBS[kind] = JobSpec(kind, queue, body, timeout)
        return body

    return register


def submit(
    kind: str,
    *,
    requested_by_id: int | None,
    unit_id: int | None,
    params: dict | None = None,
    schedule_slot: str | None = None,
) -> jobruns.JobRun:
    """Write a queued job run in the current transaction; it is dispatched after the commit."""
    if kind not in JOBS:
        raise KeyError(kind)
    run = jobruns.create_run(
        db.session,
        kind=kind,
        requested_by_id=requested_by_id,
        unit_id=unit_id,
        params=params,
        schedule_slot=schedule_slot,
    )
    db.session.info.setdefault(_PENDING, []).append((run.id, kind))
    return run


def retry(run_id: int) -> bool:
    """Queue a failed run again in the current transaction; it is dispatched after the commit."""
    run = jobruns.get_run(db.session, run_id)
    if not jobruns.requeue(db.session, run_id):
        return False
    db.session.info.setdefault(_PENDING, []).append((run.id, run.kind))
    return True


def queue_lengths(app: Flask) -> dict[str, int] | None:
    """Return the number of waiting RQ jobs per queue, or None without Redis."""
    if not app.config.get("REDIS_URL"):
        return None
    from rq import Queue

    connection = _redis(app)
    names = sorted({spec.queue for spec in JOBS.values()} | {"mail"})
    return {name: len(Queue(queue_name(app, name), connection=connection)) for name in names}


def queue_name(app: Flask, queue: str) -> str:
    """Return the Redis queue name for ``queue`` under this deployment's prefix."""
    return f"{app.config['RQ_QUEUE_PREFIX']}-{queue}"


def _redis(app: Flask):
    from redis import Redis

    return Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=3, socket_timeout=10)


def _retry():
    from rq import Retry

    return Retry(max=RETRY_MAX, interval=list(RETRY_INTERVALS))


def transient(exc: BaseException) -> bool:
    """Tell whether a job's failure may pass by itself, so that RQ should run it again.

    Transient: the database unreachable, restarting or dropping the connection, a lock or
    serialization conflict, a network error or time-out. Anything else (a refused business
    rule, bad data, a bug, the job's own time limit) would fail the same way again: the run
    is failed at once and an administrator runs it again from the operations page.
    """
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated or isinstance(exc, OperationalError)
    return isinstance(exc, (ConnectionError, TimeoutError))


def dispatch(app: Flask, run_id: int, kind: str) -> None:
    """Hand one committed run to RQ, or to the in-process runner when there is no Redis."""
    spec = JOBS[kind]
    if app.config.get("REDIS_URL"):
        from rq import Queue
        from rq.serializers import JSONSerializer

        queue = Queue(
            queue_name(app, spec.queue), connection=_redis(app), serializer=JSONSerializer
        )
        queue.enqueue(
            "portal.jobs.run_job",
            run_id,
            job_id=f"{app.config['RQ_QUEUE_PREFIX']}-jobrun-{run_id}-{int(time.time() * 1000)}",
            job_timeout=spec.timeout,
            retry=_retry(),
            failure_ttl=30 * 86400,
        )
    else:
        app.extensions["portal_executor"].submit(_run_in_app, app, run_id)


def _run_in_app(app: Flask, run_id: int) -> None:
    with app.app_context():
        try:
            execute(run_id)
        except Exception:
            log.exception("in-process job run %s failed", run_id)


def _after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending or not has_app_context():
        return
    app = current_app._get_current_object()
    for run_id, kind in pending:
        try:
            dispatch(app, run_id, kind)
        except Exception:
            # The run stays queued in the database; the worker's relay sends it again.
            log.exception("could not enqueue job run %s; it stays queued for the relay", run_id)


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_NOTES, None)


def _after_flush(session: Session, _context) -> None:
    notes = [obj.id for obj in session.new if isinstance(obj, Notification)]
    if notes:
        session.info.setdefault(_NOTES, []).extend(notes)


def _send_notes_after_commit(session: Session) -> None:
    notes = session.info.pop(_NOTES, None)
    if not notes or not has_app_context():
        return
    app = current_app._get_current_object()
    for note_id in notes:
        try:
            if app.config.get("REDIS_URL"):
                from rq import Queue
                from rq.serializers import JSONSerializer

                Queue(
                    queue_name(app, "mail"), connection=_redis(app), serializer=JSONSerializer
                ).enqueue(
                    "portal.jobs.send_notification",
                    note_id,
                    retry=_retry(),
                    job_timeout=120,
                )
            else:
                app.extensions["portal_executor"].submit(_send_in_app, app, note_id)
        except Exception:
            log.exception("could not enqueue notification %s; the relay sends it", note_id)


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
    spec = JOBS[kind]
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
            db.session.commit()
        except jobruns.Superseded:
            db.session.rollback()
            return "superseded"
        except Exception:
            # The database is what failed: the run stays running, and RQ's retry (or, failing
            # that, the relay once the run is stale) takes it back.
            db.session.rollback()
            log.exception("could not record the failure of job run %s", run_id)
        raise
    return "done"


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


def relay_stale(app: Flask, older_than: dt.timedelta = dt.timedelta(seconds=30)) -> int:
    """Send again runs still queued after ``older_than``, and runs abandoned while running.

    Queued: the enqueue after the commit was lost (Redis down or restarted). Running past
    the kind's time limit: the worker died and no retry of its message took the run back.
    """
    run = jobruns.JobRun
    with app.app_context():
        now = utcnow()
        runs = db.session.execute(
            select(run.id, run.kind).where(
                run.status == "queued", run.created_at < now - older_than
            )
        ).all()
        running = db.session.execute(
            select(run.id, run.kind, run.started_at).where(
                run.status == "running", run.started_at < now - STALE_MARGIN
            )
        ).all()
        runs += [
            (run_id, kind)
            for run_id, kind, started_at in running
            if kind in JOBS and started_at < now - JOBS[kind].stale_after
        ]
        db.session.rollback()
        for run_id, kind in runs:
            dispatch(app, run_id, kind)
        notes = db.session.scalars(
            select(Notification.id).where(
                Notification.status == "pending", Notification.created_at < utcnow() - older_than
            )
        ).all()
        db.session.rollback()
        db.session.info[_NOTES] = list(notes)
        _send_notes_after_commit(db.session)
        return len(runs) + len(notes)


def install(app: Flask) -> None:
    """Create the in-process runner and hook dispatching to session commits."""
    app.extensions["portal_executor"] = ThreadPoolExecutor(
        max_workers=1, thread_name_prefix="portal-job"
    )
    if not getattr(install, "_hooked", False):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "after_commit", _send_notes_after_commit)
        event.listen(Session, "before_commit", _check_claim_before_commit)
        install._hooked = True


# ---- job bodies -------------------------------------------------------------------------------


@job("audit.verify", queue="audit", timeout=3600)
def verify_audit_chain(run_id: int, progress: Progress) -> None:
    """Verify the whole audit chain, record the outcome in the chain and on the run."""
    progress(1, "")
    with read_only():
        report = verify_chain_with_progress(progress)
        db.session.rollback()
    run = jobruns.get_run(db.session, run_id)
    audit.record(
        db.session,
        action="audit.verify",
        object_type="job_run",
        object_id=run_id,
        actor_id=run.requested_by_id,
        payload=report.as_dict(),
    )
    jobruns.finish(db.session, run_id, result=json.dumps(report.as_dict()))
    db.session.commit()


def verify_chain_with_progress(progress: Progress) -> audit.ChainReport:
    """Run ``audit.verify_chain`` and turn its counts into percent."""
    return audit.verify_chain(
        db.session,
        progress=lambda done, total: progress(min(99, int(done * 100 / max(total, 1))), ""),
    )


def finish_import(run_id: int, user, report, filename: str) -> None:
    """Store an import's rows that were not imported as a CSV in the user's language; finish."""
    from flask_babel import force_locale, gettext

    from core import uploads
    from volunteers import importing

    with force_locale(user.preferred_language):
        content = importing.error_report_csv(
            report,
            lambda message, values: gettext(message, **values),
            (gettext("Row"), gettext("Problem")),
        )
    stored = uploads.store(
        db.session,
        filename=filename,
        content_type="text/csv",
        content=content,
        owner_id=user.id,
    )
    jobruns.finish(
        db.session, run_id, result=json.dumps(report.as_dict()), result_file_id=stored.id
    )
    db.session.commit()


@job("members.import", queue="default", timeout=3600)
def import_members(run_id: int, progress: Progress) -> None:
    """Import an uploaded register file; the rows not imported go to a downloadable report."""
    from core import accounts, clock, uploads
    from volunteers import importing

    run = jobruns.get_run(db.session, run_id)
    params = json.loads(run.params)
    upload = uploads.get_file(db.session, params["file_id"])
    user = accounts.get_user(db.session, run.requested_by_id)
    rows = importing.read_table(upload.content, upload.filename)
    progress(2, "")
    report = importing.import_rows(
        db.session,
        rows,
        actor_id=user.id,
        scope_ids=user.scope("registrar"),
        today=clock.today(),
        progress=progress,
    )
    finish_import(run_id, user, report, f"import-{run_id}-problems.csv")


@job("members.expire", queue="default", timeout=600)
def expire_members(run_id: int, progress: Progress) -> None:
    """Mark memberships whose certificate expired before today (daily; safe to repeat)."""
    from core import clock
    from volunteers import register

    expired = register.expire_due(db.session, today=clock.today())
    jobruns.finish(db.session, run_id, result=json.dumps({"expired": expired}))
    db.session.commit()


def reconcile_books() -> list:
    """Run every reconciliation check of the books in one read-only snapshot; return findings.

    Lines against their ledger and their verified decisions, approved rewards against their
    commitments, payouts against their disbursements (``incentives.reconcile.everything``).
    The CLI ``flask budget reconcile`` and the nightly job both run this.
    """
    from incentives import reconcile

    with read_only():
        if db.engine.dialect.name == "postgresql":
            # Sums and counters from one snapshot: an entry committed between the two reads
            # would otherwise look like a drift. (An SQLite transaction is one snapshot.)
            db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        try:
            return reconcile.everything(db.session)
        finally:
            db.session.rollback()


@job("budget.reconcile", queue="default", timeout=1800)
def reconcile_budget(run_id: int, progress: Progress) -> None:
    """Reconcile the books (lines, decisions, rewards, payouts); record the outcome (nightly)."""
    from incentives import reconcile

    progress(1, "")
    findings = reconcile_books()
    report = reconcile.report(findings)
    if findings:
        log.error(
            "budget reconcile: %d difference(s): %s",
            len(findings),
            "; ".join(f.describe() for f in findings[:20]),
        )
    run = jobruns.get_run(db.session, run_id)
    audit.record(
        db.session,
        action="budget.reconcile",
        object_type="job_run",
        object_id=run_id,
        actor_id=run.requested_by_id,
        payload=report,
    )
    jobruns.finish(db.session, run_id, result=json.dumps(report))
    db.session.commit()


@job("shifts.close", queue="default", timeout=600)
def close_shifts(run_id: int, progress: Progress) -> None:
    """Close ended shifts: no-shows, completed attendance and its patrol hours (hourly)."""
    from volunteers import shifts

    closed = shifts.close_ended(db.session, now=utcnow())
    jobruns.finish(db.session, run_id, result=json.dumps({"closed": closed}))
    db.session.commit()


@job("shifts.remind", queue="default", timeout=600)
def remind_shifts(run_id: int, progress: Progress) -> None:
    """Remind those signed up for tomorrow's shifts (daily; each sign-up once)."""
    from core import clock
    from volunteers import shifts

    tomorrow = clock.today() + dt.timedelta(days=1)
    start, end = clock.local_day_bounds(tomorrow)
    sent = shifts.remind(db.session, day_start=start, day_end=end)
    jobruns.finish(db.session, run_id, result=json.dumps({"reminded": sent}))
    db.session.commit()


@job("sober.indicators_import", queue="default", timeout=3600)
def import_sober_indicators(run_id: int, progress: Progress) -> None:
    """Import an uploaded indicators file; the rows not imported go to a downloadable report."""

    from core import accounts, clock, uploads
    from incentives import sober

    run = jobruns.get_run(db.session, run_id)
    params = json.loads(run.params)
    upload = uploads.get_file(db.session, params["file_id"])
    user = accounts.get_user(db.session, run.requested_by_id)
    rows = sober.read_indicator_table(upload.content, upload.filename)
    progress(2, "")
    report = sober.import_indicator_rows(
        db.session,
        rows,
        actor_id=user.id,
        scope_ids=user.scope("coordinator"),
        today=clock.today(),
        progress=progress,
    )
    finish_import(run_id, user, report, f"indicators-{run_id}-problems.csv")


@job("oversight.flags", queue="default", timeout=3600)
def compute_flags(run_id: int, progress: Progress) -> None:
    """Compute the red flags of the run's jurisdiction (all when none); keep them on the run."""
    from incentives import flags

    run = jobruns.get_run(db.session, run_id)
    unit_id = run.unit_id
    scope = None if unit_id is None else [unit_id]
    db.session.rollback()
    progress(1, "")
    with read_only():
        if db.engine.dialect.name == "postgresql":
            db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        report = flags.compute_all(db.session, scope, progress=lambda pct: progress(pct, ""))
        db.session.rollback()
    report.update(unit_id=unit_id, computed_at=utcnow().isoformat())
    jobruns.finish(db.session, run_id, result=json.dumps(report))
    db.session.commit()


EXPORTERS = ("deputy", "finance", "admin")


@job("oversight.export", queue="default", timeout=7200)
def export_table(run_id: int, progress: Progress) -> None:
    """Stream an export (CSV or XLSX) into a file the requester downloads from the run's page."""
    import os
    import tempfile

    from flask_babel import force_locale, gettext

    from core import accounts, clock, places, uploads
    from incentives import exports
    from portal.labels import EXPORT_CODE_LABELS, EXPORT_DATASET_LABELS

    run = jobruns.get_run(db.session, run_id)
    params = json.loads(run.params)
    dataset_name, fmt = params["dataset"], params["format"]
    filters = exports.Filters.from_dict(params)
    user = accounts.get_user(db.session, run.requested_by_id)
    user_id, scope, lang = user.id, user.scope(*EXPORTERS), user.preferred_language
    unit = db.session.get(places.AdminUnit, filters.unit_id) if filters.unit_id else None
    unit_name = (unit.name_kk if lang == "kk" else unit.name_ru) if unit else None
    db.session.rollback()  # the export reads in a transaction of its own
    generated_at = utcnow()
    progress(1, "")
    with force_locale(lang):

        def translate(msgid: str, **values) -> str:
            return gettext(msgid, **values)

        def labels(group: str, value: str) -> str:
            return str(EXPORT_CODE_LABELS.get(group, {}).get(value, value))

        parts = [
            gettext("Year: %(year)s", year=filters.year) if filters.year else "",
            gettext("Jurisdiction: %(name)s", name=unit_name) if unit_name else "",
            gettext("From: %(day)s", day=filters.date_from.isoformat())
            if filters.date_from
            else "",
            gettext("To: %(day)s", day=filters.date_to.isoformat()) if filters.date_to else "",
        ]
        filters_text = "; ".join(p for p in parts if p) or gettext("none")
        title = str(EXPORT_DATASET_LABELS.get(dataset_name, dataset_name))
        fd, path = tempfile.mkstemp(prefix=f"export-{run_id}-", suffix=f".{fmt}")
        try:
            with read_only():
                if db.engine.dialect.name == "postgresql":
                    # Head, count and rows from one snapshot.
                    db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
                head = exports.chain_head(db.session)
                data = exports.dataset(dataset_name, filters=filters, scope_ids=scope, lang=lang)
                total = exports.count_rows(db.session, data)
                rows = 0
                if total:
                    with os.fdopen(fd, "wb") as out:
                        fd = None
                        rows = exports.write_rows(
                            db.session,
                            data,
                            fmt=fmt,
                            out=out,
                            head_lines=exports.preamble(
                                title=title,
                                filters_text=filters_text,
                                generated_at=generated_at,
                                head=head,
                                translate=translate,
                            ),
                            translate=translate,
                            labels=labels,
                            total=total,
                            progress=lambda pct: progress(pct, ""),
                        )
                db.session.rollback()
            result = {
                "dataset": dataset_name,
                "format": fmt,
                "rows": rows,
                "filters": filters.as_dict(),
                "head_seq": head[0],
                "head_hash": head[1],
            }
            stored_id = None
            if rows:
                stamp = generated_at.astimezone(clock.zone()).strftime("%Y%m%d-%H%M")
                content, filename, content_type = exports.pack(
                    path, f"{dataset_name}-{stamp}.{fmt}", fmt
                )
                stored = uploads.store(
                    db.session,
                    filename=filename,
                    content_type=content_type,
                    content=content,
                    owner_id=user_id,
                )
                stored_id = stored.id
                result["sha256"] = stored.sha256
                del content
        finally:
            if fd is not None:
                os.close(fd)
            os.unlink(path)
    audit.record(
        db.session,
        action="oversight.export",
        object_type="job_run",
        object_id=run_id,
        actor_id=user_id,
        payload={k: v for k, v in result.items() if k != "head_hash"},
    )
    jobruns.finish(db.session, run_id, result=json.dumps(result), result_file_id=stored_id)
    db.session.commit()


@job("oversight.report", queue="default", timeout=3600)
def session_report(run_id: int, progress: Progress) -> None:
    """Build a report to the maslikhat's session into a workbook (kk and ru) the requester gets."""
    from core import uploads
    from incentives import session_report as reports
    from portal.oversight.report_views import render_xlsx

    run = jobruns.get_run(db.session, run_id)
    params = json.loads(run.params)
    progress(5, "")
    with read_only():
        report = reports.build(
            db.session,
            unit_id=params["unit_id"],
            year=params["year"],
            quarter=params.get("quarter"),
        )
        db.session.rollback()
    progress(70, "")
    period = f"q{report['quarter']}" if report["quarter"] else "year"
    stored = uploads.store(
        db.session,
        filename=f"session-report-{report['unit_kato']}-{report['year']}-{period}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        content=render_xlsx(report),
        owner_id=run.requested_by_id,
    )
    jobruns.finish(
        db.session, run_id, result=json.dumps({"report": report}), result_file_id=stored.id
    )
    db.session.commit()
