"""What a job body is given by the runtime that runs it (no Flask, no RQ), and the audit job.

A body is a plain function of a ``JobContext``, kept next to its domain (``volunteers/jobs.py``,
``incentives/jobs.py``, ``sober/jobs.py``); the portal's runtime registers it under its job name,
claims the run, and records a failure. The body finishes the run itself (``jobruns.finish``)
and commits: one transaction per job, besides the progress written on a connection of its own.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Protocol

from sqlalchemy.orm import Session

from core import audit, jobruns

Progress = Callable[[int, str], None]


class Words(Protocol):
    """The portal's wording in one language, for a file a job writes for one person."""

    def __call__(self, msgid: str, **params) -> str:
        """Translate ``msgid`` and substitute its parameters."""


@dataclasses.dataclass(frozen=True)
class JobContext:
    """One execution of a job run: its session, id, progress and the portal's services."""

    session: Session
    run_id: int
    progress: Progress
    # Transactions that only read (on SQLite a deferred BEGIN: no write lock while reading).
    reading: Callable[[], AbstractContextManager]
    # The portal's translations in a language; labels read inside the block speak it too.
    speaking: Callable[[str], AbstractContextManager[Words]]

    def run(self) -> jobruns.JobRun:
        """Return the run being executed."""
        return jobruns.get_run(self.session, self.run_id)

    def params(self) -> dict:
        """Return the run's parameters."""
        return json.loads(self.run().params)

    def finish(self, result: dict, result_file_id: int | None = None) -> None:
        """Record the run's result and commit the job's transaction."""
        jobruns.finish(
            self.session, self.run_id, result=json.dumps(result), result_file_id=result_file_id
        )
        self.session.commit()

    def fail(self, result: dict, finding: str) -> None:
        """Record that the check found a fault: the run fails with ``finding`` as its message.

        The country's administrators are notified in the same transaction, which commits.
        """
        jobruns.fail_with_finding(
            self.session, self.run_id, result=json.dumps(result), finding=finding
        )
        jobruns.notify_failure(self.session, self.run_id)
        self.session.commit()

    def snapshot(self) -> AbstractContextManager[Session]:
        """Read in one snapshot; see ``snapshot``."""
        return snapshot(self.session, self.reading)


@contextlib.contextmanager
def snapshot(session: Session, reading: Callable[[], AbstractContextManager]) -> Iterator[Session]:
    """Read in one snapshot (REPEATABLE READ on PostgreSQL; an SQLite transaction is one).

    Sums and counters read in one snapshot agree: a row committed between two reads would
    otherwise look like a drift. The transaction is rolled back at the end.
    """
    with reading():
        if session.get_bind().dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        try:
            yield session
        finally:
            session.rollback()


def verify_audit_chain(job: JobContext) -> None:
    """Verify the whole audit chain, record the outcome in the chain and on the run.

    A broken chain fails the run (with the first broken event as its message), so that the
    operations page, the log, the administrators' notices and /metrics all say so.
    """
    session = job.session
    job.progress(1, "")
    with job.reading():
        report = audit.verify_chain(
            session,
            progress=lambda done, total: job.progress(min(99, int(done * 100 / max(total, 1))), ""),
        )
        session.rollback()
    audit.record(
        session,
        action="audit.verify",
        object_type="job_run",
        object_id=job.run_id,
        actor_id=job.run().requested_by_id,
        payload=report.as_dict(),
    )
    if report.ok:
        job.finish(report.as_dict())
    else:
        job.fail(
            report.as_dict(),
            f"audit chain broken at event #{report.first_bad_seq} ({report.problem})",
        )
