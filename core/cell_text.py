"""Text as people type it in registers: column names compared loosely, dates in local forms."""

from __future__ import annotations

import datetime as dt
import re

# Dates as people and spreadsheet programs write them: 16.11.2026, 6.1.2026 (a time after it,
# as a CSV from Excel has, is ignored); 2026-11-16 (what the reader makes of a date cell).
_DOTTED_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2})?)?")


def header_key(text: str) -> str:
    """Return a column's name or a listed value as compared: case, spaces, punctuation aside.

    "Full_Name", "full name" and "FULL NAME" are one name; "Ф.И.О." is "ФИО"; ё is е.
    """
    return "".join(ch for ch in text.casefold().replace("ё", "е") if ch.isalnum())


def read_date(text: str) -> dt.date:
    """Read a date written DD.MM.YYYY, D.M.YYYY or YYYY-MM-DD (a date cell reads as the last).

    Raises ``ValueError`` for anything else, or a day that does not exist.
    """
    text = text.strip()
    if found := _DOTTED_DATE.fullmatch(text):
        day, month, year = (int(part) for part in found.groups())
        return dt.date(year, month, day)
    if found := _ISO_DATE.fullmatch(text):
        year, month, day = (int(part) for part in found.groups())
        return dt.date(year, month, day)
    raise ValueError(text)
