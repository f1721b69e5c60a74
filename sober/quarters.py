"""Quarters of the indicators: which quarter a day is in, shifting and spanning them."""

from __future__ import annotations

import datetime as dt

Quarter = tuple[int, int]  # (year, quarter 1..4)


def quarter_of(day: dt.date) -> Quarter:
    """Return the (year, quarter) a day falls in."""
    return day.year, (day.month - 1) // 3 + 1


def quarter_start(year: int, quarter: int) -> dt.date:
    """Return the first day of a quarter."""
    return dt.date(year, 3 * (quarter - 1) + 1, 1)


def shift_quarter(q: Quarter, by: int) -> Quarter:
    """Return the quarter ``by`` quarters after ``q`` (before it when negative)."""
    index = q[0] * 4 + (q[1] - 1) + by
    return index // 4, index % 4 + 1


def quarters_between(first: Quarter, last: Quarter) -> list[Quarter]:
    """Return every quarter from ``first`` to ``last``, both included."""
    out, q = [], first
    while q <= last:
        out.append(q)
        q = shift_quarter(q, 1)
    return out
