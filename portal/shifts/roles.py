"""Who plans shifts, and the memberships of the signed-in volunteer."""

from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import select

from portal.extensions import db
from volunteers.models import Member

PLANNERS = ("coordinator",)


def my_members() -> list[Member]:
    return list(
        db.session.scalars(
            select(Member).where(Member.user_id == current_user.id).order_by(Member.id)
        )
    )


def my_member(member_id: int | None = None) -> Member:
    """Return one of the current user's memberships (the first active one by default)."""
    mine = my_members()
    if member_id is not None:
        found = next((m for m in mine if m.id == member_id), None)
        if found is None:
            abort(404)
        return found
    active = [m for m in mine if m.status == "active"] or mine
    if not active:
        abort(404)
    return active[0]
