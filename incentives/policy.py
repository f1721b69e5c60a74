"""Reward policies by jurisdiction and date, the commission and its members."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Load, Session, aliased

from budget.models import MCIRate
from core import audit, bilingual, places
from core.errors import N_, Conflict, DomainError, NotFound
from core.places import AdminUnit
from incentives import sittings
from incentives.models import (
    COMMISSION_ROLES,
    FORMS,
    STAND_INS,
    Commission,
    CommissionMember,
    CommissionSession,
    RewardPolicy,
)
from volunteers.activity_models import ContributionKind


def _chain_ids(session: Session, unit_id: int) -> list[int]:
    """Return the unit and the units above it, nearest first."""
    chain = places.chain_ids(session, unit_id)
    if not chain:
        raise NotFound(N_("No such jurisdiction."))
    return chain


def set_policy(
    session: Session,
    *,
    unit_id: int,
    effective_from: dt.date,
    resolution: str,
    forms: list[str],
    cash_cap_mci: int,
    annual_cap_mci: int,
    points: dict[str, int],
    quorum: tuple[int, int],
    chair_breaks_tie: bool,
    actor_id: int | None,
    annual_cap_basis: str = "",
) -> RewardPolicy:
    """Record a version of the akimat's reward policy, in force from ``effective_from``.

    ``annual_cap_basis`` cites the act that sets the annual cap per person when it is not the
    policy's own resolution.
    """
    resolution = (resolution or "").strip()
    if not resolution:
        raise DomainError(N_("Cite the akimat's resolution that sets this policy."))
    annual_cap_basis = " ".join((annual_cap_basis or "").split())
    if len(annual_cap_basis) > 300:
        raise DomainError(N_("The legal basis of the annual cap is at most 300 characters."))
    unknown = [f for f in forms if f not in FORMS]
    if not forms or unknown:
        raise DomainError(N_("Choose the allowed forms of reward."))
    if cash_cap_mci <= 0 or annual_cap_mci < cash_cap_mci:
        raise DomainError(
            N_(
                "The annual cap (%(annual)s MCI) must be at least the cap per reward (%(cap)s MCI)."
            ),
            annual=annual_cap_mci,
            cap=cash_cap_mci,
        )
    numerator, denominator = quorum
    if not 0 < numerator <= denominator:
        raise DomainError(N_("The quorum must be a fraction between 0 and 1."))
    known = set(session.scalars(select(ContributionKind.code)))
    if set(points) - known or any(p < 0 for p in points.values()):
        raise DomainError(N_("Points are whole numbers for known contribution kinds."))
    exists = session.scalar(
        select(RewardPolicy.id).where(
            RewardPolicy.unit_id == unit_id, RewardPolicy.effective_from == effective_from
        )
    )
    if exists:
        raise Conflict(N_("A policy already takes effect on this date here."))
    policy = RewardPolicy(
        unit_id=unit_id,
        effective_from=effective_from,
        resolution=resolution,
        forms=",".join(f for f in FORMS if f in forms),
        cash_cap_mci=cash_cap_mci,
        annual_cap_mci=annual_cap_mci,
        annual_cap_basis=annual_cap_basis,
        points=json.dumps(points, sort_keys=True),
        quorum_numerator=numerator,
        quorum_denominator=denominator,
        chair_breaks_tie=chair_breaks_tie,
        created_by_id=actor_id,
    )
    session.add(policy)
    session.flush()
    audit.record(
        session,
        action="policy.set",
        object_type="reward_policy",
        object_id=policy.id,
        actor_id=actor_id,
        payload={
            "unit_id": unit_id,
            "effective_from": effective_from.isoformat(),
            "resolution": resolution,
            "forms": policy.forms,
            "cash_cap_mci": cash_cap_mci,
            "annual_cap_mci": annual_cap_mci,
            "annual_cap_basis": annual_cap_basis,
            "quorum": f"{numerator}/{denominator}",
            "chair_breaks_tie": chair_breaks_tie,
            "points": points,
        },
    )
    return policy


# The policy in force for a unit on a day, in one statement: the policies of the unit and of
# the units above it (those whose path begins its path), the nearest unit's (the longest path)
# first, then the latest. Reading the unit's path first cost a statement more on every page and
# step that counts a quorum or a cap (issue 16).
_SET_FOR = aliased(AdminUnit)  # the unit a policy was set for
_ASKED = aliased(AdminUnit)  # the unit asked about
_IN_FORCE = (
    select(RewardPolicy)
    .join(_SET_FOR, RewardPolicy.unit_id == _SET_FOR.id)
    .join(_ASKED, places.path_within_clause(_ASKED.path, _SET_FOR.path))
    .where(_ASKED.id == bindparam("unit_id"), RewardPolicy.effective_from <= bindparam("day"))
    .order_by(
        places.nearest_first(_SET_FOR.path),
        RewardPolicy.effective_from.desc(),
        RewardPolicy.id.desc(),
    )
    .limit(1)
)


def policy_in_force(session: Session, unit_id: int, day: dt.date) -> RewardPolicy:
    """Return the policy in force on ``day`` for the unit or the nearest unit above it."""
    found = session.scalar(_IN_FORCE, {"unit_id": unit_id, "day": day})
    if found is not None:
        return found
    _chain_ids(session, unit_id)  # no such unit: NotFound
    raise DomainError(N_("No reward policy is in force here: the akimat's resolution is missing."))


def points_of(policy: RewardPolicy, kind: ContributionKind) -> int:
    """Return the points per hour or event of ``kind`` under ``policy``."""
    return int(json.loads(policy.points).get(kind.code, kind.points))


def mci_tiyn(session: Session, year: int) -> int:
    """Return the MCI of ``year`` in tiyn, or refuse when it is not set."""
    rate = session.get(MCIRate, year)
    if rate is None:
        raise DomainError(N_("The MCI for %(year)s is not set."), year=year)
    return rate.amount_tiyn


# ---- the commission ---------------------------------------------------------------------------


def get_commission(session: Session, commission_id: int) -> Commission:
    """Return the commission or raise NotFound."""
    found = session.get(Commission, commission_id)
    if found is None:
        raise NotFound(N_("No such commission."))
    return found


def commission_for(session: Session, unit_id: int) -> Commission | None:
    """Return the commission of the akimat of ``unit_id`` or of the nearest unit above it."""
    chain = _chain_ids(session, unit_id)
    found = {
        c.unit_id: c
        for c in session.scalars(select(Commission).where(Commission.unit_id.in_(chain)))
    }
    return next((found[u] for u in chain if u in found), None)


def create_commission(
    session: Session,
    *,
    unit_id: int,
    name_kk: str,
    name_ru: str,
    body_kk: str,
    body_ru: str,
    actor_id: int | None,
) -> Commission:
    """Set up the reward commission of an akimat, named in Kazakh and in Russian."""
    names = _names(name_kk, name_ru, body_kk, body_ru)
    if session.scalar(select(Commission.id).where(Commission.unit_id == unit_id)):
        raise Conflict(N_("This akimat already has a commission."))
    commission = Commission(unit_id=unit_id, **names)
    session.add(commission)
    session.flush()
    audit.record(
        session,
        action="commission.create",
        object_type="commission",
        object_id=commission.id,
        actor_id=actor_id,
        payload={"unit_id": unit_id, **names},
    )
    return commission


def rename_commission(
    session: Session,
    *,
    commission_id: int,
    name_kk: str,
    name_ru: str,
    body_kk: str,
    body_ru: str,
    actor_id: int,
) -> Commission:
    """Correct the commission's names and its akimat's, as its documents print them."""
    commission = get_commission(session, commission_id)
    names = _names(name_kk, name_ru, body_kk, body_ru)
    before = {key: getattr(commission, key) for key in names}
    if before == names:
        return commission
    for key, value in names.items():
        setattr(commission, key, value)
    session.flush()
    audit.record(
        session,
        action="commission.rename",
        object_type="commission",
        object_id=commission.id,
        actor_id=actor_id,
        payload={"before": before, "after": names},
    )
    return commission


def _names(name_kk: str, name_ru: str, body_kk: str, body_ru: str) -> dict[str, str]:
    try:
        name_kk, name_ru = bilingual.both(name_kk, name_ru)
    except bilingual.Missing:
        raise DomainError(N_("Name the commission in Kazakh and in Russian.")) from None
    try:
        body_kk, body_ru = bilingual.both(body_kk, body_ru)
    except bilingual.Missing:
        raise DomainError(
            N_("Name the akimat that issues the documents in Kazakh and in Russian.")
        ) from None
    if max(map(len, (name_kk, name_ru, body_kk, body_ru))) > 300:
        raise DomainError(N_("A name is at most 300 characters."))
    return {"name_kk": name_kk, "name_ru": name_ru, "body_kk": body_kk, "body_ru": body_ru}


def set_rules(
    session: Session,
    *,
    commission_id: int,
    secretary_votes: bool,
    chair_stand_in: str,
    actor_id: int,
) -> Commission:
    """Set the commission's rules of procedure: whether the secretary votes, and who presides
    and casts the deciding vote of a tie when the chair is absent."""
    commission = get_commission(session, commission_id)
    if chair_stand_in not in STAND_INS:
        raise DomainError(N_("Choose who presides when the chair is absent."))
    before = {
        "secretary_votes": commission.secretary_votes,
        "chair_stand_in": commission.chair_stand_in,
    }
    after = {"secretary_votes": bool(secretary_votes), "chair_stand_in": chair_stand_in}
    if before == after:
        return commission
    # Quorum is taken when a session opens and counted again when it closes: rules changed
    # in between would count the same sitting two ways.
    sitting = session.scalar(
        select(CommissionSession.id).where(
            CommissionSession.commission_id == commission_id, CommissionSession.status == "open"
        )
    )
    if sitting is not None:
        raise Conflict(
            N_("A session of the commission is sitting: change its rules after it closes.")
        )
    commission.secretary_votes = after["secretary_votes"]
    commission.chair_stand_in = chair_stand_in
    session.flush()
    audit.record(
        session,
        action="commission.rules",
        object_type="commission",
        object_id=commission_id,
        actor_id=actor_id,
        payload={"before": before, "after": after},
    )
    return commission


def add_member(
    session: Session,
    *,
    commission_id: int,
    user_id: int,
    role: str,
    position_kk: str,
    position_ru: str,
    term_from: dt.date,
    term_to: dt.date | None,
    actor_id: int,
) -> CommissionMember:
    """Appoint a member; one chair and one secretary at a time. The position held is given in
    Kazakh and in Russian, or not at all."""
    position_kk, position_ru = bilingual.both(position_kk, position_ru, required=False)
    if role not in COMMISSION_ROLES:
        raise DomainError(N_("Unknown role on the commission."))
    if term_to is not None and term_to < term_from:
        raise DomainError(N_("A term cannot end before it starts."))
    current = [
        m
        for m in session.scalars(
            select(CommissionMember).where(CommissionMember.commission_id == commission_id)
        )
        if m.term_to is None or m.term_to >= term_from
    ]
    if any(m.user_id == user_id for m in current):
        raise Conflict(N_("This person is already on the commission."))
    if role in ("chair", "secretary") and any(m.role == role for m in current):
        if role == "chair":
            raise Conflict(N_("The commission already has a chair: end their term first."))
        raise Conflict(N_("The commission already has a secretary: end their term first."))
    member = CommissionMember(
        commission_id=commission_id,
        user_id=user_id,
        role=role,
        position_kk=position_kk,
        position_ru=position_ru,
        term_from=term_from,
        term_to=term_to,
    )
    session.add(member)
    session.flush()
    audit.record(
        session,
        action="commission.member_add",
        object_type="commission",
        object_id=commission_id,
        actor_id=actor_id,
        payload={"user_id": user_id, "role": role, "term_from": term_from.isoformat()},
    )
    return member


def end_term(session: Session, *, member_id: int, term_to: dt.date, actor_id: int) -> None:
    """End a member's term on ``term_to``."""
    member = session.get(CommissionMember, member_id)
    if member is None:
        raise NotFound(N_("No such commission member."))
    if term_to < member.term_from:
        raise DomainError(N_("A term cannot end before it starts."))
    member.term_to = term_to
    audit.record(
        session,
        action="commission.member_end",
        object_type="commission",
        object_id=member.commission_id,
        actor_id=actor_id,
        payload={"member_id": member_id, "term_to": term_to.isoformat()},
    )


def members_on(session: Session, commission_id: int, day: dt.date) -> list[CommissionMember]:
    """Return the members whose term covers ``day``."""
    return [
        m
        for m in session.scalars(
            select(CommissionMember)
            .where(CommissionMember.commission_id == commission_id)
            .order_by(CommissionMember.id)
            .options(*sittings.names_only(Load(CommissionMember)))
        )
        if m.serves_on(day)
    ]


def points_rule(session: Session):
    """Return a rule giving the policy's points per hour or event for a contribution.

    None (the kind's default) where no policy is in force on the contribution's date.
    """

    found: dict[tuple[int, dt.date], RewardPolicy | None] = {}  # a bulk confirmation asks often

    def rule(contribution) -> int | None:
        key = (contribution.unit_id, contribution.occurred_on)
        if key not in found:
            try:
                found[key] = policy_in_force(session, *key)
            except DomainError:
                found[key] = None
        return points_of(found[key], contribution.kind_ref) if found[key] else None

    return rule
