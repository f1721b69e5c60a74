"""Scoped reads of volunteers: applications, members, patrol units, shifts and contributions.

Views, reports and exports list these records through here so that each list is limited to a
``Scope`` in one place; a detail read goes through ``core.scope.get_scoped``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session, contains_eager, lazyload

from core import search_text
from core.bilingual import in_language
from core.places import AdminUnit
from core.queries import with_units
from core.scope import Scope
from volunteers.activity_models import (
    OPEN_SIGNUP_STATUSES,
    Contribution,
    ContributionKind,
    Shift,
    Signup,
)
from volunteers.attendance import UNDO_WINDOW
from volunteers.contributions import has_twin
from volunteers.models import Application, Member, PatrolUnit
from volunteers.shift_planning import OPEN_SHIFTS, open_shifts_values


def applications(scope: Scope) -> Select:
    """Return the applications filed in ``scope``."""
    return with_units(select(Application), Application.unit_id, scope)


def members(scope: Scope) -> Select:
    """Return the register's members of ``scope`` (their unit joined for filters)."""
    return with_units(select(Member), Member.unit_id, scope)


def member_search(text: str, *, iin_scope: Scope) -> ColumnElement[bool]:
    """SQL: the member is what the search box's ``text`` asks for (core.search_text).

    A name in any case and Kazakh or Russian spelling (words begin words of the name), a
    certificate number as printed, or a whole IIN, compared through its blind index and only
    for members in ``iin_scope`` (where the reader vets: an IIN is not a deputy's lookup key).
    """
    return search_text.matches(
        search_text.parse_query(text),
        key=Member.search_name,
        name=Member.full_name,
        certificate=Member.certificate_no,
        iin_index=Member.iin_index,
        iin_allowed=iin_scope.clause(Member.unit_id),
    )


def application_search(text: str) -> ColumnElement[bool]:
    """SQL: the application is what the search box's ``text`` asks for: a name or an IIN."""
    return search_text.matches(
        search_text.parse_query(text),
        key=Application.search_name,
        name=Application.full_name,
        iin_index=Application.iin_index,
    )


def patrol_units(scope: Scope) -> Select:
    """Return the patrol units of ``scope``, by name."""
    return with_units(select(PatrolUnit), PatrolUnit.unit_id, scope).order_by(PatrolUnit.name)


def patrol_units_with_strength(scope: Scope) -> Select:
    """Return (patrol unit, active members) for the patrol units of ``scope``, by name."""
    return (
        with_units(select(PatrolUnit, func.count(Member.id)), PatrolUnit.unit_id, scope)
        .outerjoin(Member, (Member.patrol_unit_id == PatrolUnit.id) & (Member.status == "active"))
        .group_by(PatrolUnit.id)
        .order_by(PatrolUnit.name)
    )


def shifts(unit_ids: list[int] | None) -> Select:
    """Return the shifts of the units ``unit_ids`` (every unit when ``None``).

    A list of ids (``Scope.unit_ids_covered``), not a correlated test per shift: the planner then
    sees how many shifts match and reads a region's history in index order instead of sorting it.
    """
    stmt = select(Shift)
    return stmt if unit_ids is None else stmt.where(Shift.unit_id.in_(unit_ids))


def shift_rows(shifts_stmt: Select, language: str) -> Select:
    """Return the shifts of ``shifts_stmt`` (``shifts`` narrowed and ordered by the caller) as
    the plain columns the planners' list shows: the shift's ``id``, ``starts_at``, ``ends_at``,
    ``place``, ``taken``, ``capacity``, ``status`` and ``closed_at``, its ``unit``'s name in
    ``language`` and its ``patrol_unit``'s name (None for the whole district). Shifts with their
    eagerly joined units were a third of the list's time (issue 16)."""
    return (
        shifts_stmt.with_only_columns(
            Shift.id,
            Shift.starts_at,
            Shift.ends_at,
            Shift.place,
            Shift.taken,
            Shift.capacity,
            Shift.status,
            Shift.closed_at,
            in_language(AdminUnit, "name", language).label("unit"),
            PatrolUnit.name.label("patrol_unit"),
        )
        .join(AdminUnit, AdminUnit.id == Shift.unit_id)
        .outerjoin(PatrolUnit, PatrolUnit.id == Shift.patrol_unit_id)
    )


def roster(shift_id: int) -> Select:
    """Return the sign-ups of a shift as its page and the API list them: by status, then order."""
    return (
        select(Signup)
        .where(Signup.shift_id == shift_id)
        .order_by(Signup.status, Signup.signed_up_at)
    )


def contributions_to_confirm(scope: Scope) -> Select:
    """Return the logged contributions of ``scope`` waiting for a decision, oldest first."""
    return (
        with_units(select(Contribution), Contribution.unit_id, scope)
        .where(Contribution.status == "logged")
        .order_by(Contribution.occurred_on, Contribution.id)
    )


def confirmation_queue(scope: Scope, locale: str) -> Select:
    """Return the rows of the confirmation queue of ``scope``, oldest first, as plain columns.

    Each row: the contribution's columns the queue shows, its member's ``full_name`` and
    ``member_user_id``, its kind's ``kind_name`` in ``locale`` and whether it ``has_twin``. One
    statement of columns instead of entities, their members and a duplicate check per page:
    the queue is a coordinator's main page (issue 16). Count with ``contributions_to_confirm``.
    """
    kind_name = {"ru": ContributionKind.name_ru, "en": ContributionKind.name_en}.get(
        locale, ContributionKind.name_kk
    )
    return (
        with_units(
            select(
                Contribution.id,
                Contribution.member_id,
                Contribution.occurred_on,
                Contribution.minutes,
                Contribution.description,
                Contribution.reference,
                Contribution.corrects_id,
                Contribution.logged_by_id,
                Member.full_name,
                Member.user_id.label("member_user_id"),
                kind_name.label("kind_name"),
                has_twin().label("has_twin"),
            )
            .select_from(Contribution)
            .join(Member, Member.id == Contribution.member_id)
            .join(ContributionKind, ContributionKind.code == Contribution.kind),
            Contribution.unit_id,
            scope,
        )
        .where(Contribution.status == "logged")
        .order_by(Contribution.occurred_on, Contribution.id)
    )


def member_contributions(member_id: int) -> Select:
    """Return a member's contributions, newest first (the history of their contributions)."""
    return (
        select(Contribution)
        .where(Contribution.member_id == member_id)
        .order_by(Contribution.occurred_on.desc(), Contribution.id.desc())
    )


def signups_of_user(
    user_id: int, *, member_id: int | None = None, status: str | None = None
) -> Select:
    """Return the sign-ups of ``user_id``'s memberships (of one, and in one status, if given)."""
    stmt = (
        select(Signup)
        .join(Member, Member.id == Signup.member_id)
        .where(Member.user_id == user_id)
        .order_by(Signup.starts_at.desc(), Signup.id.desc())
    )
    if member_id is not None:
        stmt = stmt.where(Signup.member_id == member_id)
    if status is not None:
        stmt = stmt.where(Signup.status == status)
    return stmt


# The open shifts a member has no live place on: built once, as OPEN_SHIFTS is.
_OPEN_TO_JOIN = OPEN_SHIFTS.where(
    Shift.id.not_in(
        select(Signup.shift_id).where(
            Signup.member_id == bindparam("member_id"),
            Signup.status.in_(OPEN_SIGNUP_STATUSES),
        )
    )
)
OPEN_SHOWN = 30  # the soonest open shifts on the member's shifts page
_FIRST_OPEN_TO_JOIN = _OPEN_TO_JOIN.limit(OPEN_SHOWN)


def _open_to_join_values(member: Member, now: dt.datetime) -> dict:
    return {"member_id": member.id, **open_shifts_values(member, now)}


def open_shifts_to_join(member: Member, now: dt.datetime) -> Select:
    """Return the upcoming shifts ``member`` may join and has no live place on, soonest first."""
    return _OPEN_TO_JOIN.params(_open_to_join_values(member, now))


def first_open_shifts_to_join(session: Session, member: Member, now: dt.datetime) -> list[Shift]:
    """Return the OPEN_SHOWN soonest shifts ``member`` may join and has no live place on.

    The statement itself runs, its values bound: a copy with ``params`` would cost its cache
    key again (0.08 ms), building it anew 0.3-0.4 ms of the page (issue 16).
    """
    return list(session.scalars(_FIRST_OPEN_TO_JOIN, _open_to_join_values(member, now)))


PAST_SHOWN = 10  # the member's latest finished sign-ups on their shifts page


@dataclasses.dataclass(frozen=True)
class MemberSignups:
    """What a member's shifts page lists of their own sign-ups."""

    upcoming: list[Signup]  # live places on planned shifts, soonest first
    undoable: list[Signup]  # check-outs still within UNDO_WINDOW, latest first
    past: list[Signup]  # the last PAST_SHOWN finished, latest first


def _member_signups_statement() -> Select:
    upcoming = and_(Signup.status.in_(OPEN_SIGNUP_STATUSES), Shift.status == "planned")
    undoable = and_(Signup.status == "completed", Signup.checked_out_at >= bindparam("undo_since"))
    latest_finished = (
        select(Signup.id)
        .where(
            Signup.member_id == bindparam("member_id"),
            Signup.status.in_(("completed", "no_show")),
        )
        .order_by(Signup.starts_at.desc(), Signup.id.desc())
        .limit(PAST_SHOWN)
    )
    past = Signup.id.in_(latest_finished)
    return (
        select(Signup, upcoming.label("upcoming"), undoable.label("undoable"), past.label("past"))
        .join(Shift, Shift.id == Signup.shift_id)
        .where(Signup.member_id == bindparam("member_id"), or_(upcoming, undoable, past))
        .options(
            lazyload(Signup.member),
            contains_eager(Signup.shift).lazyload(Shift.patrol_unit),
        )
    )


# Built once, with the member and the time bound per call: building it took 0.56 ms a page,
# more than running it (issue 16).
_MEMBER_SIGNUPS = _member_signups_statement()


def member_signups(session: Session, member_id: int, now: dt.datetime) -> MemberSignups:
    """Return a member's upcoming, undoable and past sign-ups, read in one statement.

    Each row says in SQL which of the three lists it belongs to (a recent check-out is both
    undoable and past), so the conditions are written once; the lists were three statements,
    a tenth of the page (issue 16). A sign-up comes with its shift and the shift's unit, as the
    page shows them; the member (the page's own) and the patrol unit still load if ever read.
    """
    rows = session.execute(
        _MEMBER_SIGNUPS, {"member_id": member_id, "undo_since": now - UNDO_WINDOW}
    ).all()

    def listed(flag: str, key, latest_first: bool) -> list[Signup]:
        return sorted((r.Signup for r in rows if r._mapping[flag]), key=key, reverse=latest_first)

    return MemberSignups(
        upcoming=listed("upcoming", lambda s: (s.starts_at, s.id), False),
        undoable=listed("undoable", lambda s: (s.checked_out_at, s.id), True),
        past=listed("past", lambda s: (s.starts_at, s.id), True),
    )
