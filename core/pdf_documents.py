"""PDF files of official documents (minutes, certificates) from ``core.documents`` blocks.

fpdf2 is pure Python; the DejaVu fonts the caller points to hold every Kazakh letter
(ә ғ қ ң ө ұ ү һ і), so no glyph is dropped. What people typed reaches the file as text only.

fpdf2 (with the fontTools it loads) is imported with the first PDF, not with this module: at
start-up it cost every process of the portal 0.17 s (each web and job worker, each ``flask``
command, each of a test run's subprocesses; issue 16), and most of them never write a PDF.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import TYPE_CHECKING

from core.documents import Block

if TYPE_CHECKING:
    from fpdf import FPDF

FONT = "DejaVu"
_SIZES = {"title": 13, "heading": 12, "subheading": 11, "paragraph": 10.5, "list": 10.5}
_RED = (176, 0, 32)


@functools.cache
def _document_class() -> type[FPDF]:
    from fpdf import FPDF
    from fpdf.enums import Align

    class _Document(FPDF):
        """A4 pages numbered "page / pages" at the foot."""

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(FONT, "", 8)
            self.cell(0, 5, f"{self.page_no()} / {{nb}}", align=Align.C)

    return _Document


def _new_pdf(fonts: Path, title: str, *, created: dt.datetime | None) -> FPDF:
    pdf = _document_class()(format="A4")
    pdf.set_margins(20, 18, 15)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_font(FONT, "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(fonts / "DejaVuSans-Bold.ttf"))
    pdf.set_title(title)
    pdf.set_creator("citizen-incentive-portal")
    if created is not None:
        pdf.set_creation_date(created)
    pdf.add_page()
    return pdf


def _stamp(pdf: FPDF, text: str) -> None:
    """Print ``text`` across the page in a red frame: the document is not valid."""
    from fpdf.enums import Align, XPos, YPos

    pdf.set_draw_color(*_RED)
    pdf.set_text_color(*_RED)
    pdf.set_line_width(1.2)
    pdf.set_font(FONT, "B", 18)
    pdf.multi_cell(0, 12, text, border=1, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.2)
    pdf.ln(4)


def _write(pdf: FPDF, blocks: list[Block], *, centred: bool) -> None:
    from fpdf import FontFace
    from fpdf.enums import Align, XPos, YPos

    for block in blocks:
        if block.kind == "table":
            pdf.ln(1)
            pdf.set_font(FONT, "", 9.5)
            with pdf.table(
                col_widths=_widths(block.rows),
                headings_style=FontFace(family=FONT, emphasis="BOLD"),
                line_height=5.5,
                text_align="LEFT",
            ) as table:
                for row in block.rows:
                    cells = table.row()
                    for text in row:
                        cells.cell(text)
            pdf.ln(2)
            continue
        bold = block.kind in ("title", "heading", "subheading")
        pdf.set_font(FONT, "B" if bold else "", _SIZES.get(block.kind, 10.5))
        if block.kind in ("heading", "subheading"):
            pdf.ln(3)
        if block.kind == "list":
            for item in block.items:
                # A hanging indent: the item's wrapped lines start under its first word.
                pdf.cell(5, 5.5, "•")
                pdf.multi_cell(0, 5.5, item, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            continue
        align = Align.C if centred or block.kind == "title" else Align.L
        pdf.multi_cell(0, 6, block.text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if block.kind == "paragraph":
            pdf.ln(1)


def _widths(rows: tuple[tuple[str, ...], ...]) -> tuple[int, ...]:
    """Share a table's width by the longest word and the longest text of each column, so that
    a header word ("Воздержались") is never cut in two and a number column stays narrow."""
    columns = range(max(len(r) for r in rows))
    widths = []
    for n in columns:
        cells = [r[n] for r in rows if n < len(r)]
        word = max((len(w) for c in cells for w in c.split()), default=1)
        text = max((len(c) for c in cells), default=1)
        widths.append(max(word + 1, min(text, 28), 3))
    return tuple(widths)


def document_pdf(
    blocks: list[Block],
    *,
    fonts: Path,
    title: str,
    stamp: str = "",
    footer: str = "",
    created: dt.datetime | None = None,
    centred: bool = False,
) -> bytes:
    """Return the PDF of a document: its blocks in order, ``stamp`` (when given) in a red
    frame above them and again below, ``footer`` in small print at the end; ``centred`` for a
    certificate, whose every line is centred."""
    from fpdf.enums import Align, XPos, YPos

    pdf = _new_pdf(fonts, title, created=created)
    if stamp:
        pdf.set_subject(stamp)  # what a reader's document properties show, too
        _stamp(pdf, stamp)
    _write(pdf, blocks, centred=centred)
    if stamp:
        pdf.ln(4)
        _stamp(pdf, stamp)
    if footer:
        pdf.ln(4)
        pdf.set_font(FONT, "", 8)
        pdf.multi_cell(0, 4, footer, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())
