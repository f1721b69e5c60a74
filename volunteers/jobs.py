"""Job bodies of the register and the shifts: imports, expiries, closing and reminding shifts."""

from __future__ import annotations

import datetime as dt

from core import accounts, clock, uploads
from core.db import utcnow
from core.jobs import JobContext
from core.scope import Scope
from volunteers import importing, register, shifts


def finish_import(job: JobContext, user, report, filename: str) -> None:
    """Store an import's rows that were not imported as a CSV in the user's language; finish."""
    with job.speaking(user.preferred_language) as gettext:
        content = importing.error_report_csv(
            report,
            lambda message, values: gettext(message, **values),
            (gettext("Row"), gettext("Problem")),
        )
    stored = uploads.store(
        job.session,
        filename=filename,
        content_type="text/csv",
        content=content,
        owner_id=user.id,
    )
    job.finish(report.as_dict(), result_file_id=stored.id)


def import_members(job: JobContext) -> None:
    """Import an uploaded register file; the rows not imported go to a downloadable report."""
    session = job.session
    run = job.run()
    upload = uploads.get_file(session, job.params()["file_id"])
    user = accounts.get_user(session, run.requested_by_id)
    rows = importing.read_table(upload.content, upload.filename)
    job.progress(2, "")
    report = importing.import_rows(
        session,
        rows,
        actor_id=user.id,
        scope=Scope.of(user, "registrar"),
        today=clock.today(),
        progress=job.progress,
    )
    finish_import(job, user, report, f"import-{job.run_id}-problems.csv")


def expire_members(job: JobContext) -> None:
    """Mark memberships whose certificate expired before today (daily; safe to repeat)."""
    expired = register.expire_due(job.session, today=clock.today())
    job.finish({"expired": expired})


def close_shifts(job: JobContext) -> None:
    """Close ended shifts: no-shows, completed attendance and its patrol hours (hourly)."""
    closed = shifts.close_ended(job.session, now=utcnow())
    job.finish({"closed": closed})


def remind_shifts(job: JobContext) -> None:
    """Remind those signed up for tomorrow's shifts (daily; each sign-up once)."""
    tomorrow = clock.today() + dt.timedelta(days=1)
    start, end = clock.local_day_bounds(tomorrow)
    sent = shifts.remind(job.session, day_start=start, day_end=end)
    job.finish({"reminded": sent})
