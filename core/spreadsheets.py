"""The one reader of uploaded CSV and XLSX tables: cheap checks, a bounded streaming read.

Longer than 500 lines on purpose: before openpyxl reads a workbook, its XML parts are walked
with expat to bound what openpyxl would hold or pad (rows, cells, texts, whole parts), and every
check of an upload (size, compression, formulas, encodings) belongs beside the one reader it
guards; split, the checks and the read they protect would drift apart.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from xml.parsers import expat

from core.cell_text import header_key
from core.errors import N_, DomainError

# One limit for every import, the stricter of those the two readers had (20,000 and 50,000):
# a district's register or a region's quarterly indicators fit in it many times over.
MAX_ROWS = 20_000
# Rows a sheet may number, blank ones and a title above the header included.
MAX_SHEET_ROWS = MAX_ROWS + 1_000
# The register has 8 columns, the indicators 5: room for a file's own notes besides them.
MAX_COLUMNS = 50
# Cells read in all (rows times their width): 20,000 rows of 20 columns.
MAX_CELLS = 400_000
MAX_CELL_CHARS = 2_000
# The same as the portal's upload limit; a job reading a stored file is held to it too.
MAX_BYTES = 5 * 1024 * 1024
# An XLSX is a zip: what its central directory declares is checked before anything is unpacked
# (zipfile stops a part at its declared size). A register of 20,000 rows unpacks to ~15 MB,
# its sheet packed 5-15 to 1; the 400 KB file of issue 17 declared gigabytes.
MAX_UNPACKED = 64 * 1024 * 1024
MAX_PARTS = 300
MAX_RATIO = 100
RATIO_FLOOR = 1024 * 1024  # small parts (styles, relations) may pack densely
# openpyxl reads the parts other than the sheets' rows and the shared strings whole, as trees.
MAX_TREE_BYTES = 4 * 1024 * 1024
MAX_TREE_ELEMENTS = 50_000
# The shared strings are kept as a list: a register's are 2-10 MB.
MAX_STRINGS_BYTES = 16 * 1024 * 1024
MAX_ELEMENTS = 3_000_000  # every XML element of a workbook together
MAX_DEPTH = 64
MAX_ROW_ELEMENTS = MAX_COLUMNS * 8  # a row's cells with their values and rich-text runs
# Cells a spreadsheet program would run as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("csv", "xlsx")
SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
# What a file too odd to read raised, reported as a refusal instead of a 500.
UNREADABLE = (
    ValueError,
    KeyError,
    TypeError,
    IndexError,
    AttributeError,
    SyntaxError,
    OSError,
    EOFError,
    zipfile.BadZipFile,
    zlib.error,
    csv.Error,
    expat.ExpatError,
)
_REFERENCE = re.compile(r"\$?([A-Za-z]+)\$?(\d+)")
# What Excel shows in a cell whose formula failed; a CSV saved by Excel carries them as text.
ERROR_VALUES = frozenset(
    ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA")
)

NOT_XLSX = N_("The file is not an XLSX workbook.")
NOT_UTF8 = N_(
    'The file cannot be read as UTF-8 text: in Excel save it as "CSV UTF-8", or upload the '
    "XLSX file."
)
FORMULA_WITHOUT_VALUE = N_(
    "The column %(column)s holds a formula saved without its value: open the file in Excel, "
    "let it calculate, save it and upload it again, or type the value."
)
ERROR_CELL = N_("The column %(column)s holds the spreadsheet error %(error)s.")
TOO_COMPLEX = N_("The workbook is too complex to be read safely (too many parts or elements).")


class BadImportFile(DomainError):
    """The file as a whole cannot be imported (type, size, columns)."""

    status = 422


@dataclasses.dataclass(frozen=True)
class RefusedRow:
    """A row the reader could not take as typed: a formula with no value, an error cell."""

    number: int
    values: dict[str, str]
    column: str
    message: str
    params: dict


@dataclasses.dataclass(frozen=True)
class Table:
    """A file's rows as trimmed text, and each row's number as a spreadsheet program shows it.

    ``headers`` are the column names as the file writes them; ``refused`` the rows whose
    cells cannot be read as typed, each with the first such cell's column and the reason.
    """

    rows: list[dict[str, str]]
    numbers: list[int]
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    refused: list[RefusedRow] = dataclasses.field(default_factory=list)

    @property
    def count(self) -> int:
        """The data rows of the file: blank rows and the header are not counted."""
        return len(self.rows) + len(self.refused)


class _Uncomputed:
    """A formula cell saved without its value (a file written by a program that cannot
    compute, never by Excel itself): read as nothing, it would be misreported as blank."""

    def __repr__(self) -> str:
        return "UNCOMPUTED"


UNCOMPUTED = _Uncomputed()


def check_upload(
    content: bytes,
    filename: str,
    *,
    columns: Sequence[str],
    required: Sequence[str] | None = None,
    formats: Sequence[str] = FORMATS,
    aliases: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """Refuse a file by the checks that cost nothing whatever it holds; return its kind.

    Size, extension and magic bytes; for a CSV its header row; for an XLSX its zip's
    central directory (declared sizes, parts, packing ratio), nothing unpacked. What
    remains is the job's (``read_table``). Raises ``BadImportFile``.
    """
    kind = filename.lower().rpartition(".")[2] if "." in (filename or "") else ""
    if kind not in formats:
        if tuple(formats) == ("csv",):
            raise BadImportFile(N_("Upload a CSV file."))
        raise BadImportFile(N_("Upload a CSV or XLSX file."))
    if not content:
        raise BadImportFile(N_("The file is empty."))
    if len(content) > MAX_BYTES:
        raise BadImportFile(N_("The file or form is too large. The limit is 5 MB."))
    if kind == "xlsx":
        _open_archive(content).close()
        return kind
    try:
        # The header row only: the rows are the job's.
        _header_map(_csv_rows(content), columns, required, aliases)
    except UNREADABLE as exc:
        raise _unreadable(exc) from None
    return kind


def read_table(
    content: bytes,
    filename: str,
    *,
    columns: Sequence[str],
    required: Sequence[str] | None = None,
    formats: Sequence[str] = FORMATS,
    pad: Mapping[str, int] | None = None,
    aliases: Mapping[str, Sequence[str]] | None = None,
) -> Table:
    """Read a CSV (UTF-8, with or without a BOM, comma or semicolon) or XLSX table as text.

    Streaming, and stopped at the first limit passed (rows, columns, cells, a cell's length;
    for an XLSX also its parts' sizes and elements, checked before openpyxl reads them).
    Every value stays text, so IINs and KATO codes keep their leading zeros; ``pad`` names
    columns whose numeric XLSX cells are zero-padded to a width (an IIN Excel stored as a
    number). A header names a column by its code or by one of its ``aliases`` (its names in
    Kazakh, Russian and English first: a missing column is named by them), whatever the case,
    spaces and punctuation; ``required`` (all ``columns`` by
    default) must be there, the other ``columns`` are "" when absent, unknown columns are
    dropped, blank rows skipped. Formula cells give their cached values; a row with a formula
    saved without one, or with an error value (``#N/A``), goes to ``refused``. Raises
    ``BadImportFile``.
    """
    kind = check_upload(content, filename, columns=(), required=(), formats=formats)
    pad = pad or {}
    rows = _xlsx_rows(content) if kind == "xlsx" else _csv_rows(content)
    try:
        positions, headers = _header_map(rows, columns, required, aliases, with_names=True)
        out, numbers, refused, data_rows, cells = [], [], [], 0, 0
        for number, values in rows:
            if number > MAX_SHEET_ROWS:
                raise BadImportFile(N_("The file has more than %(n)s rows."), n=MAX_ROWS)
            cells += _check_width(values)
            if cells > MAX_CELLS:
                raise BadImportFile(N_("The file has more than %(n)s cells."), n=MAX_CELLS)
            if not any_text(values):
                continue
            if data_rows == MAX_ROWS:
                raise BadImportFile(N_("The file has more than %(n)s rows."), n=MAX_ROWS)
            data_rows += 1
            row, unreadable = {}, None
            for column, i in positions.items():
                value = values[i] if i < len(values) else None
                if value is UNCOMPUTED:
                    value, unreadable = None, unreadable or (column, FORMULA_WITHOUT_VALUE, "")
                text = _text(value, pad.get(column))
                if text in ERROR_VALUES:
                    unreadable = unreadable or (column, ERROR_CELL, text)
                row[column] = text
            if unreadable:
                column, message, error = unreadable
                params = {"column": headers[column]} | ({"error": error} if error else {})
                refused.append(RefusedRow(number, row, column, message, params))
                continue
            out.append(row)
            numbers.append(number)
    except UNREADABLE as exc:
        raise _unreadable(exc) from None
    finally:
        rows.close()
    return Table(out, numbers, headers, refused)


def read_rows(
    content: bytes,
    filename: str,
    *,
    columns: Sequence[str],
    required: Sequence[str] | None = None,
    formats: Sequence[str] = FORMATS,
) -> list[dict[str, str]]:
    """Read a table's rows as trimmed text: ``read_table`` without the row numbers."""
    return read_table(content, filename, columns=columns, required=required, formats=formats).rows


def refuse_formulas(row: dict[str, str], allowed: Callable[[str, str], bool]) -> None:
    """Refuse a row with a cell that starts like a formula, unless ``allowed(column, value)``."""
    for key, value in row.items():
        if value.startswith(FORMULA_STARTS) and not allowed(key, value):
            raise DomainError(
                N_("The column %(column)s starts with a formula character."), column=key
            )


def any_text(values: Sequence) -> bool:
    """Tell whether a row holds anything but blanks."""
    return any(v is not None and str(v).strip() for v in values)


def _unreadable(exc: BaseException) -> BadImportFile:
    if isinstance(exc, BadImportFile):
        return exc
    if isinstance(exc, UnicodeDecodeError):
        # A CSV saved by Excel "for Windows" is in a code page, not UTF-8.
        return BadImportFile(NOT_UTF8)
    return BadImportFile(N_("The file cannot be read: %(error)s"), error=str(exc)[:200])


def _header_map(
    rows: Iterator[tuple[int, Sequence]],
    columns: Sequence[str],
    required: Sequence[str] | None,
    aliases: Mapping[str, Sequence[str]] | None = None,
    *,
    with_names: bool = False,
):
    """Take rows up to the first that is not blank, the header; return each column's position.

    A column the file lacks gets a position past any row's end: its value is "". With
    ``with_names``, also each column's name as the file writes it.
    """
    aliases = aliases or {}
    for number, values in rows:
        if number > MAX_SHEET_ROWS:
            break
        _check_width(values)
        if not any_text(values):
            continue
        names = [_text(v) for v in values]
        found: dict[str, int] = {}
        for i, name in enumerate(names):
            found.setdefault(header_key(name), i)
        positions = {}
        for column in columns:
            for name in (column, *aliases.get(column, ())):
                if header_key(name) in found:
                    positions[column] = found[header_key(name)]
                    break
        wanted = columns if required is None else required
        missing = [c for c in wanted if c not in positions]
        if missing:
            raise BadImportFile(
                N_("The file lacks the columns: %(columns)s."),
                columns=", ".join(
                    " / ".join(dict.fromkeys((*aliases.get(c, ())[:3], c))) for c in missing
                ),
            )
        positions = {c: positions.get(c, MAX_COLUMNS) for c in columns}
        if not with_names:
            return positions
        return positions, {
            c: names[i] if i < len(names) else (aliases.get(c) or (c,))[0]
            for c, i in positions.items()
        }
    raise BadImportFile(N_("The file is empty."))


def _check_width(values: Sequence) -> int:
    if len(values) > MAX_COLUMNS:
        raise BadImportFile(N_("The file has more than %(n)s columns."), n=MAX_COLUMNS)
    for value in values:
        if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
            raise BadImportFile(N_("A cell holds more than %(n)s characters."), n=MAX_CELL_CHARS)
    return len(values)


def _text(value, width: int | None = None) -> str:
    """A cell's value as the text a person typed (an integer-valued number without ".0")."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    if isinstance(value, int):
        if width and 0 <= value < 10**width:
            return str(value).zfill(width)
        return str(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def _csv_rows(content: bytes) -> Iterator[tuple[int, list[str]]]:
    text = io.TextIOWrapper(io.BytesIO(content), encoding="utf-8-sig", newline="")
    # An Excel in a Russian or Kazakh locale separates a CSV's cells with semicolons: the
    # header line says which, by what it has more of.
    first = content[:4096].split(b"\n", 1)[0]
    delimiter = ";" if first.count(b";") > first.count(b",") else ","
    # A record's number, as a spreadsheet program would show the row (a quoted line break
    # inside a cell does not start a new one).
    yield from enumerate(csv.reader(text, delimiter=delimiter), start=1)


def _xlsx_rows(content: bytes) -> Iterator[tuple[int, tuple]]:
    """Yield the first sheet's rows, after every XML part has passed ``_PartScan``."""
    archive = _open_archive(content)
    uncomputed: dict[str, set[tuple[int, int]]] = {}
    try:
        budget = _Budget(MAX_ELEMENTS)
        for info in archive.infolist():
            if info.filename.lower().endswith((".xml", ".rels", ".vml")):
                with archive.open(info) as stream:
                    scan = _PartScan(budget)
                    scan.scan(stream)
                    if scan.uncomputed:
                        uncomputed[info.filename.lstrip("/")] = scan.uncomputed
    finally:
        archive.close()
    # openpyxl (with the numpy it loads) is imported with the first workbook: at start-up it
    # cost every process of the portal 0.16 s, and most never read one (issue 16).
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        # openpyxl reads a formula's cached value and gives None when there is none: the
        # cells the scan found so are marked. (The sheet's part name is openpyxl's own.)
        missing = uncomputed.get(str(getattr(sheet, "_worksheet_path", "")).lstrip("/"), set())
        # The rows read are bounded above; a declared size that is too small would drop rows.
        sheet.reset_dimensions()
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if missing and any((number, column) in missing for column in range(1, 1 + len(values))):
                values = tuple(
                    UNCOMPUTED if (number, column) in missing else value
                    for column, value in enumerate(values, start=1)
                )
            yield number, values
    finally:
        book.close()


def _open_archive(content: bytes) -> zipfile.ZipFile:
    """Open an XLSX's zip and check its central directory (nothing is unpacked)."""
    if not content.startswith(b"PK"):
        raise BadImportFile(NOT_XLSX)
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except UNREADABLE:
        raise BadImportFile(NOT_XLSX) from None
    infos = archive.infolist()
    if len(infos) > MAX_PARTS:
        raise BadImportFile(TOO_COMPLEX)
    if sum(info.file_size for info in infos) > MAX_UNPACKED:
        raise BadImportFile(
            N_("The workbook unpacks to more than %(mb)s MB."), mb=MAX_UNPACKED // 1024**2
        )
    for info in infos:
        # Encrypted parts and other compressions do not occur in a spreadsheet program's XLSX.
        if info.flag_bits & 0x1 or info.compress_type not in (
            zipfile.ZIP_STORED,
            zipfile.ZIP_DEFLATED,
        ):
            raise BadImportFile(NOT_XLSX)
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise BadImportFile(
                N_("The workbook is packed more densely than a spreadsheet (over %(n)s to 1)."),
                n=MAX_RATIO,
            )
    return archive


@dataclasses.dataclass
class _Budget:
    elements: int


def _column_of(reference: str) -> int | None:
    found = _REFERENCE.fullmatch(reference or "")
    if not found:
        return None
    number = 0
    for letter in found.group(1).upper():
        number = number * 26 + ord(letter) - 64
    return number


class _PartScan:
    """Walk one XML part of a workbook with expat (no tree kept) and refuse what would be huge.

    openpyxl keeps a sheet row's elements until the row ends, pads every row to its last
    cell's column, fills the rows a row number skips, and reads the parts other than rows
    and shared strings whole: so rows, columns, cells, a cell's text, the elements outside
    ``sheetData`` and ``sst`` and those parts' sizes are bounded here, before it reads any.
    """

    def __init__(self, budget: _Budget):
        self.budget = budget
        self.parser = expat.ParserCreate(namespace_separator=" ")
        self.parser.buffer_text = True
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.CharacterDataHandler = self._characters
        # A spreadsheet part never has a DTD: none, so no entity can expand.
        self.parser.StartDoctypeDeclHandler = self._refuse
        self.parser.EntityDeclHandler = self._refuse
        self.depth = 0
        self.root = ""
        self.stream = 0  # depth of the sheetData or sst being read, 0 outside
        self.tree = 0
        self.row = self.column = self.width = self.row_elements = 0
        self.cell = self.value = 0  # depths of the cell and of its value being read, or 0
        self.chars = self.cells = 0
        # The cell being read: has a formula, has a value (text, or a typed empty string).
        self.formula = self.valued = False
        # (row, column) of formula cells saved without a value: at most MAX_CELLS of them.
        self.uncomputed: set[tuple[int, int]] = set()

    def scan(self, stream) -> None:
        size = 0
        while chunk := stream.read(64 * 1024):
            size += len(chunk)
            self.parser.Parse(chunk, False)
            limit = {"worksheet": MAX_UNPACKED, "sst": MAX_STRINGS_BYTES}.get(self.root)
            if size > (limit or MAX_TREE_BYTES):
                raise BadImportFile(TOO_COMPLEX)
        self.parser.Parse(b"", True)

    def _refuse(self, *_args) -> None:
        raise BadImportFile(NOT_XLSX)

    def _start(self, name: str, attrs: dict) -> None:
        self.depth += 1
        self.budget.elements -= 1
        if self.depth > MAX_DEPTH or self.budget.elements < 0:
            raise BadImportFile(TOO_COMPLEX)
        namespace, _, local = name.rpartition(" ")
        local = local if namespace == SHEET_NS else ""
        if self.depth == 1:
            self.root = local
        if self.stream and self.root == "worksheet":
            self._sheet_element(local, attrs)
            return
        if self.stream:
            return  # a shared string: openpyxl keeps only its text
        self.tree += 1
        if self.tree > MAX_TREE_ELEMENTS:
            raise BadImportFile(TOO_COMPLEX)
        if local == "dimension" and self.root == "worksheet":
            self._dimension(attrs.get("ref", ""))
        elif (local == "sheetData" and self.root == "worksheet") or (
            local == "sst" and self.depth == 1
        ):
            self.stream = self.depth

    def _sheet_element(self, local: str, attrs: dict) -> None:
        level = self.depth - self.stream
        if level == 1:
            if local != "row":
                self.tree += 1  # kept by openpyxl until the end, like the parts read whole
                if self.tree > MAX_TREE_ELEMENTS:
                    raise BadImportFile(TOO_COMPLEX)
                return
            self.row = int(attrs["r"]) if "r" in attrs else self.row + 1
            if self.row > MAX_SHEET_ROWS:
                raise BadImportFile(N_("The file has more than %(n)s rows."), n=MAX_ROWS)
            self.column = self.width = self.row_elements = 0
            return
        self.row_elements += 1
        if self.row_elements > MAX_ROW_ELEMENTS:
            raise BadImportFile(N_("The file has more than %(n)s columns."), n=MAX_COLUMNS)
        if level == 2 and local == "c":
            self.column = _column_of(attrs.get("r", "")) or self.column + 1
            if self.column > MAX_COLUMNS:
                raise BadImportFile(N_("The file has more than %(n)s columns."), n=MAX_COLUMNS)
            self.width = max(self.width, self.column)
            self.cell, self.chars = self.depth, 0
            # A formula whose value is an empty text is saved typed "str" with an empty value.
            self.formula, self.valued = False, attrs.get("t") in ("str", "s", "inlineStr")
        elif self.cell and local == "f":
            self.formula = True
        elif self.cell and local in ("v", "t"):
            self.value = self.depth

    def _dimension(self, reference: str) -> None:
        last = reference.rpartition(":")[2]
        column = _column_of(last)
        if column is None:
            return  # openpyxl judges a malformed one
        if column > MAX_COLUMNS:
            raise BadImportFile(N_("The file has more than %(n)s columns."), n=MAX_COLUMNS)
        if int(_REFERENCE.fullmatch(last).group(2)) > MAX_SHEET_ROWS:
            raise BadImportFile(N_("The file has more than %(n)s rows."), n=MAX_ROWS)

    def _characters(self, data: str) -> None:
        if self.value:
            self.valued = self.valued or bool(data.strip())
            self.chars += len(data)
            if self.chars > MAX_CELL_CHARS:
                raise BadImportFile(
                    N_("A cell holds more than %(n)s characters."), n=MAX_CELL_CHARS
                )

    def _end(self, _name: str) -> None:
        if self.depth == self.value:
            self.value = 0
        elif self.depth == self.cell:
            self.cell = 0
            if self.formula and not self.valued:
                self.uncomputed.add((self.row, self.column))
        elif self.stream and self.root == "worksheet" and self.depth == self.stream + 1:
            self.cells += self.width
            self.width = 0
            if self.cells > MAX_CELLS:
                raise BadImportFile(N_("The file has more than %(n)s cells."), n=MAX_CELLS)
        elif self.depth == self.stream:
            self.stream = 0
        self.depth -= 1
