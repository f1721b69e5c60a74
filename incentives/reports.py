"""Rewards by form, by contribution kind, people rewarded, average reward: frames and figures.

A reward counts once the commission approved it at a closed session (its agenda item's outcome
is ``approved``) and it has not been voided. ``approved_tiyn`` is what the commission granted,
``paid_tiyn`` what has been paid or handed over. A ``Scope`` says where to look:
a reward counts when its commission's jurisdiction lies within it; ``year`` is the
nomination's reward year. The exports use the frames; the deputies' dashboard, read on every
request, takes the same figures grouped by the database (``reward_figures``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import (
    CompoundSelect,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from budget.reports import frame
from core import clock
from core.scope import Scope, per_scope
from incentives.models import (
    FORMS,
    AgendaItem,
    Commission,
    CommissionSession,
    Nomination,
    NominationContribution,
    Payout,
)
from incentives.queries import approved_only
from incentives.sober_models import Initiative
from volunteers.activity_models import Contribution, ContributionKind
from volunteers.models import Member

if TYPE_CHECKING:
    # pandas takes 1.3 s to import and only the report functions use it: they import it
    # themselves, so the app's processes (web workers, job workers, commands) start without it.
    import pandas as pd

SETTLED = ("paid", "handed_over")
# At most one payout per item has one of these statuses (a partial unique index).
LIVE_OR_VOIDED = ("pending", "paid", "handed_over", "voided")


def _approved_items(stmt, scope: Scope, year: int | None):
    stmt = approved_only(stmt, scope).join(Nomination, AgendaItem.nomination_id == Nomination.id)
    if year is not None:
        stmt = stmt.where(Nomination.year == year)
    return stmt


def _backing_contributions(stmt, scope: Scope, year: int | None):
    """Return ``stmt`` over the contributions (and kinds) behind approved, not voided rewards."""
    return _approved_items(
        stmt.select_from(AgendaItem)
        .join(
            NominationContribution, NominationContribution.nomination_id == AgendaItem.nomination_id
        )
        .join(Contribution, NominationContribution.contribution_id == Contribution.id)
        .join(ContributionKind, Contribution.kind == ContributionKind.code),
        scope,
        year,
    ).where(
        ~select(Payout.id)
        .where(Payout.item_id == AgendaItem.id, Payout.status == "voided")
        .exists()
    )


def rewards(session: Session, *, scope: Scope, year: int | None) -> pd.DataFrame:
    """Return one row per approved reward, voided ones included (``voided`` tells).

    Columns: item_id, session_id, held_on, commission_unit_id, nomination_id, form, purpose,
    member_id, recipient (the member's or the named recipient's name), recipient_key (one
    value per person), recipient_unit_id (the member's or the initiative's jurisdiction),
    line_id, approved_tiyn, payout_id, payout_status, paid_tiyn, voided, payout_at (when the
    payout was recorded, aware UTC; empty without one) and payout_on (its local date).
    """
    import pandas as pd

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
        scope,
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
    scope: Scope,
    year: int | None,
    items: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return every form of reward (all listed) with rewards, people, approved and paid sums.

    ``items`` is the ``rewards`` frame of the same scope and year when the caller has it.
    """
    df = rewards(session, scope=scope, year=year) if items is None else items
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
    scope: Scope,
    year: int | None,
    items: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return each contribution kind behind approved rewards, through the linked contributions.

    Columns: kind, name_kk, name_ru, name_en, contributions, points, rewards, people and
    paid_tiyn (paid for the rewards this kind backed; a reward backed by several kinds counts
    under each, so this column does not add up to the total). ``items`` as in
    ``rewards_by_form``.
    """
    import pandas as pd

    stmt = _backing_contributions(
        select(
            Contribution.kind,
            ContributionKind.name_kk,
            ContributionKind.name_ru,
            ContributionKind.name_en,
            Contribution.id.label("contribution_id"),
            func.coalesce(Contribution.points, 0).label("points"),
            AgendaItem.id.label("item_id"),
            Contribution.member_id,
        ),
        scope,
        year,
    )
    df = frame(session, stmt)
    columns = ["kind", "name_kk", "name_ru", "name_en"]
    if df.empty:
        return pd.DataFrame(
            columns=[*columns, "contributions", "points", "rewards", "people", "paid_tiyn"]
        )
    if items is None:
        items = rewards(session, scope=scope, year=year)
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
    scope: Scope,
    year: int | None,
    items: pd.DataFrame | None = None,
) -> dict:
    """Return the headline figures: rewards, people rewarded, sums and average reward.

    ``average_reward_tiyn`` is the paid sum over the rewards paid in money (cash, or a gift's
    cost); ``average_per_person_tiyn`` the paid sum over the people rewarded. Both in whole tiyn.
    ``items`` as in ``rewards_by_form``.
    """
    df = rewards(session, scope=scope, year=year) if items is None else items
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


# ---- the same figures summed by the database (the dashboard, per request) ---------------------


def _recipient_key():
    """The SQL twin of the frame's ``recipient_key``: one value per person rewarded.

    The frame's name key is the member's name or the named recipient's, but it is reached only
    for a reward to no member: there it is the recipient's name, and the statement need not
    join the register (it read all 50,000 members of a region twice, issue 16).
    """
    return func.coalesce(
        literal("m", String) + cast(Nomination.member_id, String),
        literal("u", String) + cast(Nomination.recipient_user_id, String),
        literal("n", String) + Nomination.recipient_name,
    )


@per_scope
def _figures_statement(scope: Scope, year: int | None) -> CompoundSelect:
    """The totals (form NULL) and each form's figures of ``reward_figures``: one statement."""
    live = or_(Payout.status.is_(None), Payout.status != "voided")
    paid = case((Payout.status.in_(SETTLED), Payout.amount_tiyn), else_=0)
    figures = (
        func.count(case((live, AgendaItem.id))),
        func.count(func.distinct(case((live, _recipient_key())))),
        func.sum(case((live, Nomination.amount_tiyn), else_=0)),
        func.sum(case((live, paid), else_=0)),
        func.count(case((and_(live, paid > 0), AgendaItem.id))),
        func.count(case((Payout.status == "voided", AgendaItem.id))),
    )
    base = _approved_items(
        select()
        .select_from(AgendaItem)
        .outerjoin(
            Payout, and_(Payout.item_id == AgendaItem.id, Payout.status.in_(LIVE_OR_VOIDED))
        ),
        scope,
        year,
    )
    return union_all(
        base.add_columns(literal(None, String).label("form"), *figures),
        base.add_columns(Nomination.form, *figures).group_by(Nomination.form),
    )


def reward_figures(session: Session, *, scope: Scope, year: int | None):
    """Return (summary, by form, by contribution kind) grouped by the database.

    The figures of ``reward_summary``, ``rewards_by_form`` and ``rewards_by_contribution_kind``
    in two statements, without a frame of every reward (issue 16): the deputies' dashboard
    reads them on every request.
    """
    both = _figures_statement(scope, year)
    by_form = {form: tuple(int(v or 0) for v in values) for form, *values in session.execute(both)}
    rewards, people, approved, paid_sum, paid_rewards, voided = by_form.pop(None)
    summary = {
        "rewards": rewards,
        "people": people,
        "approved_tiyn": approved,
        "paid_tiyn": paid_sum,
        "paid_rewards": paid_rewards,
        "average_reward_tiyn": paid_sum // paid_rewards if paid_rewards else 0,
        "average_per_person_tiyn": paid_sum // people if people else 0,
        "voided": voided,
    }
    forms = [
        dict(
            zip(
                ("form", "rewards", "people", "approved_tiyn", "paid_tiyn"),
                (form, *by_form.get(form, (0, 0, 0, 0))[:4]),
                strict=True,
            )
        )
        for form in FORMS
    ]
    return summary, forms, _kind_figures(session, scope=scope, year=year)


@per_scope
def _kinds_statement(scope: Scope, year: int | None) -> Select:
    """Each contribution kind's figures of ``reward_figures``, as ``_figures_statement``."""
    names = ("kind", "name_kk", "name_ru", "name_en")
    # The linked contributions are read once (a CTE used twice; PostgreSQL materializes it):
    # at 50,000 members each read scans the contribution table, 0.15 s.
    linked = _backing_contributions(
        select(
            Contribution.kind,
            ContributionKind.name_kk,
            ContributionKind.name_ru,
            ContributionKind.name_en,
            Contribution.id.label("contribution_id"),
            func.coalesce(Contribution.points, 0).label("points"),
            Contribution.member_id,
            AgendaItem.id.label("item_id"),
        ),
        scope,
        year,
    ).cte("linked")
    by_kind = [linked.c[name] for name in names]
    counts = (
        select(
            *by_kind,
            func.count(func.distinct(linked.c.contribution_id)).label("contributions"),
            func.sum(linked.c.points).label("points"),
            func.count(func.distinct(linked.c.item_id)).label("rewards"),
            func.count(func.distinct(linked.c.member_id)).label("people"),
        )
        .group_by(*by_kind)
        .subquery()
    )
    # What was paid for the rewards each kind backed: each reward once per kind.
    pairs = select(linked.c.kind, linked.c.item_id).distinct().subquery()
    paid = (
        select(pairs.c.kind, func.sum(Payout.amount_tiyn).label("paid_tiyn"))
        .select_from(pairs)
        .outerjoin(Payout, and_(Payout.item_id == pairs.c.item_id, Payout.status.in_(SETTLED)))
        .group_by(pairs.c.kind)
        .subquery()
    )
    return select(counts, paid.c.paid_tiyn).outerjoin(paid, paid.c.kind == counts.c.kind)


def _kind_figures(session: Session, *, scope: Scope, year: int | None) -> list[dict]:
    rows = session.execute(_kinds_statement(scope, year)).all()
    counted = ("contributions", "points", "rewards", "people", "paid_tiyn")
    kinds = [
        {
            **{k: row[k] for k in ("kind", "name_kk", "name_ru", "name_en")},
            **{k: int(row[k] or 0) for k in counted},
        }
        for row in (r._mapping for r in rows)
    ]
    return sorted(kinds, key=lambda k: (-k["rewards"], k["kind"]))
