"""Red flags of overdue hearings, forwardings and reviews, joined to the oversight catalogue."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from appeals import waiting
from appeals.models import Complaint, Hearing, HearingProtocol
from core import clock
from core.db import utcnow
from core.errors import N_
from core.jobs import JobContext
from core.scope import Scope
from incentives import flags as reward_flags
from incentives.flag_kinds import Flag

# The catalogue of incentives.flags lies below this package: the full list (its checks and
# these) and the job that runs it live here. Each flag names the record and the day its term ran
# out; overdue is defined once, in appeals.waiting.
APPEAL_KINDS = ("overdue_hearing", "overdue_forwarding", "overdue_review")
KINDS = (*reward_flags.KINDS, *APPEAL_KINDS)


def overdue_hearings(session: Session, scope: Scope) -> list[Flag]:
    """Hearings whose notice, oral hearing or act is late (see ``appeals.waiting``)."""
    today = clock.today()
    notice = waiting.late_notice(session, today)
    rows = session.execute(
        select(
            Hearing.id,
            Hearing.unit_id,
            Hearing.status,
            Hearing.drafted_at,
            Hearing.notified_at,
            Hearing.earliest_act_on,
            Hearing.oral_requested_at,
        )
        .where(
            scope.clause(Hearing.unit_id),
            or_(notice, waiting.late_oral_hearing(today), waiting.late_act(session, today)),
        )
        .order_by(Hearing.id)
    ).all()
    found = []
    for row in rows:
        if row.status == "drafted":
            msg = N_(
                "The preliminary decision drafted on %(date)s has not been sent to the person"
                " within %(days)s working days."
            )
            drafted_on = clock.local_date(row.drafted_at).isoformat()
            params = {"date": drafted_on, "days": waiting.NOTICE_WITHIN}
        elif row.earliest_act_on is None:
            msg = N_(
                "The preliminary decision was sent on paper on %(date)s; its receipt is not"
                " recorded within %(days)s working days."
            )
            sent_on = clock.local_date(row.notified_at).isoformat()
            params = {"date": sent_on, "days": waiting.NOTICE_WITHIN}
        elif row.status == "notified" and row.oral_requested_at is not None:
            msg = N_(
                "The person asked for an oral hearing; none was held by %(date)s, the earliest"
                " day of the act."
            )
            params = {"date": row.earliest_act_on.isoformat()}
        else:
            msg = N_(
                "The act could be adopted from %(date)s; %(days)s working days later it is"
                " neither adopted nor the draft withdrawn."
            )
            params = {"date": row.earliest_act_on.isoformat(), "days": waiting.ACT_WITHIN}
        found.append(Flag("overdue_hearing", msg, params, "hearing", row.id, row.unit_id))
    return found + late_protocols(session, scope)


def late_protocols(session: Session, scope: Scope) -> list[Flag]:
    """Protocols of oral hearings signed later than 2 working days after them (Art. 74(4))."""
    rows = session.execute(
        select(Hearing.id, Hearing.unit_id, HearingProtocol.held_at, HearingProtocol.signed_on)
        .join(HearingProtocol, HearingProtocol.hearing_id == Hearing.id)
        .where(scope.clause(Hearing.unit_id), HearingProtocol.signed_late.is_(True))
        .order_by(Hearing.id)
    ).all()
    msg = N_(
        "The protocol of the oral hearing held on %(date)s was signed on %(signed)s, later than"
        " 2 working days after it (APPK Art. 74(4))."
    )
    return [
        Flag(
            "overdue_hearing",
            msg,
            {"date": clock.local_date(r.held_at).isoformat(), "signed": r.signed_on.isoformat()},
            "hearing",
            r.id,
            r.unit_id,
        )
        for r in rows
    ]


def overdue_forwardings(session: Session, scope: Scope) -> list[Flag]:
    """Complaints neither granted in full nor forwarded to the review body within 3 wd."""
    rows = session.execute(
        select(Complaint.id, Complaint.unit_id, Complaint.number, Complaint.forward_due_on)
        .where(scope.clause(Complaint.unit_id), waiting.late_forwarding(clock.today()))
        .order_by(Complaint.id)
    ).all()
    msg = N_(
        "Complaint %(number)s was to be granted in full or forwarded to the review body by"
        " %(date)s (APPK Art. 91(4)); it is still with the issuing body."
    )
    return [
        Flag(
            "overdue_forwarding",
            msg,
            {"number": row.number, "date": row.forward_due_on.isoformat()},
            "complaint",
            row.id,
            row.unit_id,
        )
        for row in rows
    ]


def overdue_reviews(session: Session, scope: Scope) -> list[Flag]:
    """Forwarded complaints the review body has not decided within 20 working days."""
    rows = session.execute(
        select(Complaint.id, Complaint.unit_id, Complaint.number, Complaint.review_due_on)
        .where(scope.clause(Complaint.unit_id), waiting.late_review(clock.today()))
        .order_by(Complaint.id)
    ).all()
    msg = N_(
        "Complaint %(number)s was to be decided by the review body by %(date)s (APPK Art. 99);"
        " no decision is recorded."
    )
    return [
        Flag(
            "overdue_review",
            msg,
            {"number": row.number, "date": row.review_due_on.isoformat()},
            "complaint",
            row.id,
            row.unit_id,
        )
        for row in rows
    ]


CHECKS: dict[str, Callable[[Session, Scope], list[Flag]]] = {
    **reward_flags.CHECKS,
    "overdue_hearing": overdue_hearings,
    "overdue_forwarding": overdue_forwardings,
    "overdue_review": overdue_reviews,
}


def compute_all(
    session: Session,
    scope: Scope,
    *,
    progress: Callable[[int], None] | None = None,
    keep: int = 500,
) -> dict:
    """Run every check, rewards' and appeals'; return counts per kind and up to ``keep`` each."""
    counts, rows = {}, []
    for n, (kind, check) in enumerate(CHECKS.items(), start=1):
        found = check(session, scope)
        counts[kind] = len(found)
        rows.extend(f.as_dict() for f in found[:keep])
        if progress:
            progress(int(n * 95 / len(CHECKS)))
    return {"counts": counts, "rows": rows, "total": sum(counts.values())}


def compute_flags(job: JobContext) -> None:
    """Compute the red flags of the run's jurisdiction (all when none); keep them on the run."""
    unit_id = job.run().unit_id
    scope = Scope.everywhere() if unit_id is None else Scope.within([unit_id])
    job.session.rollback()
    job.progress(1, "")
    with job.snapshot() as session:
        report = compute_all(session, scope, progress=lambda pct: job.progress(pct, ""))
    report.update(unit_id=unit_id, computed_at=utcnow().isoformat())
    job.finish(report)
