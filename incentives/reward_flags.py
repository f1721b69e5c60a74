"""Red flags on rewards: payouts before the act, over the caps, to insiders, self-confirmed."""

from __future__ import annotations

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from core.accounts import RoleGrant
from core.errors import N_, DomainError
from core.iin import mask_iin
from core.money import format_tiyn
from core.scope import Scope
from incentives import caps, policy
from incentives.flag_kinds import Flag
from incentives.models import (
    AgendaItem,
    Commission,
    CommissionMember,
    CommissionSession,
    Nomination,
    NominationContribution,
    Payout,
)
from volunteers import persons
from volunteers.activity_models import Contribution
from volunteers.models import Member

WINDOW_DAYS = 30


def payouts_without_minutes(session: Session, scope: Scope) -> list[Flag]:
    """Payouts paid or handed over although the session's minutes are not final or no act."""
    rows = session.execute(
        select(
            Payout.id,
            Payout.item_id,
            Payout.amount_tiyn,
            CommissionSession.held_on,
            CommissionSession.status,
            CommissionSession.act_number,
            Commission.unit_id,
        )
        .join(AgendaItem, AgendaItem.id == Payout.item_id)
        .join(CommissionSession, CommissionSession.id == AgendaItem.session_id)
        .join(Commission, Commission.id == CommissionSession.commission_id)
        .where(
            Payout.status.in_(("paid", "handed_over")),
            or_(
                CommissionSession.status != "minutes_final",
                CommissionSession.act_number.is_(None),
            ),
            scope.clause(Commission.unit_id),
        )
        .order_by(Payout.id)
    ).all()
    flags = []
    for row in rows:
        no_minutes = row.status != "minutes_final"
        if no_minutes and row.act_number is None:
            msg = N_(
                "A reward of %(amount)s was paid although the session of %(date)s has neither"
                " final minutes nor an akimat act."
            )
        elif no_minutes:
            msg = N_(
                "A reward of %(amount)s was paid although the minutes of the session of"
                " %(date)s are not final."
            )
        else:
            msg = N_(
                "A reward of %(amount)s was paid although no akimat act is recorded for the"
                " session of %(date)s."
            )
        params = {"amount": format_tiyn(row.amount_tiyn), "date": row.held_on.isoformat()}
        flags.append(Flag("payout_without_minutes", msg, params, "payout", row.id, row.unit_id))
    return flags


def _cap_tiyn(session: Session, unit_id: int, day, which: str) -> int | None:
    """Return the policy's cap (``cash_cap_mci`` or ``annual_cap_mci``) in tiyn, if set."""
    try:
        rule = policy.policy_in_force(session, unit_id, day)
        mci = policy.mci_tiyn(session, day.year)
    except DomainError:
        return None
    return getattr(rule, which) * mci


def over_annual_cap(session: Session, scope: Scope) -> list[Flag]:
    """People (by IIN) whose approved money rewards of a year exceed the annual cap.

    The same definition as closing a session (``incentives.caps``): by the person's IIN
    whatever entry or account the rewards named, by the year of the decision, across the
    commissions of one top-level jurisdiction; the cap of the policy in force for the last
    decision.
    """
    covered = scope.unit_ids_covered(session)
    in_scope = None if covered is None else set(covered)
    flags = []
    for person in caps.per_person_year(session):
        if in_scope is not None and not person.unit_ids & in_scope:
            continue
        cap = _cap_tiyn(session, person.last_unit_id, person.last_day, "annual_cap_mci")
        if cap is None or person.total_tiyn <= cap:
            continue
        flags.append(
            Flag(
                "over_annual_cap",
                N_(
                    "%(name)s (IIN %(iin)s) was awarded %(total)s in %(year)s in %(n)s rewards,"
                    " over the annual cap of %(cap)s."
                ),
                {
                    "name": person.name,
                    "iin": mask_iin(person.iin),
                    "total": format_tiyn(person.total_tiyn),
                    "year": person.year,
                    "n": person.rewards,
                    "cap": format_tiyn(cap),
                },
                "agenda_item",
                person.last_item,
                person.last_unit_id,
            )
        )
    return flags


def _days_after(session: Session, later, earlier):
    if session.get_bind().dialect.name == "sqlite":
        return func.julianday(later) - func.julianday(earlier)
    return later - earlier  # PostgreSQL: date - date is a number of days


def payouts_within_30_days(session: Session, scope: Scope) -> list[Flag]:
    """Several payments to one person (IIN) within 30 days that together exceed one reward's cap.

    Each paid payout opens a window of 30 days; a window holding more than one payment whose
    sum is over the per-reward cap is flagged, once per run of overlapping windows.
    """
    p1, p2 = aliased(Payout), aliased(Payout)
    i1, i2 = aliased(AgendaItem), aliased(AgendaItem)
    n1, n2 = aliased(Nomination), aliased(Nomination)
    m1, m2 = aliased(Member), aliased(Member)
    days = _days_after(session, p2.order_date, p1.order_date)
    rows = session.execute(
        select(
            p1.id,
            p1.item_id,
            p1.order_date,
            m1.iin_index,
            func.max(m1.iin).label("iin"),
            func.max(m1.full_name).label("name"),
            func.max(Commission.unit_id).label("unit_id"),
            func.count(p2.id).label("n"),
            func.sum(p2.amount_tiyn).label("total"),
            func.max(p2.order_date).label("last_date"),
        )
        .join(i1, i1.id == p1.item_id)
        .join(n1, n1.id == i1.nomination_id)
        .join(m1, m1.id == n1.member_id)
        .join(Commission, Commission.id == n1.commission_id)
        .join(m2, m2.iin_index == m1.iin_index)
        .join(n2, n2.member_id == m2.id)
        .join(i2, i2.nomination_id == n2.id)
        .join(p2, p2.item_id == i2.id)
        .where(
            p1.status == "paid",
            p2.status == "paid",
            p1.order_date.is_not(None),
            p2.order_date.is_not(None),
            days >= 0,
            days <= WINDOW_DAYS,
            scope.clause(Commission.unit_id),
        )
        .group_by(p1.id, p1.item_id, p1.order_date, m1.iin_index)
        .having(func.count(p2.id) > 1)
        .order_by(m1.iin_index, p1.order_date, p1.id)
    ).all()
    flags, covered_until = [], {}
    for row in rows:
        cap = _cap_tiyn(session, row.unit_id, row.order_date, "cash_cap_mci")
        if cap is None or int(row.total) <= cap:
            continue
        if row.iin_index in covered_until and row.order_date <= covered_until[row.iin_index]:
            continue
        covered_until[row.iin_index] = row.last_date
        flags.append(
            Flag(
                "payouts_within_30_days",
                N_(
                    "%(name)s (IIN %(iin)s) received %(n)s payments totalling %(total)s between"
                    " %(start)s and %(end)s, over the cap of %(cap)s for one reward."
                ),
                {
                    "name": row.name,
                    "iin": mask_iin(row.iin),
                    "n": row.n,
                    "total": format_tiyn(row.total),
                    "start": row.order_date.isoformat(),
                    "end": row.last_date.isoformat(),
                    "cap": format_tiyn(cap),
                },
                "payout",
                row.id,
                row.unit_id,
            )
        )
    return flags


def _same_person(recipient_user, recipient_key, other_user_id):
    """The recipient is the account ``other_user_id`` or the same person (by IIN)."""
    return persons.same_person(
        key=recipient_key, user_id=recipient_user, other_user_id=other_user_id
    )


def recipients_who_are_insiders(session: Session, scope: Scope) -> list[Flag]:
    """Approved rewards to a commission member, a coordinator or the nomination's nominator."""
    recipient_user = func.coalesce(Member.user_id, Nomination.recipient_user_id)
    recipient_key = Member.iin_index
    base = (
        select(
            Nomination.id,
            func.coalesce(Member.full_name, Nomination.recipient_name).label("name"),
            Commission.unit_id,
            AgendaItem.id.label("item_id"),
        )
        .outerjoin(Member, Member.id == Nomination.member_id)
        .join(AgendaItem, AgendaItem.nomination_id == Nomination.id)
        .join(Commission, Commission.id == Nomination.commission_id)
        .where(
            Nomination.status == "approved",
            AgendaItem.outcome == "approved",
            scope.clause(Commission.unit_id),
        )
    )
    checks = (
        (
            exists().where(
                CommissionMember.commission_id == Nomination.commission_id,
                _same_person(recipient_user, recipient_key, CommissionMember.user_id),
            ),
            N_("%(name)s was rewarded by the commission they sit on."),
        ),
        (
            exists().where(
                RoleGrant.role == "coordinator",
                RoleGrant.revoked_at.is_(None),
                _same_person(recipient_user, recipient_key, RoleGrant.user_id),
            ),
            N_("%(name)s was rewarded although they are a coordinator who confirms work."),
        ),
        (
            _same_person(recipient_user, recipient_key, Nomination.nominator_id),
            N_("%(name)s was rewarded on their own nomination."),
        ),
    )
    flags = []
    for condition, msg in checks:
        for row in session.execute(base.where(condition).order_by(Nomination.id)):
            flags.append(
                Flag(
                    "recipient_is_insider",
                    msg,
                    {"name": row.name},
                    "agenda_item",
                    row.item_id,
                    row.unit_id,
                )
            )
    return flags


def confirmed_by_nominator(session: Session, scope: Scope) -> list[Flag]:
    """Nominations backed by contributions that the nominator confirmed themself."""
    rows = session.execute(
        select(
            Nomination.id,
            func.max(Member.full_name).label("name"),
            func.max(Member.id).label("member_id"),
            func.max(Commission.unit_id).label("unit_id"),
            func.count(Contribution.id).label("n"),
            select(func.max(AgendaItem.id))
            .where(AgendaItem.nomination_id == Nomination.id)
            .scalar_subquery()
            .label("item_id"),
        )
        .join(NominationContribution, NominationContribution.nomination_id == Nomination.id)
        .join(Contribution, Contribution.id == NominationContribution.contribution_id)
        .join(Member, Member.id == Contribution.member_id)
        .join(Commission, Commission.id == Nomination.commission_id)
        .where(
            Nomination.status != "draft",
            Contribution.decided_by_id == Nomination.nominator_id,
            scope.clause(Commission.unit_id),
        )
        .group_by(Nomination.id)
        .order_by(Nomination.id)
    ).all()
    return [
        Flag(
            "confirmed_by_nominator",
            N_(
                "The nomination of %(name)s rests on %(n)s contribution(s) confirmed by the"
                " same person who nominated them."
            ),
            {"name": row.name, "n": row.n},
            "agenda_item" if row.item_id else "member",
            row.item_id or row.member_id,
            row.unit_id,
        )
        for row in rows
    ]
