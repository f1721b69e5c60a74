"""The report to the maslikhat's session as a workbook: its sections, headings and values.

The workbook is written by ``core.outputs`` (the one output path): a program or place named
like a formula is text in the file, as typed.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core import outputs
from portal.labels import (
    INQUIRY_OBJECT_LABELS,
    INQUIRY_STATUS_LABELS,
    PURPOSE_LABELS,
    REWARD_FORM_LABELS,
)

LANGUAGES = ("kk", "ru")

# Each section: key, title and columns (field, heading, how to show the value).
SECTIONS = [
    (
        "lines",
        _l("Spending by budget line"),
        [
            ("unit", _l("Jurisdiction"), "named"),
            ("code", _l("Program code"), "text"),
            ("program", _l("Program"), "named"),
            ("purpose", _l("Purpose"), "purpose"),
            ("approved_tiyn", _l("Approved, ₸"), "money"),
            ("committed_tiyn", _l("Committed, ₸"), "money"),
            ("disbursed_tiyn", _l("Disbursed, ₸"), "money"),
            ("available_tiyn", _l("Available, ₸"), "money"),
            ("spent_in_period_tiyn", _l("Disbursed in the period, ₸"), "money"),
        ],
    ),
    (
        "districts",
        _l("Rewards by district"),
        [
            ("district", _l("District"), "named"),
            ("rewards", _l("Rewards"), "int"),
            ("people", _l("People rewarded"), "int"),
            ("amount_tiyn", _l("Amount, ₸"), "money"),
        ],
    ),
    (
        "forms",
        _l("Rewards by form"),
        [
            ("form", _l("Form of reward"), "form"),
            ("rewards", _l("Rewards"), "int"),
            ("amount_tiyn", _l("Amount, ₸"), "money"),
        ],
    ),
    (
        "people",
        _l("People rewarded"),
        [
            ("people", _l("People rewarded"), "int"),
            ("rewards", _l("Rewards"), "int"),
            ("amount_tiyn", _l("Amount, ₸"), "money"),
            ("average_tiyn", _l("Average per person, ₸"), "money"),
        ],
    ),
    (
        "sober",
        _l("Sober settlements"),
        [
            ("settlement", _l("Settlement"), "named"),
            ("gathered_on", _l("Gathering"), "date"),
            ("confirmed_on", _l("Confirmed"), "date"),
            ("attendance", _l("Attendance"), "int"),
            ("outlets", _l("Outlets that stopped selling alcohol"), "int"),
        ],
    ),
    (
        "inquiries",
        _l("Open inquiries"),
        [
            ("id", _l("Inquiry No."), "int"),
            ("object_type", _l("Record"), "object"),
            ("object_id", _l("Record No."), "int"),
            ("asked_on", _l("Asked"), "date"),
            ("deadline", _l("Deadline"), "date"),
            ("status", _l("Status"), "status"),
            ("overdue", _l("Overdue"), "yesno"),
        ],
    ),
    (
        "flags",
        _l("Open red flags"),
        [("flag", _l("Red flag"), "text"), ("count", _l("Count"), "int")],
    ),
]


def cell_value(row: dict, field: str, how: str, lang: str):
    """Return a row's ``field`` as its cell shows it (names in ``lang``, labels as spoken)."""
    if how == "named":
        return row.get(f"{field}_{lang}", "")
    raw = row.get(field)
    if how == "money":
        return (raw or 0) / 100
    if how == "date":  # stored as ISO text; a date cell in the workbook, the reader's on paper
        return dt.date.fromisoformat(raw) if raw else None
    if how == "purpose":
        return str(PURPOSE_LABELS.get(raw, raw))
    if how == "form":
        return str(REWARD_FORM_LABELS.get(raw, raw))
    if how == "object":
        return str(INQUIRY_OBJECT_LABELS.get(raw, raw))
    if how == "status":
        return str(INQUIRY_STATUS_LABELS.get(raw, raw))
    if how == "yesno":
        return _("yes") if raw else _("no")
    return raw


def section_rows(report: dict, key: str) -> list[dict]:
    """Return a section's rows (the one-row summary of people as a list too)."""
    rows = report.get(key)
    if rows is None:
        return []
    return [rows] if isinstance(rows, dict) else rows


def period_label(report: dict) -> str:
    """Name the report's period in the current language."""
    if report["quarter"]:
        return _("Quarter %(quarter)s of %(year)s", quarter=report["quarter"], year=report["year"])
    return _("Year %(year)s", year=report["year"])


def render_xlsx(report: dict) -> bytes:
    """Write the report as a workbook: one sheet per section, headings in Kazakh and Russian."""
    book = outputs.XlsxBook()
    for key, title, columns in SECTIONS:
        book.sheet(key)
        for lang in LANGUAGES:
            with force_locale(lang):
                unit = report[f"unit_{lang}"]
                book.row([f"{title} — {unit}, {period_label(report)}"])
        for lang in LANGUAGES:
            with force_locale(lang):
                book.row([str(heading) for _f, heading, _h in columns])
        rows = section_rows(report, key)
        if key == "flags" and report.get("flags") is None:
            with force_locale("kk"):
                kk = _("The red-flags check has not run yet.")
            with force_locale("ru"):
                ru = _("The red-flags check has not run yet.")
            book.row([kk, ru])
        with force_locale("kk"):
            for row in rows:
                book.row([cell_value(row, f, how, "kk") for f, _h, how in columns])
        book.row()
        book.row(["generated_at", report["generated_at"]])
        book.row(["audit_head", report["audit_head"]])
    return book.to_bytes()
