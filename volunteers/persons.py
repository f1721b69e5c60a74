"""The person behind accounts and records: one definition of "the IINs of a user".

A person is their IIN, whatever account, application or register entry a record came from. An
account is linked to an IIN by a register entry it holds (``Member.user_id``) or by an
application it filed (``Application.applicant_id``); a walk-in or imported entry carries the
IIN without an account, and is the same person as any account linked to that IIN. Recusal,
the annual cap, duplicate-reward checks and red flags compare people through this module only.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from volunteers.models import Application, Member


def iin_is_user(iin, user_id) -> ColumnElement[bool]:
    """SQL: the IIN ``iin`` is linked to the account ``user_id`` (either may be a column)."""
    member, application = aliased(Member), aliased(Application)
    return or_(
        exists().where(member.user_id == user_id, member.iin == iin).correlate_except(member),
        exists()
        .where(application.applicant_id == user_id, application.iin == iin)
        .correlate_except(application),
    )


def same_person(*, iin, user_id, other_user_id) -> ColumnElement[bool]:
    """SQL: the person known by ``iin`` and/or the account ``user_id`` is the account
    ``other_user_id``: the same account, an IIN linked to it, or an IIN both accounts share.

    ``iin`` and ``user_id`` may be NULL columns (a collective recipient has neither).
    """
    member, application = aliased(Member), aliased(Application)
    return or_(
        user_id == other_user_id,
        and_(iin.is_not(None), iin_is_user(iin, other_user_id)),
        exists()
        .where(member.user_id == user_id, iin_is_user(member.iin, other_user_id))
        .correlate_except(member),
        exists()
        .where(application.applicant_id == user_id, iin_is_user(application.iin, other_user_id))
        .correlate_except(application),
    )


def iins_of(session: Session, user_ids: Iterable[int | None]) -> dict[int, set[str]]:
    """Return the IINs linked to each of the accounts, in two queries."""
    ids = {u for u in user_ids if u}
    found: dict[int, set[str]] = {u: set() for u in ids}
    if not ids:
        return found
    rows = (
        session.execute(select(Member.user_id, Member.iin).where(Member.user_id.in_(ids))).all()
        + session.execute(
            select(Application.applicant_id, Application.iin).where(
                Application.applicant_id.in_(ids)
            )
        ).all()
    )
    for user_id, iin in rows:
        found[user_id].add(iin)
    return found


def user_iin(user_id) -> ColumnElement:
    """Return SQL for the IIN of the account ``user_id``: its register entry's, else its
    application's (NULL when the account is linked to none)."""
    member, application = aliased(Member), aliased(Application)
    return func.coalesce(
        select(member.iin)
        .where(member.user_id == user_id)
        .order_by(member.id)
        .limit(1)
        .correlate_except(member)
        .scalar_subquery(),
        select(application.iin)
        .where(application.applicant_id == user_id)
        .order_by(application.id)
        .limit(1)
        .correlate_except(application)
        .scalar_subquery(),
    )


def nominee_iin(member_iin, recipient_user_id) -> ColumnElement:
    """Return SQL for the IIN of a reward's recipient: the register entry's, else that of the
    account named as recipient (an activist without an entry); NULL for a collective."""
    return func.coalesce(member_iin, user_iin(recipient_user_id))
