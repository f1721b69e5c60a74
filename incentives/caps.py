"""The annual cap per person: one definition of what a person was awarded in a year.

A person is their IIN (``volunteers.persons``), whichever register entry or account a reward
named. A reward counts in the calendar year of its DECISION (the session's date), once the
commission approved it, across every commission under the same top-level jurisdiction (the
region): a person rewarded by two district commissions of one region has one cap. The cap
itself is data: ``RewardPolicy.annual_cap_mci`` with its legal basis, times the year's MCI.
Closing a session, nominating, the red flags and the screens all ask this module.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict

from sqlalchemy import extract, func, select
from sqlalchemy.orm import Session

from core import places
from incentives import policy as policies
from incentives.models import (
    MONEY_FORMS,
    AgendaItem,
    Commission,
    CommissionSession,
    Nomination,
)
from volunteers import persons
from volunteers.models import Member

# The person an approved item rewarded (their key, and their sealed IIN to show), and the year
# it was decided in.
NOMINEE_KEY = persons.nominee_key(Member.iin_index, Nomination.recipient_user_id)
NOMINEE_IIN = persons.nominee_iin(Member.iin, Nomination.recipient_user_id)
DECISION_YEAR = extract("year", CommissionSession.held_on)


@dataclasses.dataclass(frozen=True)
class Standing:
    """Where a person stands against the annual cap of a year."""

    year: int
    cap_mci: int
    cap_tiyn: int
    basis: str
    awarded_tiyn: int

    @property
    def remaining_tiyn(self) -> int:
        return max(0, self.cap_tiyn - self.awarded_tiyn)

    def allows(self, amount_tiyn: int) -> bool:
        """Tell whether one more reward of ``amount_tiyn`` stays within the cap."""
        return self.awarded_tiyn + amount_tiyn <= self.cap_tiyn


def top_path(session: Session, unit_id: int) -> str:
    """Return the materialized path of the top-level unit above (or at) ``unit_id``."""
    path = places.path_of(session, unit_id)
    return "/" + path.strip("/").split("/")[0] + "/"


def _approved_money():
    """Approved money rewards, with the person, the decision's day and the deciding commission."""
    return (
        select(AgendaItem.id)
        .join(Nomination, Nomination.id == AgendaItem.nomination_id)
        .outerjoin(Member, Member.id == Nomination.member_id)
        .join(CommissionSession, CommissionSession.id == AgendaItem.session_id)
        .join(Commission, Commission.id == CommissionSession.commission_id)
        .join(places.AdminUnit, places.AdminUnit.id == Commission.unit_id)
        .where(AgendaItem.outcome == "approved", Nomination.form.in_(MONEY_FORMS))
    )


def awarded(session: Session, *, person: str, year: int, unit_id: int) -> int:
    """Return the money the person (key) ``person`` was awarded by decisions of ``year`` across the
    commissions of ``unit_id``'s top-level jurisdiction (tiyn)."""
    total = session.scalar(
        _approved_money()
        .with_only_columns(func.coalesce(func.sum(Nomination.amount_tiyn), 0))
        .where(
            person == NOMINEE_KEY,
            year == DECISION_YEAR,
            places.path_within_clause(places.AdminUnit.path, top_path(session, unit_id)),
        )
    )
    return int(total or 0)


def cap_tiyn(session: Session, unit_id: int, day: dt.date) -> tuple[int, int, str]:
    """Return the annual cap in force for ``unit_id`` on ``day``: (tiyn, MCI, legal basis).

    Raises ``DomainError`` when no policy or no MCI of the year is set.
    """
    rule = policies.policy_in_force(session, unit_id, day)
    mci = policies.mci_tiyn(session, day.year)
    return rule.annual_cap_mci * mci, rule.annual_cap_mci, rule.annual_cap_basis or rule.resolution


def standing(session: Session, *, person: str, unit_id: int, day: dt.date) -> Standing:
    """Return the person's standing against the cap of ``day``'s year for a decision on ``day``
    by the commission of ``unit_id``."""
    tiyn, mci, basis = cap_tiyn(session, unit_id, day)
    return Standing(
        year=day.year,
        cap_mci=mci,
        cap_tiyn=tiyn,
        basis=basis,
        awarded_tiyn=awarded(session, person=person, year=day.year, unit_id=unit_id),
    )


@dataclasses.dataclass
class PersonYear:
    """A person's approved money rewards of one year within one top-level jurisdiction."""

    key: str
    iin: str  # to show (masked), never to compare
    year: int
    top_path: str
    name: str = ""
    total_tiyn: int = 0
    rewards: int = 0
    last_day: dt.date | None = None
    last_item: int | None = None
    last_unit_id: int | None = None
    unit_ids: set[int] = dataclasses.field(default_factory=set)


def per_person_year(session: Session) -> list[PersonYear]:
    """Return every person's awarded totals per decision year and top-level jurisdiction."""
    name = func.coalesce(Member.full_name, Nomination.recipient_name)
    rows = session.execute(
        _approved_money()
        .with_only_columns(
            NOMINEE_KEY.label("key"),
            func.max(NOMINEE_IIN).label("iin"),
            DECISION_YEAR.label("year"),
            Commission.unit_id,
            places.AdminUnit.path,
            func.max(name).label("name"),
            func.sum(Nomination.amount_tiyn).label("total"),
            func.count(AgendaItem.id).label("rewards"),
            func.max(CommissionSession.held_on).label("last_day"),
            func.max(AgendaItem.id).label("last_item"),
        )
        .where(NOMINEE_KEY.is_not(None))
        .group_by(NOMINEE_KEY, DECISION_YEAR, Commission.unit_id, places.AdminUnit.path)
    ).all()
    merged: dict[tuple, PersonYear] = {}
    by_key = defaultdict(list)
    for row in rows:
        top = "/" + row.path.strip("/").split("/")[0] + "/"
        by_key[(row.key, int(row.year), top)].append(row)
    for (key, year, top), group in sorted(by_key.items()):
        person = merged[(key, year, top)] = PersonYear(
            key=key, iin=group[0].iin, year=year, top_path=top
        )
        for row in group:
            person.name = max(person.name, row.name or "")
            person.total_tiyn += int(row.total)
            person.rewards += int(row.rewards)
            person.unit_ids.add(row.unit_id)
            if person.last_day is None or (row.last_day, row.last_item) > (
                person.last_day,
                person.last_item,
            ):
                person.last_day, person.last_item = row.last_day, row.last_item
                person.last_unit_id = row.unit_id
    return list(merged.values())
