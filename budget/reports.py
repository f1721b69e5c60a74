"""Execution of the budget as pandas DataFrames: by line, program, district, month and quarter.

Every function reads one SQL query and shapes it with pandas; the deputies' dashboard, the
exports and the reports to the maslikhat's session all use these same frames, so a figure on
screen and in a file cannot differ. Money stays integer tiyn (``int64``); only the execution
percent is a float. ``scope_ids`` are administrative-unit ids: a program counts when its
jurisdiction lies within one of them.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from budget.models import BudgetLine, BudgetProgram, LedgerEntry
from core import clock, places

MONEY = ["approved_tiyn", "committed_tiyn", "disbursed_tiyn", "available_tiyn"]


def frame(session: Session, stmt) -> pd.DataFrame:
    """Run ``stmt`` once and return its rows as a DataFrame named after the result columns.

    Rows pass through SQLAlchemy's types, so dates and aware timestamps arrive the same on
    SQLite and PostgreSQL.
    """
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


def _scoped_programs(stmt, scope_ids: list[int], year: int | None):
    stmt = stmt.join(places.AdminUnit, BudgetProgram.unit_id == places.AdminUnit.id).where(
        places.units_within_clause(scope_ids)
    )
    if year is not None:
        stmt = stmt.where(BudgetProgram.fiscal_year == year)
    return stmt


def execution_by_line(session: Session, *, scope_ids: list[int], year: int | None) -> pd.DataFrame:
    """Return one row per budget line: its program, jurisdiction and the five figures.

    Columns: line_id, purpose, program_id, fiscal_year, the code parts (functional_group,
    sub_function, administrator, program, sub_program), program_name_kk, program_name_ru,
    unit_id, unit_kato, unit_name_kk, unit_name_ru, unit_path, approved_tiyn, committed_tiyn,
    disbursed_tiyn, available_tiyn, execution_pct.
    """
    stmt = _scoped_programs(
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
        scope_ids,
        year,
    ).order_by(
        BudgetProgram.fiscal_year.desc(),
        places.AdminUnit.path,
        BudgetProgram.program,
        BudgetProgram.sub_program,
        BudgetLine.purpose,
    )
    return _with_figures(frame(session, stmt))


def program_code(row) -> str:
    """Return a program's classification code as the budget writes it, e.g. ``03.6.252.003.015``."""
    parts = [
        row["functional_group"],
        row["sub_function"],
        row["administrator"],
        row["program"],
        row["sub_program"],
    ]
    return ".".join(p for p in parts if p)


def execution_by_program(
    session: Session,
    *,
    scope_ids: list[int],
    year: int | None,
    lines: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return one row per program: its lines' figures summed, with code, names and jurisdiction.

    ``lines``: the same scope and year's ``execution_by_line`` when the caller has it already.
    """
    if lines is None:
        lines = execution_by_line(session, scope_ids=scope_ids, year=year)
    keys = [
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
    ]
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
    scope_ids: list[int],
    year: int | None,
    lines: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return one row per jurisdiction whose maslikhat adopted the programs, figures summed.

    ``lines``: the same scope and year's ``execution_by_line`` when the caller has it already.
    """
    if lines is None:
        lines = execution_by_line(session, scope_ids=scope_ids, year=year)
    keys = ["unit_id", "unit_kato", "unit_name_kk", "unit_name_ru", "unit_path"]
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


def disbursements(session: Session, *, scope_ids: list[int], year: int | None) -> pd.DataFrame:
    """Return every disbursement of the scope's lines: entry_id, line_id, at, amount_tiyn.

    Adds ``local_date``, ``month`` (1-12) and ``quarter`` (1-4) of the moment in local time.
    """
    stmt = _scoped_programs(
        select(
            LedgerEntry.id.label("entry_id"),
            LedgerEntry.line_id,
            LedgerEntry.at,
            LedgerEntry.amount_tiyn,
        )
        .join(BudgetLine, LedgerEntry.line_id == BudgetLine.id)
        .join(BudgetProgram, BudgetLine.program_id == BudgetProgram.id),
        scope_ids,
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


def disbursed_by_month(session: Session, *, scope_ids: list[int], year: int | None) -> pd.DataFrame:
    """Return months 1-12 (every one listed) with the number and sum of disbursements."""
    df = disbursements(session, scope_ids=scope_ids, year=year)
    return _by_period(df, "month", range(1, 13))


def disbursed_by_quarter(
    session: Session, *, scope_ids: list[int], year: int | None
) -> pd.DataFrame:
    """Return quarters 1-4 (every one listed) with the number and sum of disbursements."""
    df = disbursements(session, scope_ids=scope_ids, year=year)
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
