"""The job kinds: each name (stored on runs and in Redis; never renamed) and its domain body."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator

from flask_babel import force_locale, gettext

from appeals import flags as appeal_flags
from core import jobs as core_jobs
from core.jobs import JobContext, Progress
from incentives import jobs as incentive_jobs
from portal.database import read_only
from portal.extensions import db
from portal.jobs.registry import job
from portal.labels import EXPORT_CODE_LABELS, EXPORT_DATASET_LABELS
from portal.oversight.report_book import render_xlsx
from sober import jobs as sober_jobs
from volunteers import jobs as volunteer_jobs
from volunteers import retention_jobs


@contextlib.contextmanager
def speaking(lang: str) -> Iterator[Callable[..., str]]:
    """The portal's translations in ``lang``; lazy labels read in the block speak it too."""
    with force_locale(lang):
        yield gettext


def register(kind: str, body: Callable[[JobContext], None], **options) -> None:
    """Register a domain body under ``kind``: the runtime calls it with the run's context."""

    def run(run_id: int, progress: Progress) -> None:
        body(JobContext(db.session, run_id, progress, read_only, speaking))

    run.__name__ = run.__qualname__ = getattr(body, "__name__", kind)
    job(kind, **options)(run)


def _export_label(group: str, code: str) -> str:
    return str(EXPORT_CODE_LABELS.get(group, {}).get(code, code))


def _export_title(dataset: str) -> str:
    return str(EXPORT_DATASET_LABELS.get(dataset, dataset))


register("audit.verify", core_jobs.verify_audit_chain, queue="audit", timeout=3600)
register("members.import", volunteer_jobs.import_members, timeout=3600)
register("members.expire", volunteer_jobs.expire_members, timeout=600)
register("budget.reconcile", incentive_jobs.reconcile_budget, timeout=1800)
register("shifts.close", volunteer_jobs.close_shifts, timeout=600)
register("shifts.remind", volunteer_jobs.remind_shifts, timeout=600)
register("retention.apply", retention_jobs.apply_retention, timeout=3600)
register("sober.indicators_import", sober_jobs.import_sober_indicators, timeout=3600)
register("oversight.flags", appeal_flags.compute_flags, timeout=3600)  # rewards + appeals
register(
    "oversight.export",
    functools.partial(incentive_jobs.export_table, labels=_export_label, title=_export_title),
    timeout=7200,
)
register(
    "oversight.report",
    functools.partial(incentive_jobs.session_report, workbook=render_xlsx),
    timeout=3600,
)
