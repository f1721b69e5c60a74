"""The report to the maslikhat's session: the program's execution for a quarter or a year.

Spend by budget line, by district and by form of reward, the people rewarded, the sober
settlements confirmed, the inquiries still open and the open red flags, for one jurisdiction.
The result is plain JSON-ready data (money in integer tiyn); the portal renders it as a
workbook and as a printable page in Kazakh and Russian. No names of people, no IIN, no IBAN.
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from budget.models import BudgetLine, BudgetProgram, LedgerEntry
from core import clock, jobruns, places
from core.audit import AuditEvent
from core.db import utcnow
from core.errors import N_, DomainError
from incentives.inquiry_models import Inquiry
from incentives.models import AgendaItem, Commission, CommissionSession, Nomination, Payout
from incentives.sober_models import SoberDeclaration

SETTLED = ("paid", "handed_over")
FLAGS_JOB = "oversight.flags"
SECTIONS = ("lines", "districts", "forms", "people", "sober", "inquiries", "flags")


def period(year: int, quarter: int | None) -> tuple[dt.date, dt.date]:
    """Return the first day of the period and the first day after it."""
    if not 2000 <= year <= 2100:
        raise DomainError(N_("Choose a year between 2000 and 2100."))
    if quarter is None:
        return dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    if quarter not in (1, 2, 3, 4):
        raise DomainError(N_("Choose a quarter from 1 to 4, or the whole year."))
    start = dt.date(year, 3 * quarter - 2, 1)
    end = dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)
    return start, end


def _within(column, unit_id: int):
    """A condition: the unit in ``column`` lies within ``unit_id``."""
    unit = places.AdminUnit.__table__.alias("report_unit")
    scope = places.AdminUnit.__table__.alias("report_scope")
    return (
        select(unit.c.id)
        .where(
            unit.c.id == column,
            scope.c.id == unit_id,
            unit.c.path.like(scope.c.path + "%"),
        )
        .exists()
    )


def _lines(session: Session, unit_id: int, year: int, bounds) -> list[dict]:
    spent = (
        select(LedgerEntry.line_id, func.sum(LedgerEntry.amount_tiyn).label("spent"))
        .where(
            LedgerEntry.kind == "disburse",
            LedgerEntry.at >= bounds[0],
            LedgerEntry.at < bounds[1],
        )
        .group_by(LedgerEntry.line_id)
        .subquery()
    )
    rows = session.execute(
        select(BudgetLine, BudgetProgram, places.AdminUnit, spent.c.spent)
        .join(BudgetProgram, BudgetLine.program_id == BudgetProgram.id)
        .join(places.AdminUnit, places.AdminUnit.id == BudgetProgram.unit_id)
        .outerjoin(spent, spent.c.line_id == BudgetLine.id)
        .where(BudgetProgram.fiscal_year == year, _within(BudgetProgram.unit_id, unit_id))
        .order_by(places.AdminUnit.kato, BudgetProgram.program, BudgetProgram.sub_program)
    ).all()
    out = []
    for line, program, unit, spent_tiyn in rows:
        code = "".join(
            (
                program.functional_group,
                program.sub_function,
                program.administrator,
                program.program,
                program.sub_program or "",
            )
        )
        out.append(
            {
                "line_id": line.id,
                "unit_kk": unit.name_kk,
                "unit_ru": unit.name_ru,
                "code": code,
                "program_kk": program.name_kk,
                "program_ru": program.name_ru,
                "purpose": line.purpose,
                "approved_tiyn": line.approved_tiyn,
                "committed_tiyn": line.committed_tiyn,
                "disbursed_tiyn": line.disbursed_tiyn,
                "available_tiyn": line.approved_tiyn - line.committed_tiyn - line.disbursed_tiyn,
                "spent_in_period_tiyn": int(spent_tiyn or 0),
            }
        )
    return out


def _district_of(units: dict[int, places.AdminUnit], unit_id: int) -> places.AdminUnit:
    current = units[unit_id]
    while current is not None:
        if current.level in ("district", "city"):
            return current
        current = units.get(current.parent_id) if current.parent_id else None
    return units[unit_id]


def _rewards(session: Session, unit_id: int, bounds) -> list[tuple[Payout, Nomination]]:
    return list(
        session.execute(
            select(Payout, Nomination)
            .join(AgendaItem, Payout.item_id == AgendaItem.id)
            .join(Nomination, AgendaItem.nomination_id == Nomination.id)
            .join(CommissionSession, AgendaItem.session_id == CommissionSession.id)
            .join(Commission, CommissionSession.commission_id == Commission.id)
            .where(
                Payout.status.in_(SETTLED),
                Payout.recorded_at >= bounds[0],
                Payout.recorded_at < bounds[1],
                _within(Commission.unit_id, unit_id),
            )
            .order_by(Payout.id)
        ).all()
    )


def _recipient(n: Nomination) -> tuple:
    return ("m", n.member_id) if n.member_id else ("i", n.initiative_id, n.recipient_name)


def _reward_sections(session: Session, unit_id: int, bounds) -> dict:
    rewards = _rewards(session, unit_id, bounds)
    units = {u.id: u for u in session.scalars(select(places.AdminUnit))}
    districts: dict[int, dict] = {}
    forms: dict[str, dict] = {}
    people: set = set()
    for payout, nomination in rewards:
        district = _district_of(units, nomination.recipient_unit_id)
        row = districts.setdefault(
            district.id,
            {
                "kato": district.kato,
                "district_kk": district.name_kk,
                "district_ru": district.name_ru,
                "rewards": 0,
                "amount_tiyn": 0,
                "_people": set(),
            },
        )
        row["rewards"] += 1
        row["amount_tiyn"] += payout.amount_tiyn
        row["_people"].add(_recipient(nomination))
        by_form = forms.setdefault(
            nomination.form, {"form": nomination.form, "rewards": 0, "amount_tiyn": 0}
        )
        by_form["rewards"] += 1
        by_form["amount_tiyn"] += payout.amount_tiyn
        people.add(_recipient(nomination))
    district_rows = []
    for row in sorted(districts.values(), key=lambda r: r["kato"]):
        row["people"] = len(row.pop("_people"))
        district_rows.append(row)
    total = sum(p.amount_tiyn for p, _n in rewards)
    return {
        "districts": district_rows,
        "forms": sorted(forms.values(), key=lambda r: r["form"]),
        "people": {
            "people": len(people),
            "rewards": len(rewards),
            "amount_tiyn": total,
            "average_tiyn": total // len(people) if people else 0,
        },
    }


def _sober(session: Session, unit_id: int, end: dt.date) -> list[dict]:
    rows = session.scalars(
        select(SoberDeclaration)
        .where(
            SoberDeclaration.status == "confirmed",
            SoberDeclaration.gathered_on < end,
            _within(SoberDeclaration.unit_id, unit_id),
        )
        .order_by(SoberDeclaration.gathered_on, SoberDeclaration.id)
    )
    return [
        {
            "settlement_kk": d.unit.name_kk,
            "settlement_ru": d.unit.name_ru,
            "gathered_on": d.gathered_on.isoformat(),
            "confirmed_on": clock.local_date(d.confirmed_at).isoformat() if d.confirmed_at else "",
            "attendance": d.attendance,
            "outlets": len(d.outlets),
        }
        for d in rows
    ]


def _inquiries(session: Session, unit_id: int, today: dt.date) -> list[dict]:
    rows = session.scalars(
        select(Inquiry)
        .where(Inquiry.status != "closed", _within(Inquiry.unit_id, unit_id))
        .order_by(Inquiry.deadline, Inquiry.id)
    )
    return [
        {
            "id": i.id,
            "object_type": i.object_type,
            "object_id": i.object_id,
            "asked_on": clock.local_date(i.created_at).isoformat(),
            "deadline": i.deadline.isoformat(),
            "status": i.status,
            "overdue": i.overdue(today),
        }
        for i in rows
    ]


def _flag_rows(result: str | None) -> list[dict]:
    """Turn the flags job's result into (flag, count) rows, whatever its exact shape."""
    data = json.loads(result or "null")
    items = data
    if isinstance(data, dict):
        counts = data.get("counts")
        if isinstance(counts, dict):
            return [{"flag": k, "count": int(v)} for k, v in sorted(counts.items())]
        items = data.get("flags", data)
    if isinstance(items, dict):
        return [
            {"flag": k, "count": int(v) if not isinstance(v, list) else len(v)}
            for k, v in sorted(items.items())
            if isinstance(v, int | list) and not isinstance(v, bool)
        ]
    if isinstance(items, list):
        counts: dict[str, int] = {}
        for item in items:
            if isinstance(item, dict):
                key = item.get("code") or item.get("kind") or item.get("flag")
            else:
                key = item
            counts[str(key)] = counts.get(str(key), 0) + 1
        return [{"flag": k, "count": v} for k, v in sorted(counts.items())]
    return []


def _flags(session: Session, unit_id: int) -> list[dict] | None:
    """Return the open red flags of the latest flags run covering the unit; None if none ran."""
    runs = session.scalars(
        select(jobruns.JobRun)
        .where(jobruns.JobRun.kind == FLAGS_JOB, jobruns.JobRun.status == "succeeded")
        .order_by(jobruns.JobRun.id.desc())
        .limit(20)
    )
    for run in runs:
        if run.unit_id == unit_id:
            return _flag_rows(run.result)
        if run.unit_id is None or places.within(session, unit_id, [run.unit_id]):
            # A run over a wider area: count only its flags inside this jurisdiction.
            data = json.loads(run.result or "{}")
            if not isinstance(data, dict) or not isinstance(data.get("rows"), list):
                return _flag_rows(run.result)
            inside = {
                u
                for u in session.scalars(
                    select(places.AdminUnit.id).where(places.units_within_clause([unit_id]))
                )
            }
            counts = dict.fromkeys((data.get("counts") or {}), 0)
            for row in data["rows"]:
                if row.get("unit_id") in inside:
                    counts[row["kind"]] = counts.get(row["kind"], 0) + 1
            return [{"flag": k, "count": v} for k, v in sorted(counts.items())]
    return None


def build(
    session: Session,
    *,
    unit_id: int,
    year: int,
    quarter: int | None,
    now: dt.datetime | None = None,
) -> dict:
    """Gather the report of ``unit_id`` for the quarter (or the year when ``quarter`` is None)."""
    now = now or utcnow()
    start, end = period(year, quarter)
    unit = session.get(places.AdminUnit, unit_id)
    if unit is None:
        raise DomainError(N_("No such administrative unit."))
    bounds = (clock.local_day_bounds(start)[0], clock.local_day_bounds(end)[0])
    head = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1))
    report = {
        "unit_id": unit.id,
        "unit_kato": unit.kato,
        "unit_kk": unit.name_kk,
        "unit_ru": unit.name_ru,
        "year": year,
        "quarter": quarter,
        "start": start.isoformat(),
        "end": (end - dt.timedelta(days=1)).isoformat(),
        "generated_at": now.isoformat(),
        "audit_head": head or "",
        "lines": _lines(session, unit.id, year, bounds),
        **_reward_sections(session, unit.id, bounds),
        "sober": _sober(session, unit.id, end),
        "inquiries": _inquiries(session, unit.id, clock.local_date(now)),
        "flags": _flags(session, unit.id),
    }
    return report
