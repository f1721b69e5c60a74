"""Contributions: logging with plausibility rules, four-eyes confirmation, corrections, points."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable

from sqlalchemy import Integer, Select, bindparam, exists, func, select
from sqlalchemy.orm import Session, aliased

from core import audit
from core.errors import N_, Conflict, DomainError, NotFound, PermissionDenied
from core.scope import Scope
from core.transitions import advance
from volunteers import register
from volunteers.activity_models import Contribution, ContributionKind, Signup
from volunteers.models import Member
from volunteers.workflow import CONTRIBUTION

MAX_MINUTES_PER_DAY = 16 * 60
COUNTED = ("logged", "confirmed")  # what the daily hours limit and duplicate check look at


def kinds(session: Session, *, active_only: bool = True) -> list[ContributionKind]:
    """Return the contribution kinds in display order."""
    query = select(ContributionKind).order_by(ContributionKind.position, ContributionKind.code)
    if active_only:
        query = query.where(ContributionKind.active)
    return list(session.scalars(query))


def get_contribution(session: Session, contribution_id: int) -> Contribution:
    """Return the contribution or raise NotFound."""
    found = session.get(Contribution, contribution_id)
    if found is None:
        raise NotFound(N_("No such contribution."))
    return found


def points_for(kind: ContributionKind, minutes: int | None, per: int | None = None) -> int:
    """Return the points of one contribution: per whole hour of patrol, or per event.

    ``per`` is the points per hour or event of the reward policy in force; without one the
    kind's default applies.
    """
    per = kind.points if per is None else per
    if kind.measure == "hours":
        return per * ((minutes or 0) // 60)
    return per


def log_contribution(
    session: Session,
    *,
    member_id: int,
    kind: str,
    occurred_on: dt.date,
    minutes: int | None,
    description: str,
    reference: str | None,
    actor_id: int,
    today: dt.date,
    corrects_id: int | None = None,
) -> Contribution:
    """Log a contribution for confirmation, after the plausibility rules."""
    member = register.get_member(session, member_id)
    kind_row = session.get(ContributionKind, kind or "")
    if kind_row is None or not kind_row.active:
        raise DomainError(N_("Unknown kind of contribution."))
    if occurred_on > today:
        raise DomainError(N_("A contribution cannot be dated in the future."))
    if occurred_on < member.issued_on:
        raise DomainError(
            N_("The date is before the membership began (%(date)s)."),
            date=member.issued_on.isoformat(),
        )
    description = (description or "").strip()
    if not description:
        raise DomainError(N_("Describe what was done."))
    if len(description) > 2000:
        raise DomainError(N_("The description is longer than %(n)s characters."), n=2000)
    reference = (reference or "").strip() or None
    if reference and len(reference) > 100:
        raise DomainError(N_("The reference is longer than %(n)s characters."), n=100)
    if kind_row.needs_reference and not reference:
        raise DomainError(N_("This kind needs the registration reference (e.g. the KUSP number)."))
    if kind_row.measure == "hours":
        if minutes is None or minutes <= 0:
            raise DomainError(N_("Enter the hours of patrol."))
        already = session.scalar(
            select(func.coalesce(func.sum(Contribution.minutes), 0)).where(
                Contribution.member_id == member_id,
                Contribution.occurred_on == occurred_on,
                Contribution.kind == kind_row.code,
                Contribution.status.in_(COUNTED),
                Contribution.id != (corrects_id or 0),
            )
        )
        if already + minutes > MAX_MINUTES_PER_DAY:
            raise DomainError(
                N_("No more than %(hours)s hours of patrol in a day (%(logged)s already logged)."),
                hours=16,
                logged=f"{already / 60:g}",
            )
    else:
        minutes = None
    if corrects_id is not None:
        original = get_contribution(session, corrects_id)
        if original.member_id != member_id or original.status != "confirmed":
            raise Conflict(N_("Only a confirmed contribution of the same member can be corrected."))
        pending = session.scalar(
            select(Contribution.id).where(
                Contribution.corrects_id == corrects_id, Contribution.status == "logged"
            )
        )
        if pending:
            raise Conflict(N_("A correction of this contribution is already waiting."))
    contribution = Contribution(
        member_id=member_id,
        unit_id=member.unit_id,
        kind=kind_row.code,
        occurred_on=occurred_on,
        minutes=minutes,
        description=description,
        reference=reference,
        status="logged",
        corrects_id=corrects_id,
        logged_by_id=actor_id,
    )
    session.add(contribution)
    session.flush()
    audit.record(
        session,
        action="contribution.log",
        object_type="contribution",
        object_id=contribution.id,
        actor_id=actor_id,
        payload={
            "member_id": member_id,
            "kind": kind_row.code,
            "occurred_on": occurred_on.isoformat(),
            "minutes": minutes,
            "corrects_id": corrects_id,
        },
    )
    return contribution


def _decide(
    session: Session,
    contribution: Contribution,
    *,
    actor_id: int,
    scope: Scope,
    now: dt.datetime,
) -> None:
    if not scope.contains(session, contribution.unit_id):
        raise NotFound(N_("No such contribution."))
    # Lock order: the audit chain before the row, so that two coordinators confirming
    # overlapping batches wait for each other instead of deadlocking (found under load).
    audit.take_append_lock(session)
    member = session.get(Member, contribution.member_id)
    if actor_id in (contribution.logged_by_id, member.user_id):
        raise PermissionDenied(
            N_("You cannot decide on a contribution that is yours or that you logged.")
        )
    # Read after the lock: a check-out undone meanwhile puts the member back on the shift,
    # and these hours are re-counted when they check out again.
    if contribution.signup_id is not None and (
        session.scalar(select(Signup.status).where(Signup.id == contribution.signup_id))
        == "checked_in"
    ):
        raise Conflict(
            N_("The member is back on this shift: the hours are logged again at check-out.")
        )
    # Whether it is still "logged" is decided by the guarded step (advance): a second
    # decision gets a 409 naming who decided first.


def confirm(
    session: Session,
    *,
    contribution_id: int,
    actor_id: int,
    scope: Scope,
    now: dt.datetime,
    points_rule: Callable[[Contribution], int | None] | None = None,
) -> Contribution:
    """Confirm a logged contribution: its points are fixed now; a correction supersedes.

    ``points_rule`` gives the points per hour or event of the policy in force for it.
    """
    contribution = get_contribution(session, contribution_id)
    _decide(session, contribution, actor_id=actor_id, scope=scope, now=now)
    per = points_rule(contribution) if points_rule else None
    points = points_for(contribution.kind_ref, contribution.minutes, per)
    advance(
        session,
        CONTRIBUTION,
        contribution,
        "confirm",
        values={"decided_by_id": actor_id, "decided_at": now, "points": points},
    )
    if contribution.corrects_id:
        original = get_contribution(session, contribution.corrects_id)
        advance(session, CONTRIBUTION, original, "supersede")
    audit.record(
        session,
        action="contribution.confirm",
        object_type="contribution",
        object_id=contribution_id,
        actor_id=actor_id,
        payload={"points": points, "supersedes": contribution.corrects_id},
    )
    return contribution


def reject(
    session: Session,
    *,
    contribution_id: int,
    reason: str,
    actor_id: int,
    scope: Scope,
    now: dt.datetime,
) -> Contribution:
    """Reject a logged contribution with a written reason."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(N_("Write the reason for this decision."))
    contribution = get_contribution(session, contribution_id)
    _decide(session, contribution, actor_id=actor_id, scope=scope, now=now)
    advance(
        session,
        CONTRIBUTION,
        contribution,
        "reject",
        values={"decided_by_id": actor_id, "decided_at": now, "rejection_reason": reason},
    )
    audit.record(
        session,
        action="contribution.reject",
        object_type="contribution",
        object_id=contribution_id,
        actor_id=actor_id,
        payload={"reason": reason},
    )
    return contribution


@functools.cache
def has_twin():
    """Return a SQL condition that a ``Contribution`` row has a twin counted beside it.

    A twin: the same member, kind, date and reference, logged or confirmed. A condition rather
    than a query so that the confirmation queue flags its rows in the statement that reads them.
    Built once: it holds no parameter, and aliasing the model anew on each page view cost the
    queue a tenth of its CPU (issue 16); statements copy what they embed, so sharing is safe.
    """
    other = aliased(Contribution)
    return exists().where(
        other.member_id == Contribution.member_id,
        other.kind == Contribution.kind,
        other.occurred_on == Contribution.occurred_on,
        func.coalesce(other.reference, "") == func.coalesce(Contribution.reference, ""),
        other.id != Contribution.id,
        other.status.in_(COUNTED),
    )


def possible_duplicates(session: Session, ids: list[int]) -> set[int]:
    """Return which of ``ids`` have a twin: same member, kind, date and reference."""
    if not ids:
        return set()
    return set(session.scalars(select(Contribution.id).where(Contribution.id.in_(ids), has_twin())))


def _points_by_quarter_statement() -> Select:
    year = func.cast(func.extract("year", Contribution.occurred_on), Integer())
    month = func.cast(func.extract("month", Contribution.occurred_on), Integer())
    # Integer division: since SQLAlchemy 2 "/" divides integers exactly, and January, February
    # and March were three quarters "Q1" of their own (1, 1.33 and 1.67 before int()).
    quarter = (month + 2) // 3
    return (
        select(year, quarter, func.sum(Contribution.points), func.count())
        .where(Contribution.member_id == bindparam("member_id"), Contribution.status == "confirmed")
        .group_by(year, quarter)
        .order_by(year.desc(), quarter.desc())
    )


# Built once, the member bound per call: building it took 0.3 ms a page (issue 16).
_POINTS_BY_QUARTER = _points_by_quarter_statement()


def points_by_quarter(session: Session, member_id: int) -> list[tuple[int, int, int, int]]:
    """Return (year, quarter, confirmed points, confirmed records) for a member, newest first."""
    rows = session.execute(_POINTS_BY_QUARTER, {"member_id": member_id}).all()
    return [(int(y), int(q), int(p or 0), int(n)) for y, q, p, n in rows]


def save_kind(session: Session, *, code: str, actor_id: int, **fields) -> ContributionKind:
    """Add a contribution kind or change one (names, measure, points, reference, use, order)."""
    import re

    code = (code or "").strip().lower()
    if not re.fullmatch(r"[a-z][a-z0-9_]{1,39}", code):
        raise DomainError(
            N_("The code is 2–40 Latin letters, digits or _, starting with a letter.")
        )
    if fields.get("measure") not in ("hours", "count"):
        raise DomainError(N_("Unknown kind of contribution."))
    kind = session.get(ContributionKind, code)
    before = None
    if kind is None:
        kind = ContributionKind(code=code)
        session.add(kind)
    else:
        before = {k: getattr(kind, k) for k in fields}
        if kind.measure != fields["measure"] and session.scalar(
            select(Contribution.id).where(Contribution.kind == code).limit(1)
        ):
            raise Conflict(N_("Contributions of this kind exist: how it is counted cannot change."))
    for key, value in fields.items():
        setattr(kind, key, value)
    session.flush()
    audit.record(
        session,
        action="contribution_kind.save",
        object_type="contribution_kind",
        object_id=code,
        actor_id=actor_id,
        payload={"before": before, "after": fields},
    )
    return kind
