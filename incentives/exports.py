"""Exports for the maslikhat: payouts, decisions, ledger entries and the register, streamed.

Rows come from the database in chunks (a server-side cursor on PostgreSQL) and go straight
to a CSV or write-only XLSX file, so a million rows never sit in memory at once. The files are
written by ``core.outputs``, the one output path: text cells never run as formulas; IINs and
IBANs are always masked. Each file
begins with when it was generated, its filters and the audit chain's head at that moment.
What each dataset holds is in ``incentives.export_datasets`` (re-exported here).
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable
from typing import BinaryIO

from sqlalchemy import Select, String, case, func, literal, select
from sqlalchemy.orm import Session

from core import clock, outputs
from core.errors import N_, DomainError
from incentives.export_datasets import (
    DATASETS,
    DATE,
    IBAN,
    IIN,
    INT,
    MONEY,
    TEXT,
    TIME,
    Dataset,
    Filters,
    dataset,
)
from incentives.models import FORMS, OUTCOMES, PAYOUT_STATUSES, SESSION_STATUSES
from volunteers.models import KINDS as MEMBER_KINDS
from volunteers.models import MEMBER_STATUSES

__all__ = [
    "CHUNK",
    "CODE_VALUES",
    "COPY_ON_POSTGRESQL",
    "CSV_FORMATS",
    "DATASETS",
    "FORMATS",
    "XLSX_SHEET_ROWS",
    "ZIP_ABOVE_BYTES",
    "Dataset",
    "Filters",
    "Translate",
    "count_rows",
    "dataset",
    "file_name",
    "pack",
    "preamble",
    "write_rows",
]

# In the order the export page offers them: XLSX first (typed cells, opens everywhere), then
# the CSV a Kazakh- or Russian-locale Excel opens into columns, then the standard CSV.
FORMATS = ("xlsx", "csv_excel", "csv")
CSV_FORMATS = {"csv": "standard", "csv_excel": "excel"}
CHUNK = 5000
# On PostgreSQL a CSV is written by COPY with every cell formatted in SQL (several times faster
# than a Python step per cell); the Python writer stays for SQLite and XLSX, and for datasets
# with an IIN or IBAN: those are sealed at rest (core.sealing), so only Python can open and
# mask them.
COPY_ON_POSTGRESQL = True
_SEALED = (IIN, IBAN)
XLSX_SHEET_ROWS = 1_000_000  # a sheet holds 1,048,576 rows: start a new one before that
# A CSV larger than this is stored zipped (the database keeps files whole).
ZIP_ABOVE_BYTES = 8 * 1024 * 1024
Translate = Callable[..., str]


def _money_xlsx(v):
    return None if v is None else int(v) / 100


def _cell_formatters(columns, fmt: str, labels: Callable[[str, str], str]):
    """One function per column giving the cell's value; the writer neutralises the text."""
    zone = clock.zone()

    def text(v):
        return "" if v is None else str(v)

    def code(group):
        seen: dict = {}  # a handful of codes: translate each once

        def cell(v):
            if v is None:
                return ""
            if v not in seen:
                seen[v] = labels(group, v)
            return seen[v]

        return cell

    def plain(v):
        return "" if v is None else v

    def day(v):
        return "" if v is None else (v.isoformat() if fmt in CSV_FORMATS else v)

    def moment(v):
        return "" if v is None else v.astimezone(zone).isoformat(" ", "seconds")[:19]

    def iin(v):
        return "" if v is None else outputs.mask_iin(v)

    def iban(v):
        return "" if v is None else outputs.mask_iban(v)

    by_kind = {
        TEXT: text,
        INT: plain,
        MONEY: outputs.money if fmt in CSV_FORMATS else _money_xlsx,
        DATE: day,
        TIME: moment,
        IIN: iin,
        IBAN: iban,
    }
    return [
        code(kind[5:]) if kind.startswith("code:") else by_kind[kind] for _msgid, kind in columns
    ]


def preamble(
    *,
    title: str,
    filters_text: str,
    generated_at: dt.datetime,
    head: tuple[int | None, str | None],
    translate: Translate,
) -> list[list[str]]:
    """Return the lines every export begins with: what, when, which filters, chain head."""
    seq, digest = head
    return [
        [title],
        [
            translate(N_("Generated at")),
            generated_at.astimezone(clock.zone()).strftime("%Y-%m-%d %H:%M:%S %Z"),
        ],
        [translate(N_("Filters")), filters_text],
        [
            translate(N_("Audit chain head")),
            f"#{seq} {digest}" if seq else translate(N_("empty chain")),
        ],
        [],
    ]


def count_rows(session: Session, data: Dataset) -> int:
    """Return how many rows the export will hold."""
    return session.scalar(select(func.count()).select_from(data.query.order_by(None).subquery()))


def _chunks(session: Session, query: Select):
    # Core, not ORM, execution: plain tuples, a server-side cursor on PostgreSQL.
    connection = session.connection()
    result = connection.execution_options(stream_results=True, max_row_buffer=CHUNK).execute(query)
    yield from result.partitions(CHUNK)


# Every code a labelled column may hold, so that PostgreSQL can write its label itself.
CODE_VALUES = {
    "payout_status": PAYOUT_STATUSES,
    "form": FORMS,
    "session_status": SESSION_STATUSES,
    "outcome": OUTCOMES,
    "purpose": ("citizen_rewards", "sober_settlement_incentives"),
    "entry_kind": ("commit", "release", "disburse"),
    "member_kind": MEMBER_KINDS,
    "member_status": MEMBER_STATUSES,
}


def _as_csv_text(query: Select, columns, labels: Callable[[str, str], str]) -> Select:
    """The same rows with every cell written by PostgreSQL as the export's text.

    Times in the local zone, money in tenge, codes as their labels and text protected against
    formulas, exactly as the Python formatters do; COPY then streams the file without a Python
    step per cell. (Sealed columns, IINs and IBANs, never come here.)
    """
    zone = str(clock.zone())
    risky = [c for c in outputs.FORMULA_STARTS if c != "\0"]  # PostgreSQL text holds no NUL

    def text(c):
        c = func.cast(c, String)
        return case((func.left(c, 1).in_(risky), literal("'") + c), else_=c)

    def code(group):
        def label(c):
            whens = [
                (c == v, literal(outputs.csv_text(labels(group, v)))) for v in CODE_VALUES[group]
            ]
            return case(*whens, else_=func.cast(c, String))

        return label

    by_kind = {
        TEXT: text,
        INT: lambda c: func.cast(c, String),
        MONEY: lambda c: func.to_char(c / 100.0, "FM999999999999990.00"),
        DATE: lambda c: func.to_char(c, "YYYY-MM-DD"),
        TIME: lambda c: func.to_char(func.timezone(zone, c), "YYYY-MM-DD HH24:MI:SS"),
    }
    # COPY quotes an empty string ("") and leaves only NULL bare, as the csv module writes both.
    # Only text and labels can be empty strings; times, dates and money are NULL or non-empty.
    cells = [
        func.nullif(code(kind[5:])(column), "")
        if kind.startswith("code:")
        else func.nullif(text(column), "")
        if kind == TEXT
        else by_kind[kind](column)
        for column, (_msgid, kind) in zip(query.selected_columns, columns, strict=True)
    ]
    return query.with_only_columns(*cells, maintain_column_froms=True)


def _copy_csv(session: Session, query: Select, out: BinaryIO) -> int:
    """Stream ``query`` as CSV rows into ``out`` with PostgreSQL's COPY; return the row count."""
    compiled = query.compile(
        dialect=session.get_bind().dialect, compile_kwargs={"render_postcompile": True}
    )
    raw = session.connection().connection.dbapi_connection
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY ({compiled}) TO STDOUT WITH (FORMAT csv)", compiled.params) as copy:
            for block in copy:
                out.write(block)
        return cursor.rowcount


def write_rows(
    session: Session,
    data: Dataset,
    *,
    fmt: str,
    out: BinaryIO,
    head_lines: list[list[str]],
    translate: Translate,
    labels: Callable[[str, str], str] = lambda _group, value: value,
    total: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Stream the dataset's rows into ``out`` (CSV or XLSX); return the number of rows."""
    if fmt not in FORMATS:
        raise DomainError(N_("Choose CSV or XLSX."))
    header = [translate(msgid) for msgid, _kind in data.columns]
    cells = _cell_formatters(data.columns, fmt, labels)
    pairs = list(zip(cells, range(len(cells)), strict=True))
    done = 0

    def report():
        if progress and total:
            progress(min(99, 5 + int(done * 90 / total)))

    if fmt in CSV_FORMATS:
        writer = outputs.CsvFile(out, dialect=CSV_FORMATS[fmt])
        writer.rows(head_lines)
        writer.row(header)
        if (
            fmt == "csv"  # COPY writes commas, decimal points and LF line ends
            and COPY_ON_POSTGRESQL
            and session.get_bind().dialect.name == "postgresql"
            and not any(kind in _SEALED for _msgid, kind in data.columns)
        ):
            writer.detach()
            done = _copy_csv(session, _as_csv_text(data.query, data.columns, labels), out)
            if progress:
                progress(95)
            return done
        for chunk in _chunks(session, data.query):
            writer.rows([f(row[i]) for f, i in pairs] for row in chunk)
            done += len(chunk)
            report()
        writer.detach()
        return done

    book = outputs.XlsxBook()
    in_sheet, sheets = XLSX_SHEET_ROWS, 0

    def start_sheet(title: str) -> None:
        book.sheet(title)
        for line in head_lines:
            book.row(line)
        book.row(header)

    for chunk in _chunks(session, data.query):
        for row in chunk:
            if in_sheet >= XLSX_SHEET_ROWS:
                sheets += 1
                start_sheet(f"{data.name}-{sheets}")
                in_sheet = 0
            book.row([f(row[i]) for f, i in pairs])
            in_sheet += 1
        done += len(chunk)
        report()
    if not sheets:
        start_sheet(data.name)
    book.save(out)
    return done


def file_name(dataset_name: str, stamp: str, fmt: str) -> str:
    """Return the name a file is downloaded under: ``payouts-20261206-1400-excel.csv``."""
    if fmt == "csv_excel":
        return f"{dataset_name}-{stamp}-excel.csv"
    return f"{dataset_name}-{stamp}.{fmt}"


def pack(path: str, filename: str, fmt: str) -> tuple[bytes, str, str]:
    """Return the file's bytes, name and type; a large CSV is zipped to keep the blob small."""
    import os

    if fmt == "xlsx":
        with open(path, "rb") as f:
            return (
                f.read(),
                filename,
                outputs.XLSX_TYPE,
            )
    if os.path.getsize(path) <= ZIP_ABOVE_BYTES:
        with open(path, "rb") as f:
            return f.read(), filename, "text/csv"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.write(path, arcname=filename)
    return buffer.getvalue(), filename + ".zip", "application/zip"
