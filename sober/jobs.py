"""Job bodies of sober settlements: importing an indicators file."""

from __future__ import annotations

from core import accounts, clock, uploads
from core.jobs import JobContext
from core.scope import Scope
from sober.indicators import import_indicator_rows, read_indicator_table
from volunteers.jobs import finish_import


def import_sober_indicators(job: JobContext) -> None:
    """Import an uploaded indicators file; the rows not imported go to a downloadable report."""
    session = job.session
    run = job.run()
    upload = uploads.get_file(session, job.params()["file_id"])
    user = accounts.get_user(session, run.requested_by_id)
    rows = read_indicator_table(upload.content, upload.filename)
    job.progress(2, "")
    report = import_indicator_rows(
        session,
        rows,
        actor_id=user.id,
        scope=Scope.of(user, "coordinator"),
        today=clock.today(),
        progress=job.progress,
    )
    finish_import(job, user, report, f"indicators-{job.run_id}-problems.csv")
