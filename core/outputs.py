"""The one path of every CSV, XLSX and DOCX file the portal writes: no formulas, no identifiers.

Every writer of a file goes through here (the maslikhat's exports, the report to its session,
the commission's minutes, the report of rows an import refused), so that what people typed
(names, program names, reasons, titles) reaches a file only as inert text:

- **CSV** has no cell types: a spreadsheet opening it runs any cell that starts with ``=``,
  ``+``, ``-``, ``@``, a tab or a carriage return (OWASP, "CSV injection"). Such a text cell is
  written with a leading apostrophe, the mark spreadsheets read as "this is text"; numbers are
  written as numbers (a negative amount stays ``-5.00``).
- **CSV for Excel** is the same file as a Kazakh- or Russian-locale Excel opens it into
  columns by a double click: those split on semicolons and read a decimal comma, so cells are
  separated by ``;`` and decimals written ``-5,00``; UTF-8 with a BOM and CRLF line ends, as
  the standard variant. The standard CSV (commas, decimal points) stays for programs.
- **XLSX** has cell types: a text cell is written as an inline string (``t="inlineStr"``),
  never as a formula (``<f>``), so no program evaluates it and it reads exactly as typed; one
  that starts like a formula also carries the "quote prefix" style, so that editing the cell
  in Excel keeps it text. (openpyxl would otherwise store a string starting with ``=`` as a
  formula.) Characters XML cannot hold are replaced by U+FFFD instead of failing the file.
- **DOCX** text is text: Word runs only fields, which this path never writes; characters XML
  cannot hold are replaced as above.

Identifiers are masked in every file for every reader: a file leaves the portal, and the only
way to read an IIN or IBAN in full is a reveal (``portal.pii``): audited, for one page view.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import BinaryIO

from core.iin import mask_iin

__all__ = [
    "CSV_DIALECTS",
    "DOCX_TYPE",
    "FORMULA_STARTS",
    "XLSX_TYPE",
    "CsvFile",
    "XlsxBook",
    "csv_bytes",
    "csv_text",
    "docx_bytes",
    "mask_iban",
    "mask_iin",
    "money",
    "xml_text",
]

# A text cell starting with one of these is run as a formula: the OWASP list, plus a line feed
# and NUL, which some programs skip before looking at the next character.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
# What an XML document (XLSX, DOCX) cannot hold: C0 controls but tab, line feed and carriage
# return; lone surrogates; U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def csv_text(value) -> str:
    """Return text as a CSV cell that no spreadsheet runs (a leading apostrophe if needed)."""
    text = value if isinstance(value, str) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def xml_text(value) -> str:
    """Return text with the characters XML cannot hold replaced by U+FFFD."""
    text = value if isinstance(value, str) else str(value)
    return _NOT_XML.sub("\ufffd", text)


def money(tiyn: int | None) -> Decimal | None:
    """Return tiyn as tenge with two decimals, a number in CSV (``-5.00``) and in XLSX."""
    return None if tiyn is None else Decimal(int(tiyn)).scaleb(-2)


def mask_iban(value: str | None) -> str:
    """Show an IBAN as ``KZ** **** **** 1234`` (empty for none)."""
    if not value:
        return ""
    return f"{value[:2]}** **** **** {value[-4:]}"


def mask_phone(value: str | None) -> str:
    """Show a phone number by its last two digits only (``•••••••••45``; empty for none)."""
    digits = "".join(ch for ch in value or "" if ch.isdigit())
    return "" if not digits else "•" * max(len(digits) - 2, 1) + digits[-2:]


def mask_email(value: str | None) -> str:
    """Show an e-mail address as its first letter and its domain (``a•••@mail.kz``)."""
    name, at, domain = (value or "").strip().partition("@")
    if not name:
        return ""
    return f"{name[0]}•••{at}{domain}"


# The two CSV variants: (cell separator, decimal mark).
CSV_DIALECTS = {"standard": (",", "."), "excel": (";", ",")}


def _csv_cell(value, decimal_mark: str = "."):
    if value is None:
        return ""
    if isinstance(value, bool):
        return csv_text(str(value))
    if isinstance(value, int):
        return value  # a number: the csv module writes its digits, sign included
    if isinstance(value, float | Decimal):
        # Digits, a sign and the decimal mark only: never text a spreadsheet would run.
        return value if decimal_mark == "." else str(value).replace(".", decimal_mark)
    if isinstance(value, dt.datetime):
        return value.isoformat(" ", "seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return csv_text(value)


class CsvFile:
    """Rows written into a binary stream as UTF-8 CSV with a BOM (so that Excel reads UTF-8).

    ``dialect``: ``standard`` (commas, decimal points) or ``excel`` (semicolons, decimal
    commas, for a Kazakh- or Russian-locale Excel); both end lines with CRLF.
    """

    def __init__(
        self, out: BinaryIO, *, quote_all: bool = False, dialect: str = "standard"
    ) -> None:
        separator, self._mark = CSV_DIALECTS[dialect]
        self._text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=False)
        self._writer = csv.writer(
            self._text,
            delimiter=separator,
            lineterminator="\r\n",
            quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
        )

    def row(self, values: Iterable) -> None:
        """Write one row; text is neutralised, numbers stay numbers."""
        mark = self._mark
        self._writer.writerow([_csv_cell(v, mark) for v in values])

    def rows(self, rows: Iterable[Iterable]) -> None:
        """Write many rows."""
        mark = self._mark
        self._writer.writerows([_csv_cell(v, mark) for v in row] for row in rows)

    def detach(self) -> BinaryIO:
        """Flush what was written and hand back the stream (a COPY may go on writing to it)."""
        self._text.flush()
        return self._text.detach()


def csv_bytes(
    rows: Iterable[Iterable], *, quote_all: bool = False, dialect: str = "standard"
) -> bytes:
    """Return rows as the bytes of a CSV file (``dialect``: see ``CsvFile``)."""
    out = io.BytesIO()
    writer = CsvFile(out, quote_all=quote_all, dialect=dialect)
    writer.rows(rows)
    writer.detach()
    return out.getvalue()


class XlsxBook:
    """A workbook written row by row (openpyxl's write-only mode): text is never a formula."""

    def __init__(self) -> None:
        from openpyxl import Workbook

        self._book = Workbook(write_only=True)
        self._sheet = None

    def sheet(self, title: str) -> None:
        """Start a new sheet; the rows that follow go into it."""
        title = _SHEET_TITLE_BAD.sub("_", xml_text(title))[:31] or "Sheet"
        self._sheet = self._book.create_sheet(title)

    def row(self, values: Iterable = ()) -> None:
        """Append one row to the current sheet."""
        self._sheet.append([self._cell(v) for v in values])

    def _cell(self, value):
        if value is None or (
            isinstance(value, int | float | Decimal | dt.date)
            and not isinstance(value, bool)
            # Excel has no time zones: an aware time is written as its text
            and not (isinstance(value, dt.datetime) and value.tzinfo is not None)
        ):
            return value
        value = xml_text(value)
        if not value.startswith(FORMULA_STARTS):
            return value  # openpyxl writes any other string as an inline string
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(self._sheet, value=value)
        cell.data_type = "s"  # not "f": openpyxl took the leading "=" for a formula
        cell.quotePrefix = True
        return cell

    def save(self, out: BinaryIO) -> None:
        """Write the workbook into ``out``."""
        if self._sheet is None:
            self.sheet("Sheet")
        self._book.save(out)

    def to_bytes(self) -> bytes:
        """Return the workbook's bytes."""
        out = io.BytesIO()
        self.save(out)
        return out.getvalue()


def docx_bytes(paragraphs: Sequence[str]) -> bytes:
    """Return a Word document of plain paragraphs, shown as typed (tabs and breaks kept)."""
    from docx import Document

    document = Document()
    for text in paragraphs:
        document.add_paragraph(xml_text(text))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
