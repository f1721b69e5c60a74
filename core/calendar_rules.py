"""Working-day arithmetic for Kazakhstan's five-day week, and the bundled holiday calendar."""

from __future__ import annotations

import csv
import datetime
from importlib import resources

TRANSFER_KINDS = ("working", "day_off")


def is_working_day(
    day: datetime.date, holidays: set[datetime.date], transfers: dict[datetime.date, str]
) -> bool:
    """Return whether ``day`` is a working day.

    ``transfers`` maps a date to "working" (a weekend day made working by decree) or "day_off"
    (a weekday made a day off, by decree or because a holiday fell on a weekend).
    """
    if day in holidays:
        return False
    kind = transfers.get(day)
    if kind == "working":
        return True
    if kind == "day_off":
        return False
    return day.weekday() < 5


def add_working_days(
    start: datetime.date,
    n: int,
    holidays: set[datetime.date],
    transfers: dict[datetime.date, str],
) -> datetime.date:
    """Return the n-th working day after ``start`` (``start`` itself is not counted)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    day = start
    while n:
        day += datetime.timedelta(days=1)
        if is_working_day(day, holidays, transfers):
            n -= 1
    return day


def calendar_days_after(start: datetime.date, n: int) -> datetime.date:
    """Return the date ``n`` calendar days after ``start``."""
    return start + datetime.timedelta(days=n)


def load_calendar() -> tuple[set[datetime.date], dict[datetime.date, str]]:
    """Read core/data/holidays.csv into the (holidays, transfers) the functions above take."""
    holidays: set[datetime.date] = set()
    transfers: dict[datetime.date, str] = {}
    text = resources.files("core").joinpath("data/holidays.csv").read_text(encoding="utf-8")
    for row in csv.DictReader(text.splitlines()):
        day = datetime.date.fromisoformat(row["date"])
        if row["kind"] == "holiday":
            holidays.add(day)
        elif row["kind"] in TRANSFER_KINDS:
            transfers[day] = row["kind"]
        else:
            raise ValueError(f"holidays.csv: unknown kind {row['kind']!r} on {day}")
    return holidays, transfers
