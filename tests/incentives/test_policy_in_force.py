"""Which reward policy is in force for a unit on a day: the nearest unit's, then the latest."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy
from sqlalchemy import delete

from core import accounts, places
from core.errors import DomainError, NotFound
from incentives import policy
from incentives.models import RewardPolicy
from tests.factories.commission import DISTRICT

# The policy is found by comparing materialized paths in SQL, written per dialect.
pytestmark = pytest.mark.both_databases


def _set(session, unit, effective_from: dt.date, resolution: str, admin_id: int) -> None:
    policy.set_policy(
        session,
        unit_id=unit.id,
        effective_from=effective_from,
        resolution=resolution,
        forms=["thanks", "cash"],
        cash_cap_mci=15,
        annual_cap_mci=20,
        points={},
        quorum=(2, 3),
        chair_breaks_tie=True,
        actor_id=admin_id,
    )


def _unit(session, parent, kato: str, level: str) -> places.AdminUnit:
    return places.add_unit(
        session, kato=kato, name_kk=kato, name_ru=kato, level=level, parent=parent
    )


@pytest.fixture
def tree(app, session):
    """A region with a policy of its own, a district under it with one from March, a rural
    okrug under the district without one, and a sibling district with its own."""
    session.execute(delete(RewardPolicy))
    admin = accounts.find_by_login(session, "admin@demo.kz").id
    district = places.by_kato(session, DISTRICT)
    region = session.get(places.AdminUnit, district.parent_id)
    okrug = _unit(session, district, "354099001", "rural_okrug")
    sibling = _unit(session, region, "359900000", "district")
    _set(session, region, dt.date(2026, 1, 1), "region-january", admin)
    _set(session, region, dt.date(2026, 6, 1), "region-june", admin)
    _set(session, district, dt.date(2026, 3, 1), "district-march", admin)
    _set(session, sibling, dt.date(2025, 1, 1), "sibling", admin)
    session.commit()
    return {"region": region, "district": district, "okrug": okrug, "sibling": sibling}


@pytest.mark.parametrize(
    ("unit", "day", "resolution"),
    [
        # Before the district's own policy: the region's, not the sibling district's.
        ("okrug", dt.date(2026, 2, 1), "region-january"),
        ("district", dt.date(2026, 2, 28), "region-january"),
        # From its first day the district's policy holds below it...
        ("okrug", dt.date(2026, 3, 1), "district-march"),
        # ...even after the region adopts a newer one: the nearest unit comes first.
        ("okrug", dt.date(2026, 7, 1), "district-march"),
        ("district", dt.date(2026, 7, 1), "district-march"),
        # The region itself: its latest version in force on the day.
        ("region", dt.date(2026, 5, 31), "region-january"),
        ("region", dt.date(2026, 6, 1), "region-june"),
        ("sibling", dt.date(2026, 7, 1), "sibling"),
    ],
)
def test_the_nearest_units_latest_policy_is_in_force(session, tree, unit, day, resolution):
    unit_id = tree[unit].id
    statements: list[str] = []
    count = lambda *args: statements.append(args[2])  # noqa: E731
    sqlalchemy.event.listen(session.bind, "before_cursor_execute", count)
    try:
        found = policy.policy_in_force(session, unit_id, day)
    finally:
        sqlalchemy.event.remove(session.bind, "before_cursor_execute", count)
    assert found.resolution == resolution
    # One statement: the unit's path is not read first (SQLite's BEGIN aside).
    assert [s for s in statements if s.startswith("SELECT")] == statements[-1:]


def test_no_policy_yet_is_refused_and_no_such_unit_is_not_found(session, tree):
    with pytest.raises(DomainError, match="No reward policy is in force"):
        policy.policy_in_force(session, tree["okrug"].id, dt.date(2025, 12, 31))
    with pytest.raises(NotFound):
        policy.policy_in_force(session, 987654, dt.date(2026, 7, 1))
