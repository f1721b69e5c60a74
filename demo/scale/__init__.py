"""Demo data at scale: a region of N members with a year of work, rewards and payouts, in bulk."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

from sqlalchemy import select

from core import audit
from demo.scale.activity import _Activity
from demo.scale.base import DAYS_BACK, MARKER, StepReport, _ScaleBase
from demo.scale.budget import _Budget
from demo.scale.commission import _Commission
from demo.scale.people import _Register


class _Scale(_Register, _Activity, _Budget, _Commission, _ScaleBase):
    """The generator: each step bulk-writes one part of the region and reports what it wrote."""


def loaded(session) -> bool:
    """Tell whether a scale region has been loaded already."""
    return (
        session.scalar(
            select(audit.AuditEvent.seq).where(audit.AuditEvent.action == MARKER).limit(1)
        )
        is not None
    )


def generate(
    session,
    *,
    members: int,
    password: str,
    days: int = DAYS_BACK,
    now: dt.datetime | None = None,
) -> Iterator[StepReport]:
    """Load a region of ``members`` members step by step, yielding what each step wrote.

    ``days`` is how far back the shifts reach (a year; tests ask for less). Everything happens
    in the caller's transaction: commit after the last step. Each step appends one summary
    event to the audit chain instead of one per row.
    """
    if members < 1 or days < 1:
        raise ValueError("members and days must be at least 1")
    scale = _Scale(session, members, password, now, days)
    reports: list[StepReport] = []
    for name, step in (
        ("officials", scale.prepare),
        ("register", scale.register),
        ("activity", scale.activity),
        ("budget", scale.budget),
        ("commission", scale.commission),
    ):
        started = time.perf_counter()
        rows = step()
        scale.bulk.finish()  # the sequences move past the new ids before anything else inserts
        audit.record(
            session,
            action=f"{MARKER}.{name}",
            object_type="demo",
            actor_id=scale.admin.id,
            payload={"rows": rows},
        )
        report = StepReport(name, rows, time.perf_counter() - started)
        reports.append(report)
        yield report
    started = time.perf_counter()
    scale.finish(reports)
    yield StepReport("finish", {}, time.perf_counter() - started)
