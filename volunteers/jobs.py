"""Job bodies of the register and the shifts: imports, expiries, closing and reminding shifts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
from collections.abc import Callable

from core import accounts, clock, jobruns, uploads
from core.db import utcnow
from core.jobs import JobContext
from core.scope import Scope
from core.spreadsheets import BadImportFile, Table
from volunteers import importing, register, shifts
from volunteers.importing import ImportReport

# Rows written per transaction: on SQLite a sign-in waits for one chunk, never for a file.
CHUNK_ROWS = 500
# SQLite hands its write lock to no queue: a waiting writer polls it (every 100 ms once it has
# waited a while) and would keep missing it if the next chunk took it again at once.
SQLITE_GAP_SECONDS = 0.1


@dataclasses.dataclass(frozen=True)
class Upload:
    """What an import job needs of its run, read before the file is parsed."""

    content: bytes
    filename: str
    user_id: int
    language: str
    scope: Scope


def read_upload(job: JobContext, role: str) -> Upload:
    """Read the run's file and requester in a reading transaction, and end it.

    A job's first statement would otherwise open a writing one (on SQLite BEGIN IMMEDIATE,
    the database's one write lock) and hold it while the file is parsed: other people's
    sign-ins failed with "database is locked" (issue 17).
    """
    session = job.session
    with job.reading():
        run = job.run()
        stored = uploads.get_file(session, job.params()["file_id"])
        user = accounts.get_user(session, run.requested_by_id)
        upload = Upload(
            stored.content, stored.filename, user.id, user.preferred_language, Scope.of(user, role)
        )
        session.rollback()
    return upload


def run_import(
    job: JobContext,
    *,
    role: str,
    read: Callable[[bytes, str], Table],
    import_rows: Callable[..., ImportReport],
    report_name: str,
) -> None:
    """Parse an uploaded file outside any transaction, import it in chunks, report.

    ``import_rows(session, rows, numbers=, report=, actor_id=, scope=, today=)`` writes one
    chunk; each chunk is committed on its own. Safe to run again after a crash: a chunk is
    written whole or not at all, and the rows already in are reported as duplicates.
    """
    upload = read_upload(job, role)
    today = clock.today()
    job.progress(2, "")
    try:
        table = read(upload.content, upload.filename)
    except BadImportFile as exc:
        refuse_file(job, upload, exc)
        return
    job.progress(5, "")
    report = ImportReport()
    total = len(table.rows)
    for start in range(0, total, CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, total)
        import_rows(
            job.session,
            table.rows[start:stop],
            numbers=table.numbers[start:stop],
            report=report,
            actor_id=upload.user_id,
            scope=upload.scope,
            today=today,
        )
        commit_chunk(job)
        job.progress(5 + 90 * stop // total, "")
    finish_import(job, upload.user_id, upload.language, report, report_name)


def commit_chunk(job: JobContext) -> None:
    """Commit a chunk and let the writers that waited for it in before the next one."""
    job.session.commit()
    if job.session.get_bind().dialect.name == "sqlite":
        time.sleep(SQLITE_GAP_SECONDS)


def refuse_file(job: JobContext, upload: Upload, exc: BadImportFile) -> None:
    """Finish the run without importing, saying in the requester's language why."""
    with job.speaking(upload.language) as gettext:
        message = gettext(exc.message, **exc.params)
    jobruns.finish(
        job.session, job.run_id, result=json.dumps(ImportReport().as_dict()), message=message
    )
    job.session.commit()


def finish_import(
    job: JobContext, user_id: int, language: str, report: ImportReport, filename: str
) -> None:
    """Store an import's rows that were not imported as a CSV in the user's language; finish."""
    with job.speaking(language) as gettext:
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
        owner_id=user_id,
    )
    job.finish(report.as_dict(), result_file_id=stored.id)


def import_members(job: JobContext) -> None:
    """Import an uploaded register file; the rows not imported go to a downloadable report."""
    run_import(
        job,
        role="registrar",
        read=importing.read_table,
        import_rows=importing.import_rows,
        report_name=f"import-{job.run_id}-problems.csv",
    )


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
