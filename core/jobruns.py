"""Job-run records: the database side of background jobs (status, progress, result, error).

What a reader other than the requester may see of a run's result is decided here
(``result_for``): the whole result only when the reader's jurisdiction covers the run's.
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import notifications, places
from core.account_models import RoleGrant, User
from core.db import Base, UTCDateTime, utcnow
from core.errors import N_, NotFound
from core.queries import units_among
from core.scope import Scope

STATUSES = ("queued", "running", "succeeded", "failed")
# A run still marked running after this long lost its worker and may be claimed again
# (callers pass a longer time for jobs allowed to run longer).
STALE_AFTER = dt.timedelta(minutes=30)


class JobRun(Base):
    """One request to run a background job, and what became of it.

    The row is written in the same transaction as the request (an outbox): the queue only
    carries its id, so a lost queue message is re-sent from here and a re-delivered one finds
    the run already claimed or done.
    """

    __tablename__ = "job_run"
    __table_args__ = (
        CheckConstraint(f"status IN {STATUSES!r}", name="status_known"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(12), default="queued", index=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[str | None] = mapped_column(Text)  # JSON
    params: Mapped[str] = mapped_column(Text, default="{}")  # JSON: ids the job works on
    result_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("admin_unit.id"))
    # "<kind>@<slot>" for runs started by the schedule: unique, so a slot runs once however
    # many schedulers tick at the same time.
    schedule_slot: Mapped[str | None] = mapped_column(String(80), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    @property
    def done(self) -> bool:
        """Tell whether the run has ended, well or badly."""
        return self.status in ("succeeded", "failed")


def create_run(
    session: Session,
    *,
    kind: str,
    requested_by_id: int | None,
    unit_id: int | None,
    params: dict | None = None,
    schedule_slot: str | None = None,
) -> JobRun:
    """Write a queued run; the caller enqueues its id after the commit."""
    run = JobRun(
        kind=kind,
        status="queued",
        progress=0,
        message="",
        attempts=0,
        requested_by_id=requested_by_id,
        unit_id=unit_id,
        params=json.dumps(params or {}, sort_keys=True),
        schedule_slot=schedule_slot,
    )
    session.add(run)
    session.flush()
    return run


def get_run(session: Session, run_id: int) -> JobRun:
    """Return the run or raise NotFound."""
    run = session.get(JobRun, run_id)
    if run is None:
        raise NotFound(N_("No such job."))
    return run


def claim(
    session: Session,
    run_id: int,
    *,
    now: dt.datetime | None = None,
    stale_after: dt.timedelta = STALE_AFTER,
    retry_of: int | None = None,
) -> bool:
    """Mark the run as running if it is queued (or stale); False means someone else has it.

    One guarded UPDATE, so two deliveries of the same message cannot both run it.
    ``retry_of`` is the attempt number that the retried delivery claimed before: it may take
    back the run it left failed or, its worker killed, running, but only while ``attempts``
    still equals it. The counter is compared and bumped in the same statement, so once a
    duplicate message or an administrator's retry has claimed the run, the retry is a no-op.
    """
    now = now or utcnow()
    takeable = [
        JobRun.status == "queued",
        (JobRun.status == "running") & (JobRun.started_at < now - stale_after),
    ]
    if retry_of is not None:
        takeable.append(JobRun.status.in_(("running", "failed")) & (JobRun.attempts == retry_of))
    result = session.execute(
        update(JobRun)
        .where(JobRun.id == run_id, or_(*takeable))
        .values(status="running", started_at=now, attempts=JobRun.attempts + 1, progress=0)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


class Superseded(Exception):
    """Another delivery has claimed the run since this execution did: it must not commit."""


def check_claim(session: Session, run_id: int, attempt: int) -> None:
    """Raise Superseded unless ``attempt`` is still the run's latest claim (a fencing token).

    Run in the transaction about to commit: the UPDATE locks the run's row until the commit,
    so a claim by another delivery either came first (and this raises) or waits for the
    commit and then finds the run no longer takeable.
    """
    result = session.execute(
        update(JobRun)
        .where(JobRun.id == run_id, JobRun.attempts == attempt)
        .values(attempts=JobRun.attempts)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Superseded(run_id)


def set_progress(session: Session, run_id: int, percent: int, message: str = "") -> None:
    """Record progress of a running job (0–100)."""
    session.execute(
        update(JobRun)
        .where(JobRun.id == run_id, JobRun.status == "running")
        .values(progress=max(0, min(100, int(percent))), message=message)
        .execution_options(synchronize_session=False)
    )


def finish(
    session: Session,
    run_id: int,
    *,
    result: str,
    message: str = "",
    result_file_id: int | None = None,
) -> None:
    """Mark the run succeeded with its JSON result."""
    session.execute(
        update(JobRun)
        .where(JobRun.id == run_id)
        .values(
            status="succeeded",
            progress=100,
            result=result,
            message=message,
            result_file_id=result_file_id,
            finished_at=utcnow(),
            error=None,
        )
        .execution_options(synchronize_session=False)
    )


def fail(session: Session, run_id: int, *, error: str) -> None:
    """Mark the run failed with the error text."""
    session.execute(
        update(JobRun)
        .where(JobRun.id == run_id)
        .values(status="failed", error=error[:4000], finished_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def fail_with_finding(session: Session, run_id: int, *, result: str, finding: str) -> None:
    """Mark the run failed because its check found a fault (``finding``), keeping its result.

    A nightly check that ran to the end but found a broken audit chain or drift in the books
    has failed as far as its operators are concerned: "Done" would hide it (issue 18).
    """
    session.execute(
        update(JobRun)
        .where(JobRun.id == run_id)
        .values(
            status="failed",
            progress=100,
            result=result,
            message=finding[:4000],
            error=finding[:4000],
            finished_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )


FAILURE_NOTICE = "job.failed"


def country_admins(session: Session) -> list[User]:
    """Return the active administrators whose grant covers the whole country."""
    country = places.by_kato(session, places.COUNTRY_KATO)
    return list(
        session.scalars(
            select(User)
            .join(RoleGrant, RoleGrant.user_id == User.id)
            .where(
                RoleGrant.role == "admin",
                RoleGrant.unit_id == country.id,
                RoleGrant.revoked_at.is_(None),
                User.is_active.is_(True),
            )
            .distinct()
            .order_by(User.id)
        )
    )


def notify_failure(session: Session, run_id: int) -> int:
    """Queue a notice of the failed run to every country administrator, once per run.

    Written in the transaction that marks the run failed; a later failure of the same run (a
    retry) sends nothing more. The notice names the kind and the run only, no error text:
    an exception's message may quote what people typed.
    """
    run = get_run(session, run_id)
    params = {"kind": run.kind, "run_id": run.id}
    sent = session.scalar(
        select(func.count())
        .select_from(notifications.Notification)
        .where(
            notifications.Notification.kind == FAILURE_NOTICE,
            notifications.Notification.params == json.dumps(params, sort_keys=True),
        )
    )
    if sent:
        return 0
    admins = country_admins(session)
    for admin in admins:
        notifications.queue_message(
            session,
            user_id=admin.id,
            email=admin.email,
            kind=FAILURE_NOTICE,
            params=params,
            language=admin.preferred_language,
        )
    return len(admins)


def requeue(session: Session, run_id: int) -> bool:
    """Put a failed run back in the queue (an admin's retry); False if it has not failed."""
    result = session.execute(
        update(JobRun)
        .where(JobRun.id == run_id, JobRun.status == "failed")
        .values(status="queued", error=None, progress=0, message="", finished_at=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


# ---- what a reader may see of a run --------------------------------------------------------


def area_of(session: Session, run: JobRun) -> int:
    """Return the unit a run covers: its own, else its requester's, else the whole country."""
    if run.unit_id is not None:
        return run.unit_id
    if run.requested_by_id is not None:
        unit_id = session.scalar(select(User.unit_id).where(User.id == run.requested_by_id))
        if unit_id is not None:
            return unit_id
    return places.by_kato(session, places.COUNTRY_KATO).id


def result_for(session: Session, run: JobRun, scope: Scope) -> dict | list | None:
    """Return the part of the run's result that a reader holding ``scope`` may see.

    A reader whose jurisdiction covers the run's whole area sees all of it. Another reader (an
    administrator of one region reading the nightly run of the country) sees only the rows
    placed in their units (``rows`` with a ``unit_id``: the red flags, with the names of the
    people they concern), with the counts of those rows; a result that cannot be placed in
    units (a reconciliation of the books of every region) is not shown at all.
    """
    if not run.result:
        return None
    data = json.loads(run.result)
    if scope.contains(session, area_of(session, run)):
        return data
    rows = data.get("rows") if isinstance(data, dict) else None
    if not isinstance(rows, list) or not all(isinstance(r, dict) and "unit_id" in r for r in rows):
        return None
    # Rows about no unit (a broken audit chain) concern everyone, as on the red-flags page.
    visible = units_among(session, {r["unit_id"] for r in rows}, scope)
    kept = [r for r in rows if r["unit_id"] is None or r["unit_id"] in visible]
    counts = dict.fromkeys(data.get("counts") or {}, 0)
    for row in kept:
        counts[row.get("kind")] = counts.get(row.get("kind"), 0) + 1
    return {**data, "rows": kept, "counts": counts, "total": len(kept)}
