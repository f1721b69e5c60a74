"""Who plans shifts, and the memberships of the signed-in volunteer."""

from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from portal.extensions import db
from volunteers.activity_models import Signup
from volunteers.models import Member

PLANNERS = ("coordinator",)


# Built once, the user bound per call: building it (with its joined load) took 0.13-0.18 ms of
# every volunteer's page (issue 16).
_MY_MEMBERS = (
    select(Member)
    .where(Member.user_id == bindparam("user_id"))
    .options(joinedload(Member.patrol_unit))  # shown beside each membership: one statement
    .order_by(Member.id)
)


def my_members() -> list[Member]:
    return list(db.session.scalars(_MY_MEMBERS, {"user_id": current_user.id}))


def my_member(member_id: int | None = None, mine: list[Member] | None = None) -> Member:
    """Return one of the current user's memberships (the first active one by default).

    ``mine``: the memberships, when the caller has read them already (``my_members``).
    """
    mine = my_members() if mine is None else mine
    if member_id is not None:
        found = next((m for m in mine if m.id == member_id), None)
        if found is None:
            abort(404)
        return found
    active = [m for m in mine if m.status == "active"] or mine
    if not active:
        abort(404)
    return active[0]


def my_signup(signup_id: int) -> Signup:
    """Return one of the current user's sign-ups; anyone else's is "not found" (404)."""
    signup = db.session.get(Signup, signup_id)
    if signup is None or signup.member.user_id != current_user.id:
        abort(404)
    return signup
