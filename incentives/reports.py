"""Rewards as pandas DataFrames: by form, by contribution kind, people rewarded, average reward.

A reward counts once the commission approved it at a closed session (its agenda item's outcome
is ``approved``) and it has not been voided. ``approved_tiyn`` is what the commission granted,
``paid_tiyn`` what has been paid or handed over. ``scope_ids`` are administrative-unit ids:
a reward counts when its commission's jurisdiction lies within one of them; ``year`` is the
nomination's reward year. The deputies' dashboard and the exports use these same frames.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from budget.reports import frame
from core import clock, places
from incentives.models import (
    FORMS,
    AgendaItem,
    Commission,
    CommissionSession,
    Nomination,
    NominationContribution,
    Payout,
)
from incentives.sober_models import Initiative
from volunteers.activity_models import Contribution, ContributionKind
from volunteers.models import Member

SETTLED = ("paid", "handed_over")
# At most one payout per item has one of these statuses (a partial unique index).
LIVE_OR_VOIDED = ("pending", "paid", "handed_over", "voided")


def _approved_items(stmt, scope_ids: list[int], year: int | None):
    stmt = (
        stmt.join(CommissionSession, AgendaItem.session_id == CommissionSession.id)
        .join(Commission, CommissionSession.commission_id == Commission.id)
        .join(Nomination, AgendaItem.nomination_id == Nomination.id)
        .join(places.AdminUnit, Commission.unit_id == places.AdminUnit.id)
        .where(
            places.units_within_clause(scope_ids),
            AgendaItem.outcome == "approved",
            CommissionSession.status.in_(("closed", "minutes_final")),
        )
    )
    if year is not None:
        stmt = stmt.where(Nomination.year == year)
    return stmt


def rewards(session: Session, *, scope_ids: list[int], year: int | None) -> pd.DataFrame:
    """Return one row per approved reward, voided ones included (``voided`` tells).

    Columns: item_id, session_id, held_on, commission_unit_id, nomination_id, form, purpose,
    member_id, recipient (the member's or the named recipient's name), recipient_key (one
    value per person), recipient_unit_id (the member's or the initiative's jurisdiction),
    line_id, approved_tiyn, payout_id, payout_status, paid_tiyn, voided, payout_at (when the
    payout was recorded, aware UTC; empty without one) and payout_on (its local date).
    """
    stmt = _approved_items(
        select(
            AgendaItem.id.label("item_id"),
            CommissionSession.id.label("session_id"),
            CommissionSession.held_on,
            Commission.unit_id.label("commission_unit_id"),
            Nomination.id.label("nomination_id"),
            Nomination.form,
            Nomination.purpose,
            Nomination.member_id,
            func.coalesce(Member.full_name, Nomination.recipient_name).label("recipient"),
            Nomination.recipient_user_id,
            func.coalesce(Member.unit_id, Initiative.unit_id).label("recipient_unit_id"),
            AgendaItem.line_id,
            Nomination.amount_tiyn.label("approved_tiyn"),
            Payout.id.label("payout_id"),
            Payout.status.label("payout_status"),
            case((Payout.status.in_(SETTLED), Payout.amount_tiyn), else_=0).label("paid_tiyn"),
            Payout.recorded_at.label("payout_at"),
        )
        .select_from(AgendaItem)
        .outerjoin(
            Payout, and_(Payout.item_id == AgendaItem.id, Payout.status.in_(LIVE_OR_VOIDED))
        ),
        scope_ids,
        year,
    ).outerjoin(Member, Nomination.member_id == Member.id)
    stmt = stmt.outerjoin(Initiative, Nomination.initiative_id == Initiative.id)
    df = frame(session, stmt.order_by(CommissionSession.held_on, AgendaItem.id))
    if df.empty:
        return pd.DataFrame(
            columns=[
                "item_id",
                "session_id",
                "held_on",
                "commission_unit_id",
                "nomination_id",
                "form",
                "purpose",
                "member_id",
                "recipient",
                "recipient_key",
                "recipient_unit_id",
                "line_id",
                "approved_tiyn",
                "payout_id",
                "payout_status",
                "paid_tiyn",
                "voided",
                "payout_at",
                "payout_on",
            ]
        )
    df["approved_tiyn"] = df["approved_tiyn"].astype("int64")
    df["paid_tiyn"] = df["paid_tiyn"].astype("int64")
    df["voided"] = df["payout_status"].eq("voided")
    # A member is one person whatever their name; a named recipient is one per account, or
    # per name when no account was given.
    member_key = "m" + df["member_id"].astype("Int64").astype("string")
    user_key = "u" + df["recipient_user_id"].astype("Int64").astype("string")
    name_key = "n" + df["recipient"].astype("string")
    df["recipient_key"] = member_key.fillna(user_key).fillna(name_key)
    local = pd.to_datetime(df["payout_at"], utc=True).dt.tz_convert(str(clock.zone()))
    df["payout_on"] = local.dt.date.where(local.notna(), None)
    return df.drop(columns=["recipient_user_id"])


def rewards_by_form(
    session: Session,
    *,
    scope_ids: list[int],
    year: int | None,
    items: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return every form of reward (all listed) with rewards, people, approved and paid sums.

    ``items`` is the ``rewards`` frame of the same scope and year when the caller has it.
    """
    df = rewards(session, scope_ids=scope_ids, year=year) if items is None else items
    live = df[~df["voided"].astype(bool)]
    grouped = live.groupby("form").agg(
        rewards=("item_id", "count"),
        people=("recipient_key", "nunique"),
        approved_tiyn=("approved_tiyn", "sum"),
        paid_tiyn=("paid_tiyn", "sum"),
    )
    grouped = grouped.reindex(list(FORMS), fill_value=0)
    grouped.index.name = "form"
    grouped = grouped.reset_index()
    for column in ("rewards", "people", "approved_tiyn", "paid_tiyn"):
        grouped[column] = grouped[column].astype("int64")
    return grouped


def rewards_by_contribution_kind(
    session: Session,
    *,
    scope_ids: list[int],
    year: int | None,
    items: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return each contribution kind behind approved rewards, through the linked contributions.

    Columns: kind, name_kk, name_ru, name_en, contributions, points, rewards, people and
    paid_tiyn (paid for the rewards this kind backed; a reward backed by several kinds counts
    under each, so this column does not add up to the total). ``items`` as in
    ``rewards_by_form``.
    """
    stmt = _approved_items(
        select(
            Contribution.kind,
            ContributionKind.name_kk,
            ContributionKind.name_ru,
            ContributionKind.name_en,
            Contribution.id.label("contribution_id"),
            func.coalesce(Contribution.points, 0).label("points"),
            AgendaItem.id.label("item_id"),
            Contribution.member_id,
        )
        .select_from(AgendaItem)
        .join(
            NominationContribution, NominationContribution.nomination_id == AgendaItem.nomination_id
        )
        .join(Contribution, NominationContribution.contribution_id == Contribution.id)
        .join(ContributionKind, Contribution.kind == ContributionKind.code),
        scope_ids,
        year,
    ).where(
        ~select(Payout.id)
        .where(Payout.item_id == AgendaItem.id, Payout.status == "voided")
        .exists()
    )
    df = frame(session, stmt)
    columns = ["kind", "name_kk", "name_ru", "name_en"]
    if df.empty:
        return pd.DataFrame(
            columns=[*columns, "contributions", "points", "rewards", "people", "paid_tiyn"]
        )
    if items is None:
        items = rewards(session, scope_ids=scope_ids, year=year)
    paid = items.set_index("item_id")["paid_tiyn"]
    grouped = (
        df.groupby(columns)
        .agg(
            contributions=("contribution_id", "nunique"),
            points=("points", "sum"),
            rewards=("item_id", "nunique"),
            people=("member_id", "nunique"),
        )
        .reset_index()
    )
    per_kind_items = df[["kind", "item_id"]].drop_duplicates()
    per_kind_items = per_kind_items.assign(paid_tiyn=per_kind_items["item_id"].map(paid).fillna(0))
    grouped = grouped.merge(
        per_kind_items.groupby("kind")["paid_tiyn"].sum().reset_index(), on="kind", how="left"
    )
    for column in ("contributions", "points", "rewards", "people", "paid_tiyn"):
        grouped[column] = grouped[column].astype("int64")
    return grouped.sort_values(["rewards", "kind"], ascending=[False, True]).reset_index(drop=True)


def reward_summary(
    session: Session,
    *,
    scope_ids: list[int],
    year: int | None,
    items: pd.DataFrame | None = None,
) -> dict:
    """Return the headline figures: rewards, people rewarded, sums and average reward.

    ``average_reward_tiyn`` is the paid sum over the rewards paid in money (cash, or a gift's
    cost); ``average_per_person_tiyn`` the paid sum over the people rewarded. Both in whole tiyn.
    ``items`` as in ``rewards_by_form``.
    """
    df = rewards(session, scope_ids=scope_ids, year=year) if items is None else items
    live = df[~df["voided"].astype(bool)]
    paid_money = live[(live["paid_tiyn"] > 0)]
    people = int(live["recipient_key"].nunique())
    paid = int(live["paid_tiyn"].sum())
    return {
        "rewards": len(live),
        "people": people,
        "approved_tiyn": int(live["approved_tiyn"].sum()),
        "paid_tiyn": paid,
        "paid_rewards": len(paid_money),
        "average_reward_tiyn": paid // len(paid_money) if len(paid_money) else 0,
        "average_per_person_tiyn": paid // people if people else 0,
        "voided": int(df["voided"].astype(bool).sum()),
    }
