"""Reading uploaded tables: hostile workbooks refused fast and small, values kept as text."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from openpyxl import Workbook

from core import spreadsheets
from core.spreadsheets import BadImportFile, check_upload, read_table
from tests.core import hostile_files
from tests.core.hostile_files import MAIN, REGISTER, SHEET

HEADER = ",".join(REGISTER)


def refusal(content: bytes, name: str = "x.xlsx", **options) -> str:
    with pytest.raises(BadImportFile) as caught:
        read_table(content, name, columns=REGISTER, **options)
    return str(caught.value)


def workbook(*rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def with_part(content: bytes, name: str, data: bytes) -> bytes:
    """The workbook with one part replaced (or added)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as old, zipfile.ZipFile(buffer, "w") as new:
        for info in old.infolist():
            if info.filename != name:
                new.writestr(info, old.read(info))
        new.writestr(name, data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def test_zip_bomb_and_wide_sheets_are_refused_within_2_s_and_200_mb(tmp_path):
    files = {
        "bomb": hostile_files.bomb_xlsx(),  # 1 GB of rows packed into 1.3 MB
        "wide": hostile_files.wide_xlsx(),  # 16,000 columns, the size declared
        "wide_undeclared": hostile_files.wide_xlsx(dimension=False),
        "sparse_wide": hostile_files.sparse_wide_xlsx(),  # 5,000 rows reaching column 16,000
    }
    assert len(files["bomb"]) < 2 * 1024 * 1024
    # A reader that unpacks or pads them runs for minutes into gigabytes: held to 30 s.
    measured = hostile_files.measure(files, tmp_path, timeout=30)
    for name in files:
        outcome = measured[name]
        assert outcome["outcome"].startswith("BadImportFile"), (name, outcome)
        assert outcome["seconds"] < 2, (name, outcome)
        assert outcome["grown_mb"] < 200, (name, outcome)
    assert "64 MB" in measured["bomb"]["outcome"]
    assert "50 columns" in measured["sparse_wide"]["outcome"]


def test_the_central_directory_alone_refuses_a_bomb_in_the_request():
    with pytest.raises(BadImportFile, match="unpacks to more than 64 MB"):
        check_upload(hostile_files.bomb_xlsx(100), "x.xlsx", columns=REGISTER)
    # Within the total, one part packed far more densely than any sheet is refused too.
    dense = with_part(workbook(REGISTER), SHEET, b" " * (8 * 1024 * 1024))
    with pytest.raises(BadImportFile, match="over 100 to 1"):
        check_upload(dense, "x.xlsx", columns=REGISTER)
    # The wide sheet passes the request's checks: its rows are the job's to read.
    assert check_upload(hostile_files.wide_xlsx(), "x.xlsx", columns=REGISTER) == "xlsx"


def test_xlsx_values_come_out_as_the_text_typed():
    iin_as_number = 61211600012  # 061211600012 as Excel keeps it
    born = dt.datetime(2025, 6, 1)
    content = workbook(
        [],
        [c.upper() for c in REGISTER] + ["notes"],
        [iin_as_number, "  Әлия  ", "patrol_member", 354030100, 77015550001, None, "Б", born],
        [],
        ["900101300017", "Ерлан", "public_assistant", "354030100", None, None, "Б", born.date()],
    )
    table = read_table(content, "r.xlsx", columns=REGISTER, pad={"iin": 12})
    assert table.numbers == [3, 5]
    first, second = table.rows
    # The IIN Excel kept as a number gets its zero back; only the padded column is padded.
    assert first["iin"] == "061211600012" and first["kato"] == "354030100"
    assert first["phone"] == "77015550001" and first["email"] == ""
    assert first["full_name"] == "Әлия" and first["issued_on"] == "2025-06-01"
    assert second == {
        "iin": "900101300017",
        "full_name": "Ерлан",
        "kind": "public_assistant",
        "kato": "354030100",
        "phone": "",
        "email": "",
        "address": "Б",
        "issued_on": "2025-06-01",
    }


def test_csv_rows_keep_their_numbers_and_text():
    content = (
        "\ufeffIIN,Full_Name,kind,kato,address\n"
        '061211600012,"Әлия\nСейітқызы",patrol_member,354030100,Ботақара\n'
        "\n"
        "900101300017,Ерлан,public_assistant,354030100,Ботақара\n"
    ).encode()
    table = read_table(content, "r.csv", columns=REGISTER, required=("iin", "kind"))
    assert table.numbers == [2, 4]
    assert table.rows[0]["iin"] == "061211600012" and table.rows[0]["phone"] == ""
    assert spreadsheets.read_rows(content, "r.csv", columns=("iin",)) == [
        {"iin": "061211600012"},
        {"iin": "900101300017"},
    ]


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "id.csv", "cannot be read"),
        (b"iin,full_name\n1,2\n", "x.csv", "lacks the columns: kind"),
        ((HEADER + ",x" * 50 + "\n").encode(), "x.csv", "more than 50 columns"),
        ((HEADER + "\n" + "1," * 7 + "y" * 2001 + "\n").encode(), "x.csv", "2000 characters"),
        (b"", "x.csv", "empty"),
        (b"not a workbook", "x.xlsx", "not an XLSX workbook"),
        (b"PK\x03\x04 broken", "x.xlsx", "not an XLSX workbook"),
        (b"%PDF-1.4", "x.pdf", "Upload a CSV or XLSX file"),
    ],
)
def test_bad_files_are_refused_with_a_reason(content, name, message):
    assert message in refusal(content, name)


def test_row_and_cell_limits_stop_the_read(monkeypatch):
    monkeypatch.setattr(spreadsheets, "MAX_ROWS", 3)
    rows = (HEADER + "\n" + "1,2,3,4,5,6,7,8\n" * 4).encode()
    assert "more than 3 rows" in refusal(rows, "x.csv")
    monkeypatch.setattr(spreadsheets, "MAX_CELLS", 20)
    assert "more than 20 cells" in refusal(rows, "x.csv")


def sheet(inner: str) -> str:
    return f'<worksheet xmlns="{MAIN}">{inner}</worksheet>'


@pytest.mark.parametrize(
    ("part", "message"),
    [
        # Declared far larger than allowed: refused before a row is read.
        (sheet('<dimension ref="A1:H900000"/><sheetData/>'), "rows"),
        # One row numbered a million: a reader fills in the rows before it.
        (sheet('<sheetData><row r="1000000"/></sheetData>'), "rows"),
        # A row of 100,000 cells without references: kept whole until the row ends.
        (sheet(f"<sheetData><row>{'<c/>' * 100_000}</row></sheetData>"), "columns"),
        (sheet(f"<sheetData><row><c><v>{'9' * 3000}</v></c></row></sheetData>"), "characters"),
        (sheet(f"<cols>{'<col/>' * 60_000}</cols><sheetData/>"), "too complex"),
        ('<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]><worksheet/>', "not an XLSX"),
    ],
)  # fmt: skip
def test_sheet_parts_are_bounded_before_openpyxl_reads_them(part, message):
    content = with_part(workbook(REGISTER), SHEET, part.encode())
    assert message in refusal(content)


def test_parts_read_whole_are_bounded(monkeypatch):
    monkeypatch.setattr(spreadsheets, "MAX_STRINGS_BYTES", 64 * 1024)
    strings = "".join(f"<si><t>{i}</t></si>" for i in range(10_000))
    sst = f'<sst xmlns="{MAIN}">{strings}</sst>'.encode()
    assert "too complex" in refusal(with_part(workbook(REGISTER), "xl/sharedStrings.xml", sst))
    styles = f'<styleSheet xmlns="{MAIN}"><cellXfs>{"<xf/>" * 60_000}</cellXfs></styleSheet>'
    assert "too complex" in refusal(with_part(workbook(REGISTER), "xl/styles.xml", styles.encode()))
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        f'<sst xmlns="{MAIN}"><si><t>&b;</t></si></sst>'
    )
    content = with_part(workbook(REGISTER), "xl/sharedStrings.xml", laughs.encode())
    assert "not an XLSX" in refusal(content)
