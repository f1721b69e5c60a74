"""The job registry: kinds and their queues, limits and retries, RQ queue names."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

from flask import Flask
from sqlalchemy.exc import DBAPIError, OperationalError

from core.jobs import Progress

# Keys of session.info: runs and notifications to hand over after the commit; the claim of
# the run whose body executes in the session (checked before each of its commits).
_PENDING = "portal_pending_jobs"
_NOTES = "portal_pending_notifications"
_FENCE = "portal_job_claim"

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
