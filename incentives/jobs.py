"""Job bodies of rewards and oversight: reconciling the books, exports, reports."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable

from core import accounts, audit, clock, places, uploads
from core.db import utcnow
from core.jobs import JobContext, snapshot
from core.scope import Scope
from incentives import exports, reconcile
from incentives import session_report as reports

EXPORTERS = ("deputy", "finance", "admin")


def reconcile_books(session, reading) -> list:
    """Run every reconciliation check of the books in one read-only snapshot; return findings.

    Lines against their ledger and their verified decisions, approved rewards against their
    commitments, payouts against their disbursements (``incentives.reconcile.everything``).
    The CLI ``flask budget reconcile`` and the nightly job both run this.
    """
    with snapshot(session, reading):
        return reconcile.everything(session)


def reconcile_budget(job: JobContext) -> None:
    """Reconcile the books (lines, decisions, rewards, payouts); record the outcome (nightly)."""
    job.progress(1, "")
    findings = reconcile_books(job.session, job.reading)
    report = reconcile.report(findings)
    audit.record(
        job.session,
        action="budget.reconcile",
        object_type="job_run",
        object_id=job.run_id,
        actor_id=job.run().requested_by_id,
        payload=report,
    )
    if findings:
        # Drift fails the run: the runtime logs it as an ERROR and the administrators hear.
        job.fail(
            report,
            f"budget reconcile: {len(findings)} difference(s): "
            + "; ".join(f.describe() for f in findings[:20]),
        )
    else:
        job.finish(report)


def export_table(
    job: JobContext, *, labels: Callable[[str, str], str], title: Callable[[str], str]
) -> None:
    """Stream an export (XLSX or a CSV) into a file the requester downloads from the run's page.

    ``labels(group, code)`` and ``title(dataset)`` name codes and datasets in the language
    being spoken (the portal's label tables).
    """
    session = job.session
    params = job.params()
    dataset_name, fmt = params["dataset"], params["format"]
    filters = exports.Filters.from_dict(params)
    user = accounts.get_user(session, job.run().requested_by_id)
    user_id, scope, lang = user.id, Scope.of(user, *EXPORTERS), user.preferred_language
    unit = session.get(places.AdminUnit, filters.unit_id) if filters.unit_id else None
    unit_name = (unit.name_kk if lang == "kk" else unit.name_ru) if unit else None
    session.rollback()  # the export reads in a transaction of its own
    generated_at = utcnow()
    job.progress(1, "")
    with job.speaking(lang) as gettext:
        parts = [
            gettext("Year: %(year)s", year=filters.year) if filters.year else "",
            gettext("Jurisdiction: %(name)s", name=unit_name) if unit_name else "",
            gettext("From: %(day)s", day=filters.date_from.isoformat())
            if filters.date_from
            else "",
            gettext("To: %(day)s", day=filters.date_to.isoformat()) if filters.date_to else "",
        ]
        filters_text = "; ".join(p for p in parts if p) or gettext("none")
        fd, path = tempfile.mkstemp(prefix=f"export-{job.run_id}-")
        try:
            with job.snapshot():  # head, count and rows from one snapshot
                head = audit.head(session)
                # Resolved to the ids it covers in the snapshot, so that a region's export is
                # planned for a region.
                resolved = scope.resolved(session)
                data = exports.dataset(dataset_name, filters=filters, scope=resolved, lang=lang)
                total = exports.count_rows(session, data)
                rows = 0
                if total:
                    with os.fdopen(fd, "wb") as out:
                        fd = None
                        rows = exports.write_rows(
                            session,
                            data,
                            fmt=fmt,
                            out=out,
                            head_lines=exports.preamble(
                                title=title(dataset_name),
                                filters_text=filters_text,
                                generated_at=generated_at,
                                head=head,
                                translate=gettext,
                            ),
                            translate=gettext,
                            labels=labels,
                            total=total,
                            progress=lambda pct: job.progress(pct, ""),
                        )
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
                    path, exports.file_name(dataset_name, stamp, fmt), fmt
                )
                stored = uploads.store(
                    session,
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
        session,
        action="oversight.export",
        object_type="job_run",
        object_id=job.run_id,
        actor_id=user_id,
        payload={k: v for k, v in result.items() if k != "head_hash"},
    )
    job.finish(result, result_file_id=stored_id)


def session_report(job: JobContext, *, workbook: Callable[[dict], bytes]) -> None:
    """Build a report to the maslikhat's session into a workbook the requester downloads.

    ``workbook(report)`` writes the spreadsheet (headings in Kazakh and Russian).
    """
    session = job.session
    run = job.run()
    params = job.params()
    job.progress(5, "")
    with job.reading():
        report = reports.build(
            session,
            unit_id=params["unit_id"],
            year=params["year"],
            quarter=params.get("quarter"),
        )
        session.rollback()
    job.progress(70, "")
    period = f"q{report['quarter']}" if report["quarter"] else "year"
    stored = uploads.store(
        session,
        filename=f"session-report-{report['unit_kato']}-{report['year']}-{period}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        content=workbook(report),
        owner_id=run.requested_by_id,
    )
    job.finish({"report": report}, result_file_id=stored.id)
