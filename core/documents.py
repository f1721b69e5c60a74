"""Official documents as blocks (titles, headings, paragraphs, lists, tables) and their text form.

A document's frozen text is a small line syntax, readable as it is and read back exactly:
``# title``, ``## heading``, ``### subheading``, ``- list item``, ``| table | row |`` (the first
row of a table its header), any other line a paragraph (a backslash first when it would read
as a marker). The DOCX writer renders the blocks; ``core.pdf_documents`` the PDF.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
from collections.abc import Callable

from core.official_dates import official_date
from core.outputs import xml_text


@dataclasses.dataclass(frozen=True)
class Language:
    """How a document is worded: the language's code and its gettext."""

    code: str
    gettext: Callable[..., str]  # gettext(msgid, **params) -> the translation, params applied

    def __call__(self, msgid: str, **params) -> str:
        # Always a format string, like a template's _(): "%%" means "%" with or without params.
        return self.gettext(msgid) % params

    def date(self, day: dt.date, form: str = "nominative") -> str:
        """Write a date in full, as official documents in this language do."""
        return official_date(day, self.code, form=form)


_BREAKS = re.compile(r"[ \t\n\r\f\v\x1c-\x1f\x85\u2028\u2029]+")
# The line syntax of the frozen text: the marker of a line of each kind of text block.
_MARKERS = {"title": "# ", "heading": "## ", "subheading": "### "}


@dataclasses.dataclass(frozen=True)
class Block:
    """One block of a document: a title line, a heading, a paragraph, a list or a table.

    ``text`` for the first four kinds; ``items`` for a list; ``rows`` for a table, the first
    row its header.
    """

    kind: str
    text: str = ""
    items: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()


def to_text(blocks: list[Block]) -> str:
    """Write the blocks as the frozen text of the minutes (what is hashed and kept)."""
    out: list[str] = []
    for block in blocks:
        if block.kind in ("heading", "subheading") and out:
            out.append("")  # a blank line before a heading, for whoever reads the raw text
        if block.kind == "list":
            out += [f"- {_one_line(item)}" for item in block.items]
        elif block.kind == "table":
            out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in block.rows]
        elif block.kind == "paragraph":
            text = _one_line(block.text)
            out.append("\\" + text if text.startswith(("#", "-", "|", "\\")) else text)
        else:
            out.append(_MARKERS[block.kind] + _one_line(block.text))
    return "\n".join(out).strip() + "\n"


def parse(text: str | None) -> list[Block]:
    """Read frozen minutes back into blocks (text frozen before the blocks were: one paragraph
    per line, "- " lines as lists)."""
    blocks: list[Block] = []
    for line in (text or "").splitlines():
        line = line.rstrip()
        if not line.strip():
            continue
        last = blocks[-1] if blocks else None
        if line.startswith("- ") or line == "-":
            item = line[2:]
            if last is not None and last.kind == "list":
                blocks[-1] = Block("list", items=(*last.items, item))
            else:
                blocks.append(Block("list", items=(item,)))
        elif line.startswith("|") and line.endswith("|") and len(line) > 1:
            row = tuple(_uncell(c) for c in _split_row(line[1:-1]))
            if last is not None and last.kind == "table":
                blocks[-1] = Block("table", rows=(*last.rows, row))
            else:
                blocks.append(Block("table", rows=(row,)))
        elif line.startswith("### "):
            blocks.append(Block("subheading", line[4:]))
        elif line.startswith("## "):
            blocks.append(Block("heading", line[3:]))
        elif line.startswith("# "):
            blocks.append(Block("title", line[2:]))
        else:
            blocks.append(Block("paragraph", line[1:] if line.startswith("\\") else line))
    return blocks


def _one_line(text: str) -> str:
    # A name typed with a line break must not start a block of its own; the no-break spaces
    # of amounts ("43 250,00 ₸") and dates stay as they are.
    return _BREAKS.sub(" ", str(text)).strip(" ")


def _cell(text: str) -> str:
    return _one_line(text).replace("\\", "\\\\").replace("|", "\\|")


def _split_row(inner: str) -> list[str]:
    cells, current, escaped = [], [], False
    for char in inner:
        if escaped:
            current.append("\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "|":
            cells.append("".join(current))
            current = []
        else:
            current.append(char)
    cells.append("".join(current))
    return cells


def _uncell(cell: str) -> str:
    return cell.strip().replace("\\|", "|").replace("\\\\", "\\")


def docx_bytes(blocks: list[Block], *, footer: str = "") -> bytes:
    """Return a Word document of the blocks: titles centred, headings, lists, tables."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    document = Document()
    for block in blocks:
        if block.kind == "title":
            paragraph = document.add_paragraph()
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            paragraph.add_run(xml_text(block.text)).bold = True
        elif block.kind in ("heading", "subheading"):
            document.add_heading(xml_text(block.text), level=2 if block.kind == "heading" else 3)
        elif block.kind == "list":
            for item in block.items:
                document.add_paragraph(xml_text(item), style="List Bullet")
        elif block.kind == "table":
            table = document.add_table(rows=0, cols=max(len(r) for r in block.rows))
            table.style = "Table Grid"
            for n, row in enumerate(block.rows):
                cells = table.add_row().cells
                for cell, text in zip(cells, row, strict=False):
                    cell.text = xml_text(text)
                    if n == 0:
                        for run in cell.paragraphs[0].runs:
                            run.bold = True
        else:
            document.add_paragraph(xml_text(block.text))
    if footer:
        document.add_paragraph(xml_text(footer))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
