"""Job bodies of the register and the shifts: imports, expiries, closing and reminding shifts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
from collections.abc import Callable, Mapping

from core import accounts, clock, jobruns, outputs, uploads
from core.db import utcnow
from core.jobs import JobContext
from core.scope import Scope
from core.spreadsheets import BadImportFile, Table
from volunteers import importing, register, shifts
from volunteers.importing import ImportReport, Problem

# Rows written per transaction: on SQLite a sign-in waits for one chunk, never for a file.
CHUNK_ROWS = 500
# SQLite hands its write lock to no queue: a waiting writer polls it (every 100 ms once it has
# waited a while) and would keep missing it if the next chunk took it again at once.
SQLITE_GAP_SECONDS = 0.1
# Problems listed on the result page (the file has them all): a page stays readable.
SHOWN_PROBLEMS = 200
# Who may import the register: the registrar, or an administrator, each in their units.
IMPORT_ROLES = ("registrar", "admin")


@dataclasses.dataclass(frozen=True)
class Upload:
    """What an import job needs of its run, read before the file is parsed."""

    content: bytes
    filename: str
    user_id: int
    language: str
    scope: Scope


def read_upload(job: JobContext, roles: tuple[str, ...]) -> Upload:
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
            stored.content,
            stored.filename,
            user.id,
            user.preferred_language,
            Scope.of(user, *roles),
        )
        session.rollback()
    return upload


def run_import(
    job: JobContext,
    *,
    roles: tuple[str, ...],
    read: Callable[[bytes, str], Table],
    import_rows: Callable[..., ImportReport],
    report_name: str,
    mask: Callable[[Mapping[str, str]], Mapping[str, str]] = dict,
    options: Callable[[JobContext, Upload], dict] | None = None,
) -> None:
    """Parse an uploaded file outside any transaction, import it in chunks, report.

    ``import_rows(session, rows, numbers=, report=, actor_id=, scope=, today=, **options)``
    writes one chunk; each chunk is committed on its own. Safe to run again after a crash: a
    chunk is written whole or not at all, and the rows already in are reported as duplicates.
    ``mask`` hides identifiers in the rows the report shows.
    """
    upload = read_upload(job, roles)
    extra = options(job, upload) if options else {}
    today = clock.today()
    job.progress(2, "")
    try:
        table = read(upload.content, upload.filename)
    except BadImportFile as exc:
        refuse_file(job, upload, exc)
        return
    job.progress(5, "")
    report = ImportReport(read=len(table.refused))
    report.problems.extend(
        Problem(r.number, r.message, r.params, r.column, r.values) for r in table.refused
    )
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
            **extra,
        )
        commit_chunk(job)
        job.progress(5 + 90 * stop // total, "")
    report.problems.sort(key=lambda problem: problem.number)
    finish_import(job, upload, report, report_name, table.headers, mask)


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
    job: JobContext,
    upload: Upload,
    report: ImportReport,
    filename: str,
    headers: Mapping[str, str],
    mask: Callable[[Mapping[str, str]], Mapping[str, str]],
) -> None:
    """Store the rows not imported as a workbook in the user's language; finish the run.

    The result lists the first problems for the page, each with its row as read (masked)
    and its message as a msgid with its values, so the page speaks its reader's language.
    """
    with job.speaking(upload.language) as gettext:
        content = importing.problem_report_xlsx(
            report.problems,
            translate=lambda message, values: gettext(message, **values),
            headers=headers,
            titles=(
                gettext("Rows not imported"),
                gettext("Row"),
                gettext("Column"),
                gettext("Problem"),
            ),
            mask=mask,
        )
    stored = uploads.store(
        job.session,
        filename=filename,
        content_type=outputs.XLSX_TYPE,
        content=content,
        owner_id=upload.user_id,
    )
    shown = [
        {
            "row": p.number,
            "column": headers.get(p.column, ""),
            "message": p.message,
            "params": p.params,
            "values": [mask(p.values).get(code, "") for code in headers],
        }
        for p in report.problems[:SHOWN_PROBLEMS]
    ]
    result = report.as_dict() | {"columns": list(headers.values()), "problems": shown}
    job.finish(result, result_file_id=stored.id)


def import_members(job: JobContext) -> None:
    """Import an uploaded register file; the rows not imported go to a downloadable report."""
    run_import(
        job,
        roles=IMPORT_ROLES,
        read=importing.read_table,
        import_rows=importing.import_rows,
        report_name=f"import-{job.run_id}-problems.xlsx",
        mask=importing.masked,
        options=_kinds_named,
    )


def _kinds_named(job: JobContext, upload: Upload) -> dict:
    """The kinds as the pages name them in every language, for the rows that use the names."""
    labels = {}
    for language in importing.LANGUAGES:
        with job.speaking(language) as gettext:
            labels[language] = {
                code: gettext(msgid) for code, msgid in importing.KIND_NAMES.items()
            }
    return {"kinds": importing.Kinds.named(labels, upload.language)}


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
