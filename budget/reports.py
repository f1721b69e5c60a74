"""Execution of the budget by line, program, district, month and quarter: frames and page rows.

The frame functions read one SQL query each and shape it with pandas; the exports and the
reports to the maslikhat's session use these frames. The deputies' dashboard, read on every
request, takes the same figures as plain rows summed by the database (``execution_rows``,
``disbursed_by_period``); tests hold both to the same numbers. Money stays integer tiyn
(``int64``); only the execution percent is a float. A ``Scope`` says where to look: a program
counts when its jurisdiction lies within it.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import Session

from budget.appropriations import CODE_PARTS, code_of
from budget.models import BudgetLine, BudgetProgram, LedgerEntry
from core import clock, places
from core.scope import Scope, per_scope, scoped

if TYPE_CHECKING:
    # pandas takes 1.3 s to import and only the report functions use it: they import it
    # themselves, so the app's processes (web workers, job workers, commands) start without it.
    import pandas as pd

MONEY = ["approved_tiyn", "committed_tiyn", "disbursed_tiyn", "available_tiyn"]


def frame(session: Session, stmt) -> pd.DataFrame:
    """Run ``stmt`` once and return its rows as a DataFrame named after the result columns.

    Rows pass through SQLAlchemy's types, so dates and aware timestamps arrive the same on
    SQLite and PostgreSQL.
    """
    import pandas as pd

    result = session.execute(stmt)
    # Plain tuples: pandas inspects each Row object otherwise, three times slower.
    return pd.DataFrame([tuple(row) for row in result], columns=list(result.keys()))


def execution_percent(disbursed: pd.Series, approved: pd.Series) -> pd.Series:
    """Return disbursed / approved in percent, one decimal; 0 where nothing is approved."""
    share = disbursed.astype("float64") * 100 / approved.where(approved > 0).astype("float64")
    return share.fillna(0.0).round(1)


def _with_figures(df: pd.DataFrame) -> pd.DataFrame:
    for column in ("approved_tiyn", "committed_tiyn", "disbursed_tiyn"):
        df[column] = df[column].astype("int64")
    df["available_tiyn"] = df["approved_tiyn"] - df["committed_tiyn"] - df["disbursed_tiyn"]
    df["execution_pct"] = execution_percent(df["disbursed_tiyn"], df["approved_tiyn"])
    return df


def _scoped_programs(stmt, scope: Scope, year: int | None):
    stmt = scoped(
        stmt.join(places.AdminUnit, BudgetProgram.unit_id == places.AdminUnit.id),
        places.AdminUnit.id,
        scope,
    )
    if year is not None:
        stmt = stmt.where(BudgetProgram.fiscal_year == year)
    return stmt


def execution_by_line(session: Session, *, scope: Scope, year: int | None) -> pd.DataFrame:
    """Return one row per budget line: its program, jurisdiction and the five figures.

    Columns: line_id, purpose, program_id, fiscal_year, the code parts (functional_group,
    sub_function, administrator, program, sub_program), program_name_kk, program_name_ru,
    unit_id, unit_kato, unit_name_kk, unit_name_ru, unit_path, approved_tiyn, committed_tiyn,
    disbursed_tiyn, available_tiyn, execution_pct.
    """
    return _with_figures(frame(session, _lines_statement(scope, year)))


@per_scope
def _lines_statement(scope: Scope, year: int | None) -> Select:
    return _scoped_programs(
        select(
            BudgetLine.id.label("line_id"),
            BudgetLine.purpose,
            BudgetProgram.id.label("program_id"),
            BudgetProgram.fiscal_year,
            BudgetProgram.functional_group,
            BudgetProgram.sub_function,
            BudgetProgram.administrator,
            BudgetProgram.program,
            BudgetProgram.sub_program,
            BudgetProgram.name_kk.label("program_name_kk"),
            BudgetProgram.name_ru.label("program_name_ru"),
            places.AdminUnit.id.label("unit_id"),
            places.AdminUnit.kato.label("unit_kato"),
            places.AdminUnit.name_kk.label("unit_name_kk"),
            places.AdminUnit.name_ru.label("unit_name_ru"),
            places.AdminUnit.path.label("unit_path"),
            BudgetLine.approved_tiyn,
            BudgetLine.committed_tiyn,
            BudgetLine.disbursed_tiyn,
        ).join(BudgetProgram, BudgetLine.program_id == BudgetProgram.id),
        scope,
        year,
    ).order_by(
        BudgetProgram.fiscal_year.desc(),
        places.AdminUnit.path,
        BudgetProgram.program,
        BudgetProgram.sub_program,
        BudgetLine.purpose,
    )


def program_code(row) -> str:
    """Return a program's classification code as every page writes it, e.g. ``03-1-252-003``."""
    return code_of(row[part] for part in CODE_PARTS)


def execution_by_program(
    session: Session,
    *,
    scope: Scope,
    year: int | None,
    lines: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return one row per program: its lines' figures summed, with code, names and jurisdiction.

    ``lines``: the same scope and year's ``execution_by_line`` when the caller has it already.
    """
    import pandas as pd

    if lines is None:
        lines = execution_by_line(session, scope=scope, year=year)
    keys = list(PROGRAM_KEYS)
    if lines.empty:
        return pd.DataFrame(columns=[*keys, "code", "lines", *MONEY, "execution_pct"])
    grouped = (
        lines.groupby(keys, sort=False, dropna=False)
        .agg(
            lines=("line_id", "count"),
            approved_tiyn=("approved_tiyn", "sum"),
            committed_tiyn=("committed_tiyn", "sum"),
            disbursed_tiyn=("disbursed_tiyn", "sum"),
        )
        .reset_index()
    )
    grouped["code"] = grouped.apply(program_code, axis=1)
    return _with_figures(grouped)


def execution_by_district(
    session: Session,
    *,
    scope: Scope,
    year: int | None,
    lines: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return one row per jurisdiction whose maslikhat adopted the programs, figures summed.

    ``lines``: the same scope and year's ``execution_by_line`` when the caller has it already.
    """
    import pandas as pd

    if lines is None:
        lines = execution_by_line(session, scope=scope, year=year)
    keys = list(DISTRICT_KEYS)
    if lines.empty:
        return pd.DataFrame(columns=[*keys, "lines", *MONEY, "execution_pct"])
    grouped = (
        lines.groupby(keys, sort=True)
        .agg(
            lines=("line_id", "count"),
            approved_tiyn=("approved_tiyn", "sum"),
            committed_tiyn=("committed_tiyn", "sum"),
            disbursed_tiyn=("disbursed_tiyn", "sum"),
        )
        .reset_index()
        .sort_values("unit_path", kind="stable")
        .reset_index(drop=True)
    )
    return _with_figures(grouped)


def disbursements(session: Session, *, scope: Scope, year: int | None) -> pd.DataFrame:
    """Return every disbursement of the scope's lines: entry_id, line_id, at, amount_tiyn.

    Adds ``local_date``, ``month`` (1-12) and ``quarter`` (1-4) of the moment in local time.
    """
    import pandas as pd

    stmt = _scoped_programs(
        select(
            LedgerEntry.id.label("entry_id"),
            LedgerEntry.line_id,
            LedgerEntry.at,
            LedgerEntry.amount_tiyn,
        )
        .join(BudgetLine, LedgerEntry.line_id == BudgetLine.id)
        .join(BudgetProgram, BudgetLine.program_id == BudgetProgram.id),
        scope,
        year,
    ).where(LedgerEntry.kind == "disburse")
    df = frame(session, stmt.order_by(LedgerEntry.at, LedgerEntry.id))
    if df.empty:
        return pd.DataFrame(
            {
                "entry_id": pd.Series(dtype="int64"),
                "line_id": pd.Series(dtype="int64"),
                "at": pd.Series(dtype="object"),
                "amount_tiyn": pd.Series(dtype="int64"),
                "local_date": pd.Series(dtype="object"),
                "month": pd.Series(dtype="int64"),
                "quarter": pd.Series(dtype="int64"),
            }
        )
    df["amount_tiyn"] = df["amount_tiyn"].astype("int64")
    local = pd.to_datetime(df["at"], utc=True).dt.tz_convert(str(clock.zone()))
    df["local_date"] = local.dt.date
    df["month"] = local.dt.month.astype("int64")
    df["quarter"] = local.dt.quarter.astype("int64")
    return df


def disbursed_by_month(session: Session, *, scope: Scope, year: int | None) -> pd.DataFrame:
    """Return months 1-12 (every one listed) with the number and sum of disbursements."""
    df = disbursements(session, scope=scope, year=year)
    return _by_period(df, "month", range(1, 13))


def disbursed_by_quarter(session: Session, *, scope: Scope, year: int | None) -> pd.DataFrame:
    """Return quarters 1-4 (every one listed) with the number and sum of disbursements."""
    df = disbursements(session, scope=scope, year=year)
    return _by_period(df, "quarter", range(1, 5))


def _by_period(df: pd.DataFrame, period: str, periods: range) -> pd.DataFrame:
    grouped = df.groupby(period).agg(
        payments=("entry_id", "count"), disbursed_tiyn=("amount_tiyn", "sum")
    )
    grouped = grouped.reindex(list(periods), fill_value=0)
    grouped.index.name = period
    grouped = grouped.reset_index()
    grouped["payments"] = grouped["payments"].astype("int64")
    grouped["disbursed_tiyn"] = grouped["disbursed_tiyn"].astype("int64")
    return grouped


def totals(lines: pd.DataFrame) -> dict[str, int | float]:
    """Return the five figures summed over a frame of lines (or programs, or districts)."""
    sums = {c: int(lines[c].sum()) if not lines.empty else 0 for c in MONEY}
    approved = sums["approved_tiyn"]
    sums["execution_pct"] = (
        round(sums["disbursed_tiyn"] * 100 / approved, 1) if approved > 0 else 0.0
    )
    return sums


# ---- the same figures as plain rows, summed by the database (the dashboard, per request) -------

PROGRAM_KEYS = (
    "program_id",
    "fiscal_year",
    "functional_group",
    "sub_function",
    "administrator",
    "program",
    "sub_program",
    "program_name_kk",
    "program_name_ru",
    "unit_id",
    "unit_kato",
    "unit_name_kk",
    "unit_name_ru",
    "unit_path",
)
DISTRICT_KEYS = ("unit_id", "unit_kato", "unit_name_kk", "unit_name_ru", "unit_path")


def _figured(row: dict) -> dict:
    """Add available_tiyn and execution_pct as ``_with_figures`` does (numpy's rounding)."""
    approved, disbursed = row["approved_tiyn"], row["disbursed_tiyn"]
    row["available_tiyn"] = approved - row["committed_tiyn"] - disbursed
    row["execution_pct"] = (
        round(float(disbursed) * 100 / float(approved) * 10) / 10 if approved > 0 else 0.0
    )
    return row


def _summed(lines: list[dict], keys: tuple[str, ...]) -> list[dict]:
    groups: dict[tuple, dict] = {}
    for line in lines:
        key = tuple(line[k] for k in keys)
        group = groups.get(key)
        if group is None:
            group = groups[key] = {
                **dict(zip(keys, key, strict=True)),
                "lines": 0,
                "approved_tiyn": 0,
                "committed_tiyn": 0,
                "disbursed_tiyn": 0,
            }
        group["lines"] += 1
        for column in ("approved_tiyn", "committed_tiyn", "disbursed_tiyn"):
            group[column] += line[column]
    return [_figured(group) for group in groups.values()]


def execution_rows(session: Session, *, scope: Scope, year: int | None):
    """Return (lines, programs, districts, totals): the frames' figures as plain rows.

    The same rows as ``execution_by_line``, ``execution_by_program`` (first-seen order, with
    ``code``), ``execution_by_district`` (by path) and ``totals``, without building three
    DataFrames for a dozen lines on every request (issue 16).
    """
    result = session.execute(_lines_statement(scope, year))
    keys = list(result.keys())
    lines = [_figured(dict(zip(keys, row, strict=True))) for row in result]
    programs = _summed(lines, PROGRAM_KEYS)
    for program in programs:
        program["code"] = program_code(program)
    districts = sorted(_summed(lines, DISTRICT_KEYS), key=lambda d: d["unit_path"])
    sums = {c: sum(line[c] for line in lines) for c in MONEY}
    approved = sums["approved_tiyn"]
    sums["execution_pct"] = (
        round(sums["disbursed_tiyn"] * 100 / approved, 1) if approved > 0 else 0.0
    )
    return lines, programs, districts, sums


@per_scope
def _period_statements(scope: Scope, year: int, zone: ZoneInfo) -> tuple[Select, Select]:
    """Return (sums by local month, disbursements outside the year's months) of ``year``.

    Built once per scope, year and zone, as ``_lines_statement`` (the dashboard reads both
    years on every request).
    """
    bounds = [dt.datetime(year, m, 1, tzinfo=zone) for m in range(1, 13)]
    bounds.append(dt.datetime(year + 1, 1, 1, tzinfo=zone))
    bounds = [b.astimezone(dt.UTC) for b in bounds]
    month = case(
        (LedgerEntry.at < bounds[0], 0),
        *((LedgerEntry.at < bounds[m], m) for m in range(1, 13)),
        else_=0,
    )
    base = _scoped_programs(
        select()
        .select_from(LedgerEntry)
        .join(BudgetLine, LedgerEntry.line_id == BudgetLine.id)
        .join(BudgetProgram, BudgetLine.program_id == BudgetProgram.id),
        scope,
        year,
    ).where(LedgerEntry.kind == "disburse")
    grouped = base.add_columns(
        month.label("month"), func.count(LedgerEntry.id), func.sum(LedgerEntry.amount_tiyn)
    ).group_by(month)
    outside = base.add_columns(LedgerEntry.at, LedgerEntry.amount_tiyn).where(
        or_(LedgerEntry.at < bounds[0], LedgerEntry.at >= bounds[12])
    )
    return grouped, outside


def disbursed_by_period(session: Session, *, scope: Scope, year: int):
    """Return (months 1-12, quarters 1-4) with payments and disbursed_tiyn, every one listed.

    The figures of ``disbursed_by_month`` and ``disbursed_by_quarter``, grouped by the database:
    a disbursement's local month is found by comparing its moment with the year's month
    boundaries (local midnights, in UTC), so the query returns twelve rows however long the
    ledger is. Disbursements outside the fiscal year's calendar fall in a bucket 0; when there
    are any, they are read one by one and placed by their local month as the frames do.
    """
    zone = clock.zone()
    grouped, outside = _period_statements(scope, year, zone)
    sums = {m: [0, 0] for m in range(13)}
    for m, payments, amount in session.execute(grouped):
        sums[m][0] += payments
        sums[m][1] += int(amount or 0)
    if sums.pop(0)[0]:
        for at, amount in session.execute(outside):
            sums[at.astimezone(zone).month][0] += 1
            sums[at.astimezone(zone).month][1] += amount
    months = [{"month": m, "payments": p, "disbursed_tiyn": a} for m, (p, a) in sums.items()]
    quarters = [
        {
            "quarter": q,
            "payments": sum(months[m]["payments"] for m in range(3 * q - 3, 3 * q)),
            "disbursed_tiyn": sum(months[m]["disbursed_tiyn"] for m in range(3 * q - 3, 3 * q)),
        }
        for q in range(1, 5)
    ]
    return months, quarters
