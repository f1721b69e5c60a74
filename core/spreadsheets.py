"""The one reader of uploaded CSV and XLSX tables, and the formula guard for their cells."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Sequence

import pandas as pd

from core.errors import N_, DomainError

# One limit for every import, the stricter of those the two readers had (20,000 and 50,000):
# a district's register or a region's quarterly indicators fit in it many times over.
MAX_ROWS = 20_000
# The same as the portal's upload limit; a job reading a stored file is held to it too.
MAX_BYTES = 5 * 1024 * 1024
# Cells a spreadsheet program would run as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("csv", "xlsx")


class BadImportFile(DomainError):
    """The file as a whole cannot be imported (type, size, columns)."""

    status = 422


def read_rows(
    content: bytes,
    filename: str,
    *,
    columns: Sequence[str],
    required: Sequence[str] | None = None,
    formats: Sequence[str] = FORMATS,
) -> list[dict[str, str]]:
    """Read a CSV (UTF-8, with or without a BOM) or XLSX table's rows as trimmed text.

    Every value stays text, so IINs and KATO codes keep their leading zeros. Headers are
    matched case-blind; ``required`` (all ``columns`` by default) must be there, the other
    ``columns`` are filled with "" when absent and unknown columns are dropped. An XLSX's
    formula cells give their cached values: nothing is calculated. Raises ``BadImportFile``.
    """
    kind = filename.lower().rpartition(".")[2] if "." in (filename or "") else ""
    if kind not in formats:
        if tuple(formats) == ("csv",):
            raise BadImportFile(N_("Upload a CSV file."))
        raise BadImportFile(N_("Upload a CSV or XLSX file."))
    if len(content) > MAX_BYTES:
        raise BadImportFile(N_("The file or form is too large. The limit is 5 MB."))
    if kind == "xlsx" and not content.startswith(b"PK"):
        raise BadImportFile(N_("The file is not an XLSX workbook."))
    options = {"dtype": str, "keep_default_na": False, "nrows": MAX_ROWS + 1}
    try:
        if kind == "csv":
            frame = pd.read_csv(io.BytesIO(content), encoding="utf-8-sig", **options)
        else:
            frame = pd.read_excel(io.BytesIO(content), engine="openpyxl", **options)
    # BadZipFile: an .xlsx that is no workbook was a 500 (found by fuzzing, S13).
    except (ValueError, UnicodeDecodeError, KeyError, OSError, zipfile.BadZipFile) as exc:
        raise BadImportFile(
            N_("The file cannot be read: %(error)s"), error=str(exc)[:200]
        ) from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in (columns if required is None else required) if c not in frame.columns]
    if missing:
        raise BadImportFile(
            N_("The file lacks the columns: %(columns)s."), columns=", ".join(missing)
        )
    if len(frame) > MAX_ROWS:
        raise BadImportFile(N_("The file has more than %(n)s rows."), n=MAX_ROWS)
    frame = frame.reindex(columns=list(columns), fill_value="")
    return [{k: str(v).strip() for k, v in row.items()} for row in frame.to_dict("records")]


def refuse_formulas(row: dict[str, str], allowed: Callable[[str, str], bool]) -> None:
    """Refuse a row with a cell that starts like a formula, unless ``allowed(column, value)``."""
    for key, value in row.items():
        if value.startswith(FORMULA_STARTS) and not allowed(key, value):
            raise DomainError(
                N_("The column %(column)s starts with a formula character."), column=key
            )
