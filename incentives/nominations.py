"""Nominations: the quarter's candidates by points, proposals backed by confirmed contributions."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import bindparam, exists, func, select
from sqlalchemy.orm import Session

from core import audit, clock, places
from core.errors import N_, Conflict, DomainError, NotFound
from core.money import format_tiyn, within_range
from core.scope import Scope
from core.transitions import advance
from incentives import caps
from incentives import policy as policies
from incentives.models import MONEY_FORMS, Nomination, NominationContribution
from volunteers import persons
from volunteers.activity_models import Contribution
from volunteers.models import Member


def quarter_bounds(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    """Return the first and last day of a calendar quarter."""
    if quarter not in (1, 2, 3, 4):
        raise DomainError(N_("A quarter is 1, 2, 3 or 4."))
    first = dt.date(year, 3 * quarter - 2, 1)
    last = dt.date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1) - dt.timedelta(days=1)
    return first, last


@dataclasses.dataclass(frozen=True)
class Candidate:
    """A member with their confirmed points and records in a period."""

    member_id: int
    full_name: str
    unit_id: int
    points: int
    contributions: int


def candidates(
    session: Session, scope: Scope, first: dt.date, last: dt.date, limit: int = 100
) -> list[Candidate]:
    """Rank active members of ``scope`` by confirmed points in [first, last].

    One aggregate query; contributions already behind an approved nomination do not count.
    The members are filtered by the ids of the units the scope covers (a short list the planner
    can count) and each one's points read from ``ix_contribution_confirmed_member_date``.
    """
    covered = scope.unit_ids_covered(session)
    params = {"first": first, "last": last, "limit": limit}
    if covered is not None:
        params["unit_ids"] = list(covered)
    rows = session.execute(_CANDIDATES[covered is not None], params).all()
    return [Candidate(*row) for row in rows]


def _candidates(in_units: bool):
    """The ranking's statement, built once per shape: building it per request cost as much as
    running it. ``in_units``: limited to the ``unit_ids`` bound with the period."""
    rewarded = exists().where(
        NominationContribution.contribution_id == Contribution.id, NominationContribution.approved
    )
    points = func.coalesce(func.sum(Contribution.points), 0)
    stmt = (
        select(Member.id, Member.full_name, Member.unit_id, points, func.count(Contribution.id))
        .join(Contribution, Contribution.member_id == Member.id)
        .where(
            Member.status == "active",
            Contribution.status == "confirmed",
            Contribution.occurred_on.between(bindparam("first"), bindparam("last")),
            ~rewarded,
        )
    )
    if in_units:
        stmt = stmt.where(Member.unit_id.in_(bindparam("unit_ids", expanding=True)))
    return (
        stmt.group_by(Member.id, Member.full_name, Member.unit_id)
        .order_by(points.desc(), Member.full_name)
        .limit(bindparam("limit"))
    )


_CANDIDATES = {in_units: _candidates(in_units) for in_units in (False, True)}


def amount_in_tiyn(session: Session, *, amount: Decimal, unit: str, year: int) -> int:
    """Turn an amount typed in MCI or tenge into tiyn (MCI at the year's rate)."""
    if amount <= 0:
        raise DomainError(N_("The amount must be greater than zero."))
    if unit == "mci":
        tiyn = Decimal(policies.mci_tiyn(session, year)) * amount
        return within_range(int(tiyn.quantize(Decimal(1), rounding=ROUND_HALF_UP)))
    if amount.as_tuple().exponent < -2:
        raise DomainError(N_("An amount has at most two decimals (tiyn): %(text)s."), text=amount)
    return within_range(int(amount * 100))


def _checked_amount(
    session: Session,
    unit_id: int,
    form: str,
    amount_tiyn: int,
    today: dt.date,
    person: str | None = None,
) -> int:
    """Check the form and amount against the policy in force and, for a person (their key,
    ``volunteers.persons``),
    against what the annual cap leaves them this year; non-money forms carry none."""
    rule = policies.policy_in_force(session, unit_id, today)
    if form not in rule.allowed_forms:
        raise DomainError(N_("The reward policy in force does not allow this form of reward."))
    if form not in MONEY_FORMS:
        return 0
    if amount_tiyn <= 0:
        raise DomainError(N_("Enter the amount of the reward."))
    cap = rule.cash_cap_mci * policies.mci_tiyn(session, today.year)
    if form == "cash" and amount_tiyn > cap:
        raise DomainError(
            N_("%(amount)s is over the cap of %(mci)s MCI per reward (%(cap)s)."),
            amount=format_tiyn(amount_tiyn),
            mci=rule.cash_cap_mci,
            cap=format_tiyn(cap),
        )
    if person is not None:
        standing = caps.standing(session, person=person, unit_id=unit_id, day=today)
        if not standing.allows(amount_tiyn):
            raise DomainError(
                N_(
                    "%(amount)s would take the person over the annual cap of %(mci)s MCI:"
                    " %(already)s already awarded in %(year)s."
                ),
                amount=format_tiyn(amount_tiyn),
                mci=standing.cap_mci,
                already=format_tiyn(standing.awarded_tiyn),
                year=standing.year,
            )
    return amount_tiyn


def nominate(
    session: Session,
    *,
    commission_id: int,
    member_id: int,
    contribution_ids: list[int],
    justification: str,
    form: str,
    amount_tiyn: int,
    entered_in: str,
    nominator_id: int,
    today: dt.date,
    submit: bool = True,
) -> Nomination:
    """Propose a reward for a member; refused unless backed by their confirmed contributions."""
    commission = policies.get_commission(session, commission_id)
    member = session.get(Member, member_id)
    if member is None or not places.within(session, member.unit_id, [commission.unit_id]):
        raise NotFound(N_("No such member."))
    if member.status != "active":
        raise Conflict(N_("Only an active member can be nominated."))
    justification = (justification or "").strip()
    if not justification:
        raise DomainError(N_("Write why this member deserves the reward."))
    amount_tiyn = _checked_amount(
        session, commission.unit_id, form, amount_tiyn, today, person=member.iin_index
    )
    ids = sorted(set(contribution_ids))
    if not ids:
        raise DomainError(N_("A nomination needs at least one confirmed contribution."))
    found = session.scalars(
        select(Contribution).where(
            Contribution.id.in_(ids),
            Contribution.member_id == member_id,
            Contribution.status == "confirmed",
        )
    ).all()
    if len(found) != len(ids):
        raise DomainError(N_("Only confirmed contributions of this member can support it."))
    taken = session.scalar(
        select(NominationContribution.contribution_id).where(
            NominationContribution.contribution_id.in_(ids), NominationContribution.approved
        )
    )
    if taken:
        raise Conflict(N_("Contribution No. %(id)s already supports an approved reward."), id=taken)
    nomination = Nomination(
        commission_id=commission_id,
        member_id=member_id,
        nominator_id=nominator_id,
        justification=justification,
        form=form,
        amount_tiyn=amount_tiyn,
        entered_in="mci" if entered_in == "mci" else "tenge",
        year=today.year,
        status="draft",
    )
    session.add(nomination)
    session.flush()
    session.add_all(
        NominationContribution(nomination_id=nomination.id, contribution_id=c, approved=False)
        for c in ids
    )
    audit.record(
        session,
        action="nomination.create",
        object_type="nomination",
        object_id=nomination.id,
        actor_id=nominator_id,
        payload={
            "member_id": member_id,
            "form": form,
            "amount_tiyn": amount_tiyn,
            "contributions": ids,
        },
    )
    if submit:
        submit_nomination(session, nomination_id=nomination.id, actor_id=nominator_id)
    return nomination


def get_nomination(session: Session, nomination_id: int) -> Nomination:
    """Return the nomination or raise NotFound."""
    found = session.get(Nomination, nomination_id)
    if found is None:
        raise NotFound(N_("No such nomination."))
    return found


def submit_nomination(session: Session, *, nomination_id: int, actor_id: int) -> Nomination:
    """Send a draft to the commission's secretary."""
    from incentives.workflow import NOMINATION

    nomination = get_nomination(session, nomination_id)
    if not NOMINATION.can(nomination, "submit"):
        raise Conflict(N_("Only a draft can be submitted."))
    advance(session, NOMINATION, nomination, "submit", values={"submitted_at": clock.now()})
    audit.record(
        session,
        action="nomination.submit",
        object_type="nomination",
        object_id=nomination_id,
        actor_id=actor_id,
        payload={},
    )
    return nomination


def supporting(session: Session, nomination_id: int) -> list[Contribution]:
    """Return the contributions behind a nomination."""
    return list(
        session.scalars(
            select(Contribution)
            .join(NominationContribution, NominationContribution.contribution_id == Contribution.id)
            .where(NominationContribution.nomination_id == nomination_id)
            .order_by(Contribution.occurred_on)
        )
    )


RECIPIENTS = ("activist", "team", "administration")


def nominate_initiative(
    session: Session,
    *,
    initiative_id: int,
    recipient: str,
    justification: str,
    form: str,
    amount_tiyn: int,
    entered_in: str,
    nominator_id: int,
    today: dt.date,
) -> Nomination:
    """Propose a reward for a supported sober-settlement initiative, paid from that line.

    The activist who submitted it is rewarded individually (as a member of the register when
    they are one, so the personal caps apply); the team or the local administration
    collectively.
    """
    from core.accounts import User
    from incentives.sober_models import Initiative

    initiative = session.get(Initiative, initiative_id)
    if initiative is None:
        raise NotFound(N_("No such initiative."))
    if not can_be_nominated(initiative):
        raise Conflict(N_("Only a supported initiative can be put forward to the commission."))
    commission = policies.commission_for(session, initiative.unit_id)
    if commission is None:
        raise Conflict(N_("No reward commission covers this settlement."))
    justification = (justification or "").strip()
    if not justification:
        raise DomainError(N_("Write why this member deserves the reward."))
    if recipient not in RECIPIENTS:
        raise DomainError(N_("Choose who is to be rewarded."))
    member_id = recipient_name = recipient_user_id = person = None
    if recipient == "activist":
        activist = session.get(User, initiative.submitted_by_id)
        recipient_user_id = activist.id
        member_id = session.scalar(
            select(Member.id)
            .where(Member.user_id == activist.id, Member.status == "active")
            .order_by(Member.id)
        )
        recipient_name = activist.full_name
    elif recipient == "team":
        recipient_name = f"{initiative.title}: {initiative.team}"[:300]
    else:
        recipient_name = f"{initiative.unit.name_kk} — {initiative.unit.name_ru}"[:300]
    if recipient_user_id is not None:
        person = min(persons.keys_of(session, [recipient_user_id])[recipient_user_id], default=None)
    amount_tiyn = _checked_amount(
        session, commission.unit_id, form, amount_tiyn, today, person=person
    )
    nomination = Nomination(
        commission_id=commission.id,
        member_id=member_id,
        initiative_id=initiative.id,
        recipient_name=recipient_name,
        recipient_user_id=recipient_user_id,
        nominator_id=nominator_id,
        justification=justification,
        form=form,
        amount_tiyn=amount_tiyn,
        entered_in="mci" if entered_in == "mci" else "tenge",
        year=today.year,
        purpose="sober_settlement_incentives",
        status="draft",
    )
    session.add(nomination)
    session.flush()
    audit.record(
        session,
        action="nomination.create",
        object_type="nomination",
        object_id=nomination.id,
        actor_id=nominator_id,
        payload={
            "initiative_id": initiative.id,
            "recipient": recipient,
            "form": form,
            "amount_tiyn": amount_tiyn,
        },
    )
    submit_nomination(session, nomination_id=nomination.id, actor_id=nominator_id)
    return nomination


def can_be_nominated(initiative) -> bool:
    """Tell whether the reward commission may be asked to reward a sober-settlement initiative."""
    return initiative.status == "supported"
