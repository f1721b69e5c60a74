"""Scoped reads of rewards: policies, commissions, sessions, approved items and payouts.

The commission's, finance's and deputies' pages list these through here, limited to a ``Scope``
in one place (the red flags, reports and exports take the same ``Scope``); each statement joins
``AdminUnit`` for the callers' filters and order.
"""

from __future__ import annotations

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import joinedload, lazyload, selectinload

from core.bilingual import in_language
from core.places import AdminUnit
from core.queries import with_units
from core.scope import Scope
from incentives.agenda import RECIPIENT
from incentives.models import (
    AgendaItem,
    Commission,
    CommissionSession,
    Nomination,
    PayoutTaxRate,
    RewardPolicy,
)
from volunteers.models import Member

SETTLED_SESSIONS = ("closed", "minutes_final")


def policies(scope: Scope) -> Select:
    """Return (policy, unit) rows for the reward policies of ``scope``, newest first per unit."""
    return with_units(select(RewardPolicy, AdminUnit), RewardPolicy.unit_id, scope).order_by(
        AdminUnit.path, RewardPolicy.effective_from.desc()
    )


def commissions(scope: Scope) -> Select:
    """Return the commissions of ``scope`` in tree order."""
    return with_units(select(Commission), Commission.unit_id, scope).order_by(AdminUnit.path)


def commissions_with_units(scope: Scope) -> Select:
    """Return (commission, unit) rows for the commissions of ``scope`` in tree order."""
    return with_units(select(Commission, AdminUnit), Commission.unit_id, scope).order_by(
        AdminUnit.path
    )


def sessions(scope: Scope, language: str) -> Select:
    """Return the sittings of the commissions of ``scope`` as list rows: the session's
    ``id``, ``held_on``, ``place``, ``on_paper``, ``status``, its ``commission``'s name and
    how many ``items`` its agenda holds (columns, not entities: a list shows only these).

    ``place`` and ``commission`` are in ``language``: the column is picked once for the
    statement rather than per row while rendering (issue 16).
    """
    items = (
        select(func.count())
        .where(AgendaItem.session_id == CommissionSession.id)
        .correlate(CommissionSession)
        .scalar_subquery()
    )
    return with_units(
        select(
            CommissionSession.id,
            CommissionSession.held_on,
            in_language(CommissionSession, "place", language).label("place"),
            CommissionSession.on_paper,
            CommissionSession.status,
            in_language(Commission, "name", language).label("commission"),
            items.label("items"),
        ).join(Commission, CommissionSession.commission_id == Commission.id),
        Commission.unit_id,
        scope,
    )


# What a list of agenda items shows of each nomination: its recipient's name, its form and
# amount. Not the member's unit, nor the initiative with its unit and comments, which the
# models load eagerly: on a page of 50 payouts they were most of the rows' weight (issue 16).
NOMINATION_NAMED = joinedload(AgendaItem.nomination).options(
    joinedload(Nomination.member).lazyload(Member.unit), lazyload(Nomination.initiative)
)


def approved_only(stmt: Select, scope: Scope) -> Select:
    """Restrict ``stmt`` (over agenda items) to the rewards approved at settled sittings of
    commissions in ``scope``; it joins the sitting, the commission and its unit."""
    return with_units(
        stmt.join(CommissionSession, AgendaItem.session_id == CommissionSession.id).join(
            Commission, CommissionSession.commission_id == Commission.id
        ),
        Commission.unit_id,
        scope,
    ).where(AgendaItem.outcome == "approved", CommissionSession.status.in_(SETTLED_SESSIONS))


def approved_items(scope: Scope) -> Select:
    """Return (item, session, commission) rows for the rewards approved at settled sittings."""
    return approved_only(select(AgendaItem, CommissionSession, Commission), scope).options(
        NOMINATION_NAMED
    )


def approved_item_rows(scope: Scope, language: str) -> Select:
    """Return ``approved_items`` as the plain columns a list of payouts shows: the item's
    ``id``, its sitting's ``session_id``, ``held_on``, ``status`` and ``act_number``, the
    ``commission``'s name in ``language`` and its ``unit_id``, the nomination's ``form``,
    ``amount_tiyn`` and ``recipient``. Entities with their eager chains were most of a page's
    time (issue 16)."""
    return approved_only(
        select(
            AgendaItem.id,
            CommissionSession.id.label("session_id"),
            CommissionSession.held_on,
            CommissionSession.status,
            CommissionSession.act_number,
            in_language(Commission, "name", language).label("commission"),
            Commission.unit_id,
            Nomination.form,
            Nomination.amount_tiyn,
            RECIPIENT.label("recipient"),
        )
        .select_from(AgendaItem)
        .join(Nomination, AgendaItem.nomination_id == Nomination.id)
        .outerjoin(Member, Nomination.member_id == Member.id),
        scope,
    )


def line_reward_rows(line_id: int) -> tuple[Select, Select]:
    """Return the rewards approved on the budget line ``line_id``, oldest sitting first, as the
    plain columns a list shows (the item's ``id``, ``session_id``, ``held_on``, the
    nomination's ``form``, ``amount_tiyn`` and ``recipient``), and a select of their ids to
    count. A region's line funds hundreds a year; the items with their eagerly loaded
    nominations, members and initiatives took a tenth of a second (issue 16)."""
    charged = (AgendaItem.line_id == line_id, AgendaItem.outcome == "approved")
    rows = (
        select(
            AgendaItem.id,
            CommissionSession.id.label("session_id"),
            CommissionSession.held_on,
            Nomination.form,
            Nomination.amount_tiyn,
            RECIPIENT.label("recipient"),
        )
        .join(CommissionSession, AgendaItem.session_id == CommissionSession.id)
        .join(Nomination, AgendaItem.nomination_id == Nomination.id)
        .outerjoin(Member, Nomination.member_id == Member.id)
        .where(*charged)
        .order_by(CommissionSession.held_on, AgendaItem.position, AgendaItem.id)
    )
    return rows, select(AgendaItem.id).where(*charged)


def tax_rates(scope: Scope) -> Select:
    """Return (rate, unit) rows for the payout tax rates of ``scope``."""
    return with_units(select(PayoutTaxRate, AdminUnit), PayoutTaxRate.unit_id, scope).order_by(
        AdminUnit.path, PayoutTaxRate.form, PayoutTaxRate.effective_from.desc()
    )


def rewards_of(user_id: int) -> Select:
    """Return the nominations of ``user_id`` past the draft, newest first: as a member of the
    register, or as the recipient a nomination names (an activist of a sober settlement)."""
    mine = select(Member.id).where(Member.user_id == user_id)
    return (
        select(Nomination)
        .where(
            or_(Nomination.member_id.in_(mine), Nomination.recipient_user_id == user_id),
            Nomination.status != "draft",
        )
        # Each row names its commission: one query for all of them, not one per row. No row
        # shows the member: joined eagerly by default, it made PostgreSQL (guessing that half
        # the nominations match the ``or_``) read the whole register, 15 ms at 50,000 members.
        .options(selectinload(Nomination.commission), lazyload(Nomination.member))
        .order_by(Nomination.created_at.desc(), Nomination.id.desc())
    )


def approved_items_of(nomination_ids: list[int]) -> Select:
    """Return the approved agenda items of the nominations ``nomination_ids``."""
    return select(AgendaItem).where(
        AgendaItem.nomination_id.in_(nomination_ids), AgendaItem.outcome == "approved"
    )
