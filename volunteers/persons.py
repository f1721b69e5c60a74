"""The person behind accounts and records: one definition of "the IINs of a user".

A person is their IIN, whatever account, application or register entry a record came from. An
account is linked to an IIN by a register entry it holds (``Member.user_id``) or by an
application it filed (``Application.applicant_id``); a walk-in or imported entry carries the
IIN without an account, and is the same person as any account linked to that IIN. Recusal,
the annual cap, duplicate-reward checks and red flags compare people through this module only.

IINs are sealed at rest, so SQL compares their blind index (``iin_index``): a person's **key**
here is that index, never the IIN itself. ``key_of`` turns a typed IIN into one.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, union
from sqlalchemy.orm import Session, aliased

from core.sealing import blind_index
from volunteers.models import Application, Member


def key_of(iin: str) -> str:
    """Return the person key of a valid (already parsed) IIN."""
    return blind_index(iin, "iin")


def key_is_user(key, user_id) -> ColumnElement[bool]:
    """SQL: the person ``key`` is linked to the account ``user_id`` (either may be a column)."""
    member, application = aliased(Member), aliased(Application)
    return or_(
        exists().where(member.user_id == user_id, member.iin_index == key).correlate_except(member),
        exists()
        .where(application.applicant_id == user_id, application.iin_index == key)
        .correlate_except(application),
    )


def same_person(*, key, user_id, other_user_id) -> ColumnElement[bool]:
    """SQL: the person known by ``key`` and/or the account ``user_id`` is the account
    ``other_user_id``: the same account, an IIN linked to it, or an IIN both accounts share.

    ``key`` and ``user_id`` may be NULL columns (a collective recipient has neither).
    """
    member, application = aliased(Member), aliased(Application)
    return or_(
        user_id == other_user_id,
        and_(key.is_not(None), key_is_user(key, other_user_id)),
        exists()
        .where(member.user_id == user_id, key_is_user(member.iin_index, other_user_id))
        .correlate_except(member),
        exists()
        .where(
            application.applicant_id == user_id,
            key_is_user(application.iin_index, other_user_id),
        )
        .correlate_except(application),
    )


def keys_select(user_id: int):
    """Return the person keys linked to the account ``user_id``, as a SQL select (``keys_of``
    for one account, inside another statement)."""
    return union(
        select(Member.iin_index).where(Member.user_id == user_id),
        select(Application.iin_index).where(Application.applicant_id == user_id),
    )


def keys_of(session: Session, user_ids: Iterable[int | None]) -> dict[int, set[str]]:
    """Return the person keys linked to each of the accounts, in two queries."""
    ids = {u for u in user_ids if u}
    found: dict[int, set[str]] = {u: set() for u in ids}
    if not ids:
        return found
    rows = (
        session.execute(
            select(Member.user_id, Member.iin_index).where(Member.user_id.in_(ids))
        ).all()
        + session.execute(
            select(Application.applicant_id, Application.iin_index).where(
                Application.applicant_id.in_(ids)
            )
        ).all()
    )
    for user_id, key in rows:
        found[user_id].add(key)
    return found


def _user_column(user_id, member_column: str, application_column: str) -> ColumnElement:
    member, application = aliased(Member), aliased(Application)
    return func.coalesce(
        select(getattr(member, member_column))
        .where(member.user_id == user_id)
        .order_by(member.id)
        .limit(1)
        .correlate_except(member)
        .scalar_subquery(),
        select(getattr(application, application_column))
        .where(application.applicant_id == user_id)
        .order_by(application.id)
        .limit(1)
        .correlate_except(application)
        .scalar_subquery(),
    )


def user_key(user_id) -> ColumnElement:
    """Return SQL for the person key of the account ``user_id``: its register entry's, else
    its application's (NULL when the account is linked to none)."""
    return _user_column(user_id, "iin_index", "iin_index")


def nominee_key(member_key, recipient_user_id) -> ColumnElement:
    """Return SQL for the person key of a reward's recipient: the register entry's, else that
    of the account named as recipient (an activist without an entry); NULL for a collective."""
    return func.coalesce(member_key, user_key(recipient_user_id))


def nominee_iin(member_iin, recipient_user_id) -> ColumnElement:
    """Return SQL for the (sealed) IIN of a reward's recipient, to show it, never to compare."""
    return func.coalesce(member_iin, _user_column(recipient_user_id, "iin", "iin"))
