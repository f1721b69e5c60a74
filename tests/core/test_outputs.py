"""The one output path: text never runs as a formula, numbers stay numbers, XML stays valid."""

from __future__ import annotations

import csv
import datetime as dt
import io

from docx import Document
from openpyxl import load_workbook

from core import outputs

RISKY = ["=1+1", "+1", "-1+1", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x","y")']


def test_csv_text_gets_an_apostrophe_numbers_do_not():
    for text in RISKY:
        assert outputs.csv_text(text) == "'" + text
    assert outputs.csv_text("Алия") == "Алия"
    content = outputs.csv_bytes([[*RISKY, -5, outputs.money(-500), dt.date(2026, 1, 2), None]])
    line = content.decode("utf-8-sig").strip()
    assert line.endswith(",-5,-5.00,2026-01-02,")
    assert content.startswith(b"\xef\xbb\xbf")


def test_xlsx_text_is_an_inline_string_as_typed():
    book = outputs.XlsxBook()
    book.sheet("a/b:c")
    book.row([*RISKY, "bell\x07", 7, outputs.money(1234), True])
    sheet = load_workbook(io.BytesIO(book.to_bytes())).worksheets[0]
    cells = next(sheet.iter_rows())
    assert [c.value for c in cells[: len(RISKY)]] == RISKY
    assert all(c.data_type == "s" for c in cells[: len(RISKY)])
    assert all(c.quotePrefix for c in cells[: len(RISKY)])
    assert [c.value for c in cells[len(RISKY) :]] == ["bell\ufffd", 7, 12.34, "True"]
    assert sheet.title == "a_b_c"


def test_docx_keeps_text_as_typed_and_survives_control_characters():
    content = outputs.docx_bytes(['=HYPERLINK("x")', "a\x00b"])
    texts = [p.text for p in Document(io.BytesIO(content)).paragraphs]
    assert texts == ['=HYPERLINK("x")', "a\ufffdb"]


def test_identifiers_are_masked():
    assert outputs.mask_iban("KZ86125KZT5004100100") == "KZ** **** **** 0100"
    assert outputs.mask_iban(None) == ""
    assert outputs.mask_iin("921111500030") == "••••••••0030"


def test_excel_csv_opens_as_columns_in_a_kazakh_or_russian_excel():
    """Semicolons, a decimal comma, UTF-8 with a BOM and CRLF; formulas still neutralised."""
    rows = [
        ["Получатель; с точкой с запятой", "Сомасы", "Күні"],
        [
            *RISKY,
            "Әбілқасымова",
            -5,
            outputs.money(-500),
            outputs.money(123456),
            dt.date(2026, 1, 2),
        ],
    ]
    content = outputs.csv_bytes(rows, dialect="excel")
    assert content.startswith(b"\xef\xbb\xbf")
    text = content.decode("utf-8-sig")
    assert text.endswith("\r\n") and text.count("\r\n") == 2  # CRLF after each row
    parsed = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert parsed[0] == rows[0]  # the separator inside a cell does not split it
    assert parsed[1][: len(RISKY)] == ["'" + t for t in RISKY]
    assert parsed[1][len(RISKY) :] == ["Әбілқасымова", "-5", "-5,00", "1234,56", "2026-01-02"]
    # The standard variant is unchanged: commas and decimal points.
    standard = outputs.csv_bytes([[outputs.money(123456), "a;b"]]).decode("utf-8-sig")
    assert standard == "1234.56,a;b\r\n"
