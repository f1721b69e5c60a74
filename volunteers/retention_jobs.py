"""Job body of the retention of personal data: the nightly erasure, in committed batches."""

from __future__ import annotations

from core import api_models, signups
from core.db import utcnow
from core.jobs import JobContext
from volunteers import erasure


def apply_retention(job: JobContext) -> None:
    """Erase or anonymise every closed record whose retention has ended (daily; safe to repeat).

    Each batch commits on its own, so the write lock is held briefly and a run that stops
    half-way keeps what it did; the next run starts over and skips the rows already marked.
    The result holds counts only, never whose data went.
    """
    session = job.session
    now = utcnow()  # one moment for the whole run: a record due at its start is due throughout
    with job.reading():
        total = erasure.pending_count(session)
        session.rollback()
    totals = {"scanned": 0, "applications": 0, "members": 0, "accounts": 0, "by_kind": {}}
    after_id = 0
    while True:
        batch = erasure.erase_due(session, now=now, after_id=after_id)
        session.commit()
        totals["scanned"] += batch.scanned
        for name in ("applications", "members", "accounts"):
            totals[name] += getattr(batch, name)
        for kind, count in batch.by_kind.items():
            totals["by_kind"][kind] = totals["by_kind"].get(kind, 0) + count
        job.progress(min(99, totals["scanned"] * 100 // max(total, 1)), "")
        if batch.last_id is None:
            break
        after_id = batch.last_id
    totals["signups_lapsed"] = signups.purge_lapsed(session, now)
    totals["idempotency_keys"] = api_models.forget_old_answers(session, now)
    session.commit()
    job.finish(totals)
