"""Baselines and change of the indicators, and the public overview of sober settlements."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import places
from incentives.sober_models import (
    SoberDeclaration,
)
from sober.indicators import indicator_kinds, values_for
from sober.quarters import Quarter, quarter_of, quarters_between, shift_quarter

BASELINE_MIN_YEARS, BASELINE_MAX_YEARS = 3, 5


@dataclasses.dataclass(frozen=True)
class Trend:
    """An indicator before and after a declaration: averages per quarter and the change.

    ``baseline`` is the average per quarter over the recorded quarters of the 5 years before
    the declaration's quarter; it is None unless they cover at least 3 years (12 quarters).
    ``after`` averages the quarters after the declaration's quarter up to the last one with a
    figure. ``change_pct`` is None when either is missing or the baseline is zero.
    """

    baseline: Decimal | None
    after: Decimal | None
    change_pct: Decimal | None
    baseline_quarters: int
    after_quarters: int


def _avg(values: list[int]) -> Decimal | None:
    if not values:
        return None
    return (Decimal(sum(values)) / len(values)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def percent_change(before: Decimal | None, after: Decimal | None) -> Decimal | None:
    """Return the change from ``before`` to ``after`` in percent, to one decimal."""
    if before is None or after is None or before == 0:
        return None
    return ((after - before) * 100 / before).quantize(Decimal("0.1"), ROUND_HALF_UP)


def trend(values: dict[Quarter, int], declared_on: dt.date) -> Trend:
    """Compare one indicator's quarters before a declaration with those after it."""
    declared_q = quarter_of(declared_on)
    first = shift_quarter(declared_q, -4 * BASELINE_MAX_YEARS)
    before = [v for q, v in values.items() if first <= q < declared_q]
    after = [v for q, v in values.items() if q > declared_q]
    baseline = _avg(before) if len(before) >= 4 * BASELINE_MIN_YEARS else None
    later = _avg(after)
    return Trend(baseline, later, percent_change(baseline, later), len(before), len(after))


def combined_trend(items: list[tuple[dict[Quarter, int], dt.date]]) -> Trend:
    """Add up the settlements of an area, each compared with its own baseline.

    The area's baseline is the sum of its settlements' baselines, its 'after' the sum of their
    'after' averages, over the settlements that have both.
    """
    trends = [trend(values, day) for values, day in items]
    both = [t for t in trends if t.baseline is not None and t.after is not None]
    if not both:
        return Trend(None, None, None, 0, 0)
    baseline = sum((t.baseline for t in both), Decimal(0))
    after = sum((t.after for t in both), Decimal(0))
    return Trend(
        baseline,
        after,
        percent_change(baseline, after),
        sum(t.baseline_quarters for t in both),
        sum(t.after_quarters for t in both),
    )


def series(
    values: dict[Quarter, int], declared_on: dt.date | None, last: Quarter, count: int = 24
) -> list[tuple[Quarter, int | None, bool]]:
    """Return the last ``count`` quarters up to ``last``: (quarter, value, after declaration)."""
    declared_q = quarter_of(declared_on) if declared_on else None
    first = shift_quarter(last, -(count - 1))
    return [
        (q, values.get(q), declared_q is not None and q > declared_q)
        for q in quarters_between(first, last)
    ]


@dataclasses.dataclass
class Area:
    """A region or district on the public page: its confirmed settlements and trends."""

    unit: places.AdminUnit
    settlements: list[dict] = dataclasses.field(default_factory=list)
    children: list[Area] = dataclasses.field(default_factory=list)
    trends: dict[str, Trend] = dataclasses.field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.settlements) + sum(c.count for c in self.children)


def _ancestors(units: dict[int, places.AdminUnit], unit: places.AdminUnit) -> list:
    out, current = [], unit
    while current.parent_id is not None:
        current = units[current.parent_id]
        out.append(current)
    return out


def public_overview(session: Session, *, region_ids: list[int] | None = None) -> list[Area]:
    """Return the confirmed sober settlements grouped by region and district, with trends.

    Only places, dates, counts and indicator figures: no names of people.
    """
    declarations = list(
        session.scalars(select(SoberDeclaration).where(SoberDeclaration.status == "confirmed"))
    )
    units = {u.id: u for u in session.scalars(select(places.AdminUnit))}
    kinds = indicator_kinds(session)
    values = values_for(session, [d.unit_id for d in declarations])
    regions: dict[int, Area] = {}
    districts: dict[int, Area] = {}
    inputs: dict[int, dict[str, list]] = {}
    for d in declarations:
        chain = _ancestors(units, d.unit)
        # The top-level unit under the country: a region or a city of republican significance.
        region = chain[-2] if len(chain) >= 2 else d.unit
        district = next(
            (u for u in chain if u.level in ("district", "city") and u.id != region.id), region
        )
        if region_ids is not None and region.id not in region_ids:
            continue
        area = regions.setdefault(region.id, Area(region))
        if district.id not in districts:
            districts[district.id] = Area(district)
            area.children.append(districts[district.id])
        own = values[d.unit_id]
        districts[district.id].settlements.append(
            {
                "unit": d.unit,
                "gathered_on": d.gathered_on,
                "confirmed_at": d.confirmed_at,
                "outlets": len(d.outlets),
                "trends": {k.code: trend(own.get(k.code, {}), d.gathered_on) for k in kinds},
            }
        )
        for k in kinds:
            for key in (district.id, region.id):
                inputs.setdefault(key, {}).setdefault(k.code, []).append(
                    (own.get(k.code, {}), d.gathered_on)
                )
    for key, area in [*districts.items(), *regions.items()]:
        area.trends = {code: combined_trend(items) for code, items in inputs[key].items()}
    for area in regions.values():
        area.children.sort(key=lambda a: a.unit.kato)
        for child in area.children:
            child.settlements.sort(key=lambda s: s["unit"].kato)
    return sorted(regions.values(), key=lambda a: a.unit.kato)
