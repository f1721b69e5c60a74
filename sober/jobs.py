"""Job bodies of sober settlements: importing an indicators file."""

from __future__ import annotations

from core.jobs import JobContext
from sober.indicators import import_indicator_rows, read_indicator_table
from volunteers.jobs import run_import


def import_sober_indicators(job: JobContext) -> None:
    """Import an uploaded indicators file; the rows not imported go to a downloadable report."""
    run_import(
        job,
        roles=("coordinator",),
        read=read_indicator_table,
        import_rows=import_indicator_rows,
        report_name=f"indicators-{job.run_id}-problems.xlsx",
    )
