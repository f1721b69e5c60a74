"""The body reviewing complaints per jurisdiction: the nearest configured ancestor's row applies."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from appeals.models import AppealSetting
from core import accounts, audit, bilingual, places
from core.accounts import User
from core.db import utcnow
from core.errors import N_, DomainError, NotFound
from core.scope import Scope

MAX_HOW = 4000


@dataclass(frozen=True)
class ReviewBody:
    """Who reviews complaints against acts of a jurisdiction (Art. 91(4)), as the act names it.

    ``unit_id``: the unit whose ``reviewer`` role holders decide (None: only the named official);
    ``reviewer_id``: a named official; ``set_on``: the unit whose setting applies.
    """

    unit_id: int | None
    reviewer_id: int | None
    name_kk: str
    name_ru: str
    how_kk: str
    how_ru: str
    set_on: int | None = None


def ancestors(session: Session, unit_id: int) -> list[int]:
    """Return the unit's ids from the root down to the unit itself."""
    chain = places.chain_ids(session, unit_id)
    if not chain:
        raise NotFound(N_("No such jurisdiction."))
    return chain[::-1]


def review_body(session: Session, unit_id: int) -> ReviewBody | None:
    """Return the review body for acts of ``unit_id``: its own row or the nearest ancestor's.

    None when no unit on the way up has one (the administrator has not configured it).
    """
    chain = ancestors(session, unit_id)
    rows = {
        row.unit_id: row
        for row in session.scalars(select(AppealSetting).where(AppealSetting.unit_id.in_(chain)))
    }
    for candidate in reversed(chain):
        row = rows.get(candidate)
        if row is not None:
            return ReviewBody(
                unit_id=row.review_unit_id,
                reviewer_id=row.reviewer_id,
                name_kk=row.body_kk,
                name_ru=row.body_ru,
                how_kk=row.how_kk,
                how_ru=row.how_ru,
                set_on=row.unit_id,
            )
    return None


def is_reviewer(session: Session, body: ReviewBody | None, user: User | None) -> bool:
    """Tell whether ``user`` may decide for ``body``: its named official, or a ``reviewer`` on
    its unit or on a unit above it. (Never the act's author: appeals.complaints checks that.)"""
    if body is None or user is None or not user.is_active:
        return False
    if body.reviewer_id is not None and body.reviewer_id == user.id:
        return True
    return body.unit_id is not None and accounts.holds(session, user, "reviewer", body.unit_id)


def set_review_body(
    session: Session,
    *,
    unit_id: int,
    review_unit_id: int | None,
    reviewer_id: int | None,
    body_kk: str,
    body_ru: str,
    how_kk: str,
    how_ru: str,
    actor_id: int,
) -> AppealSetting:
    """Configure (or change) who reviews complaints against the acts of ``unit_id`` (an admin
    over it): a higher unit whose reviewers decide, and/or a named official."""
    accounts.require_admin_over(session, actor_id, unit_id)
    if review_unit_id is None and reviewer_id is None:
        raise DomainError(N_("Choose the reviewing unit or the reviewing official."))
    if review_unit_id is not None:
        if session.get(places.AdminUnit, review_unit_id) is None:
            raise DomainError(N_("Choose a jurisdiction from the list.")).at("review_unit_id")
        # The body that reviews is a higher one (Art. 91(4)): strictly above the unit.
        if review_unit_id == unit_id or review_unit_id not in ancestors(session, unit_id):
            raise DomainError(N_("The reviewing unit must be a jurisdiction above this one.")).at(
                "review_unit_id"
            )
    if reviewer_id is not None:
        official = session.get(User, reviewer_id)
        if official is None or not official.is_active:
            raise DomainError(N_("Choose an active account.")).at("reviewer_id")
    try:
        body_kk, body_ru = bilingual.both(body_kk, body_ru)
    except DomainError as exc:
        raise exc.at("body_kk") from None
    for name, value in (("how_kk", how_kk), ("how_ru", how_ru)):
        if len((value or "").strip()) > MAX_HOW:
            raise DomainError(N_("A text is longer than %(n)s characters."), n=MAX_HOW).at(name)
    row = session.get(AppealSetting, unit_id)
    if row is None:
        row = AppealSetting(unit_id=unit_id)
        session.add(row)
    row.review_unit_id, row.reviewer_id = review_unit_id, reviewer_id
    row.body_kk, row.body_ru = body_kk, body_ru
    row.how_kk, row.how_ru = (how_kk or "").strip(), (how_ru or "").strip()
    row.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        action="appeal_setting.save",
        object_type="appeal_setting",
        object_id=unit_id,
        actor_id=actor_id,
        payload={"review_unit_id": review_unit_id, "reviewer_id": reviewer_id},
    )
    return row


def settings_in(session: Session, scope: Scope) -> list[AppealSetting]:
    """Return the configured rows within ``scope`` (the administrator's list)."""
    stmt = select(AppealSetting).where(scope.clause(AppealSetting.unit_id))
    return list(session.scalars(stmt.order_by(AppealSetting.unit_id)))
