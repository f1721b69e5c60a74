"""Working-day arithmetic for Kazakhstan's five-day week, given holidays and transfers."""

from __future__ import annotations

import datetime


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
