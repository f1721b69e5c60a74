"""Queueing job runs: submit in the transaction, hand to RQ (or a thread) after the commit."""

from __future__ import annotations

import datetime as dt
import logging
import time
from concurrent.futures import ThreadPoolExecutor

from flask import Flask, current_app, has_app_context
from sqlalchemy import event, or_, select
from sqlalchemy.orm import Session

from core import jobruns
from core.db import utcnow
from core.notifications import Notification
from portal.extensions import db
from portal.jobs.execution import _check_claim_before_commit, _run_in_app, _send_in_app
from portal.jobs.registry import _NOTES, _PENDING, JOBS, STALE_MARGIN, _redis, _retry, queue_name

log = logging.getLogger("portal.jobs")  # one logger for the runtime, as operators filter it


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
                # An e-mail not sent yet, or an SMS the provider could not take yet.
                or_(Notification.status == "pending", Notification.sms_status == "pending"),
                Notification.created_at < utcnow() - older_than,
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
