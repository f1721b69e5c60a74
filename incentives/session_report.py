"""The report to the maslikhat's session: the program's execution for a quarter or a year.

Spend by budget line, by district and by form of reward, the people rewarded, the sober
settlements confirmed, the inquiries still open and the open red flags, for one jurisdiction.
Spend and rewards come from the dashboard's pandas frames (``budget.reports`` and
``incentives.reports``) narrowed to the period, so the report and the dashboard cannot differ.
The result is plain JSON-ready data (money in integer tiyn); the portal renders it as a
workbook and as a printable page in Kazakh and Russian. No names of people, no IIN, no IBAN.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from budget import reports as budget_reports
from core import clock, jobruns, places
from core.audit import AuditEvent
from core.db import utcnow
from core.errors import N_, DomainError
from core.scope import Scope
from incentives import reports as reward_reports
from incentives.inquiry_models import Inquiry
from incentives.sober_models import SoberDeclaration

if TYPE_CHECKING:
    # pandas takes 1.3 s to import and only the report functions use it: they import it
    # themselves, so the app's processes (web workers, job workers, commands) start without it.
    import pandas as pd

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
            places.path_within_clause(unit.c.path, scope.c.path),
        )
        .exists()
    )


def _lines(session: Session, unit_id: int, year: int, start: dt.date, end: dt.date) -> list[dict]:
    """The year's budget lines of the jurisdiction with what was disbursed in the period.

    Built from the dashboard's frames: the lines' figures from ``execution_by_line``, the
    period's spend from ``disbursements`` filtered to the period's local dates.
    """
    lines = budget_reports.execution_by_line(session, scope=Scope.within([unit_id]), year=year)
    if lines.empty:
        return []
    paid = budget_reports.disbursements(session, scope=Scope.within([unit_id]), year=year)
    in_period = paid[(paid["local_date"] >= start) & (paid["local_date"] < end)]
    spent = in_period.groupby("line_id")["amount_tiyn"].sum()
    lines = lines.assign(
        code=lines.apply(budget_reports.program_code, axis=1),
        spent_in_period_tiyn=lines["line_id"].map(spent).fillna(0).astype("int64"),
    )
    return [
        {
            "line_id": int(row.line_id),
            "unit_kk": row.unit_name_kk,
            "unit_ru": row.unit_name_ru,
            "code": row.code,
            "program_kk": row.program_name_kk,
            "program_ru": row.program_name_ru,
            "purpose": row.purpose,
            "approved_tiyn": int(row.approved_tiyn),
            "committed_tiyn": int(row.committed_tiyn),
            "disbursed_tiyn": int(row.disbursed_tiyn),
            "available_tiyn": int(row.available_tiyn),
            "spent_in_period_tiyn": int(row.spent_in_period_tiyn),
        }
        for row in lines.itertuples(index=False)
    ]


def _district_of(units: dict[int, places.AdminUnit], unit_id: int) -> places.AdminUnit:
    current = units[unit_id]
    while current is not None:
        if current.level in ("district", "city"):
            return current
        current = units.get(current.parent_id) if current.parent_id else None
    return units[unit_id]


def paid_in_period(session: Session, unit_id: int, start: dt.date, end: dt.date) -> pd.DataFrame:
    """The dashboard's rewards frame narrowed to rewards paid or handed over in the period."""
    df = reward_reports.rewards(session, scope=Scope.within([unit_id]), year=None)
    settled = df["payout_status"].isin(SETTLED) & ~df["voided"].astype(bool)
    on = df["payout_on"]
    return df[settled & on.notna() & (on >= start) & (on < end)]


def _reward_sections(session: Session, unit_id: int, start: dt.date, end: dt.date) -> dict:
    rewards = paid_in_period(session, unit_id, start, end)
    people = int(rewards["recipient_key"].nunique())
    total = int(rewards["paid_tiyn"].sum())
    summary = {
        "people": people,
        "rewards": len(rewards),
        "amount_tiyn": total,
        "average_tiyn": total // people if people else 0,
    }
    if rewards.empty:
        return {"districts": [], "forms": [], "people": summary}
    units = {u.id: u for u in session.scalars(select(places.AdminUnit))}
    district_ids = {
        u: _district_of(units, int(u)).id for u in rewards["recipient_unit_id"].unique()
    }
    rewards = rewards.assign(district_id=rewards["recipient_unit_id"].map(district_ids))
    by_district = rewards.groupby("district_id").agg(
        rewards=("item_id", "count"),
        amount_tiyn=("paid_tiyn", "sum"),
        people=("recipient_key", "nunique"),
    )
    districts = [
        {
            "kato": units[int(district_id)].kato,
            "district_kk": units[int(district_id)].name_kk,
            "district_ru": units[int(district_id)].name_ru,
            "rewards": int(row.rewards),
            "amount_tiyn": int(row.amount_tiyn),
            "people": int(row.people),
        }
        for district_id, row in by_district.iterrows()
    ]
    by_form = rewards.groupby("form").agg(
        rewards=("item_id", "count"), amount_tiyn=("paid_tiyn", "sum")
    )
    forms = [
        {"form": form, "rewards": int(row.rewards), "amount_tiyn": int(row.amount_tiyn)}
        for form, row in by_form.sort_index().iterrows()
    ]
    return {
        "districts": sorted(districts, key=lambda r: r["kato"]),
        "forms": forms,
        "people": summary,
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
        if run.unit_id is None or Scope.within([run.unit_id]).contains(session, unit_id):
            # A run over a wider area: count only its flags inside this jurisdiction.
            data = json.loads(run.result or "{}")
            if not isinstance(data, dict) or not isinstance(data.get("rows"), list):
                return _flag_rows(run.result)
            inside = set(Scope.within([unit_id]).unit_ids_covered(session))
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
        "lines": _lines(session, unit.id, year, start, end),
        **_reward_sections(session, unit.id, start, end),
        "sober": _sober(session, unit.id, end),
        "inquiries": _inquiries(session, unit.id, clock.local_date(now)),
        "flags": _flags(session, unit.id),
    }
    return report
