"""What the system did: the audit-chain page, the outbox and the job runs with their retries."""

from __future__ import annotations

import json

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import and_, func, or_, select

from core import audit, jobruns
from core.notifications import Notification
from portal import jobs, throttle
from portal.admin.blueprint import bp
from portal.admin.reach import people_in_scope
from portal.extensions import db
from portal.forms import ConfirmForm  # arg_int: fuzzing fix (S13)
from portal.oversight.record_links import described
from portal.paging import PAGE_SIZE
from portal.security import administers_country, allow, current_scope


@bp.route("/audit")
@allow("admin")
def audit_chain():
    last = db.session.scalar(
        select(jobruns.JobRun)
        .where(
            jobruns.JobRun.kind == "audit.verify",
            # A broken chain fails its run (issue 18) and must still be shown here.
            jobruns.JobRun.status.in_(("succeeded", "failed")),
            jobruns.JobRun.result.is_not(None),
        )
        .order_by(jobruns.JobRun.id.desc())
        .limit(1)
    )
    report = json.loads(last.result) if last and last.result else None
    events = _recent_events()
    return render_template(
        "admin/audit.html",
        last=last,
        report=report,
        confirm=ConfirmForm(),
        events=events,
        records=described((e.object_type, e.object_id) for e in events),
    )


def _recent_events(limit: int = 50):
    """The newest events: of the whole chain for the national administrator.

    Authorization fix (S5 IDOR matrix): a regional administrator read every event of the
    country. Now they read the events of the people of their jurisdictions (the actor's unit,
    as the deputies' audit log does); the verification above still covers the whole chain.
    """
    if administers_country():
        return audit.recent_events(db.session, limit=limit)
    return db.session.scalars(
        select(audit.AuditEvent)
        .where(audit.AuditEvent.actor_id.in_(people_in_scope()))
        .order_by(audit.AuditEvent.seq.desc())
        .limit(limit)
        .options(audit.actor_name())
    ).all()


@bp.route("/audit/verify", methods=["POST"])
@allow("admin")
def verify_audit():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    run = jobs.submit("audit.verify", requested_by_id=current_user.id, unit_id=None)
    db.session.commit()
    return redirect(url_for("jobruns.show", run_id=run.id))


@bp.route("/outbox")
@allow("admin")
def outbox():
    query = select(Notification)
    if not administers_country():
        # Authorization fix (S5 IDOR matrix): a regional administrator read the messages to
        # everybody in the country; now those to the people of their jurisdictions only.
        query = query.where(Notification.user_id.in_(people_in_scope()))
    messages = db.session.scalars(query.order_by(Notification.id.desc()).limit(200)).all()
    return render_template(
        "admin/outbox.html",
        messages=messages,
        mail_configured=bool(current_app.config.get("MAIL_SERVER")),
    )


def _runs_in_scope():
    """Job runs of the admin's jurisdictions, and the system's own (nobody requested them).

    Authorization fix (S5 IDOR matrix): every run without a jurisdiction used to count as the
    system's, so a regional administrator saw (and could retry) the failed runs that officials
    of other regions requested. Such a run now belongs to its requester's jurisdiction.
    """
    run = jobruns.JobRun
    return or_(
        and_(
            run.unit_id.is_(None),
            or_(run.requested_by_id.is_(None), run.requested_by_id.in_(people_in_scope())),
        ),
        current_scope("admin").clause(jobruns.JobRun.unit_id),
    )


@bp.route("/operations")
@allow("admin")
def operations():
    """Queues, failed jobs with a retry button, the last reconciliation and audit check."""
    from redis.exceptions import RedisError

    run = jobruns.JobRun
    counts = dict(
        db.session.execute(
            select(run.status, func.count()).where(_runs_in_scope()).group_by(run.status)
        ).all()
    )
    failed = db.session.scalars(
        select(run)
        .where(run.status == "failed", _runs_in_scope())
        .order_by(run.finished_at.desc(), run.id.desc())
        .limit(PAGE_SIZE)
    ).all()
    last = {
        kind: db.session.scalars(
            select(run)
            .where(run.kind == kind, _runs_in_scope())  # S5: of the admin's jurisdictions
            .order_by(run.id.desc())
            .limit(1)
        ).first()
        for kind in ("budget.reconcile", "audit.verify", "members.expire", "shifts.close")
    }
    try:
        queues = jobs.queue_lengths(current_app._get_current_object())
    except RedisError:
        queues = None
        flash(
            _("Redis does not answer: jobs wait in the database and are sent when it is back."),
            "warning",
        )
    return render_template(
        "admin/operations.html",
        counts=counts,
        failed=failed,
        last=last,
        queues=queues,
        throttle_degraded=throttle.degraded(current_app._get_current_object()),
        confirm=ConfirmForm(),
    )


@bp.route("/operations/runs/<int:run_id>/retry", methods=["POST"])
@allow("admin")
def retry_run(run_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    found = db.session.scalar(
        select(jobruns.JobRun).where(jobruns.JobRun.id == run_id, _runs_in_scope())
    )
    if found is None:
        abort(404)
    if not jobs.retry(run_id):
        db.session.rollback()
        flash(_("Only a failed job can be run again."), "danger")
        return operations(), 409
    audit.record(
        db.session,
        action="job.retry",
        object_type="job_run",
        object_id=run_id,
        actor_id=current_user.id,
        payload={"kind": found.kind},
    )
    db.session.commit()
    flash(_("The job has been queued again."), "success")
    return redirect(url_for("jobruns.show", run_id=run_id))
