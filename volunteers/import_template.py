"""The register's import template: an XLSX with headers, drop-downs and cell formats."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import outputs, places
from core.errors import N_
from core.scope import Scope
from volunteers.enrolment import APPLY_LEVELS
from volunteers.importing import COLUMN_NAMES, COLUMNS, LANGUAGES, REQUIRED
from volunteers.models import KINDS

# Rows whose cells carry the text and date formats (cells cost time and bytes); the columns'
# own formats cover the rows below, and the drop-downs reach VALIDATED_ROWS.
READY_ROWS = 300
VALIDATED_ROWS = 5000
# Settlements listed for reference: a region's fit; the whole country's would not help.
MAX_SETTLEMENTS = 5000
DATE_FORMAT = "DD.MM.YYYY"
TEXT_FORMAT = "@"
# What each column takes, shown in its header's note with an example (never as a data row).
HINTS = {
    "iin": (N_("12 digits, typed as text so that a leading zero stays."), "061211600012"),
    "full_name": (N_("As in the identity document."), "Сейітқызы Әлия Нұрланқызы"),
    "kind": (N_("Choose from the list."), None),
    "kato": (N_("The settlement's 9-digit KATO code: see the list of settlements."), "354030100"),
    "phone": (N_("Optional. The +7 format."), "+7 701 123 45 67"),
    "email": (N_("Optional."), "aliya@example.kz"),
    "address": (N_("Street, house, flat."), "Ботақара, Бейбітшілік к-сі, 5"),
    "issued_on": (N_("Optional, DD.MM.YYYY; empty: the day of the import."), "16.11.2026"),
}


def _text(sheet, row: int, column: int, value: str) -> None:
    """Write text that no spreadsheet runs as a formula (unit names are typed by people)."""
    cell = sheet.cell(row=row, column=column)
    cell.value = outputs.xml_text(value)
    cell.data_type = "s"
    if cell.value.startswith(outputs.FORMULA_STARTS):
        cell.quotePrefix = True


def settlements(session: Session, scope: Scope) -> list[places.AdminUnit]:
    """The units rows may name, within ``scope``, by KATO code (at most MAX_SETTLEMENTS)."""
    query = select(places.AdminUnit).where(places.AdminUnit.level.in_(APPLY_LEVELS))
    covered = scope.unit_ids_covered(session)
    if covered is not None:
        query = query.where(places.AdminUnit.id.in_(covered))
    return list(session.scalars(query.order_by(places.AdminUnit.kato).limit(MAX_SETTLEMENTS)))


def template_xlsx(
    *,
    language: str,
    translate: Callable[[str], str],
    kind_labels: Mapping[str, Mapping[str, str]],
    units: list[places.AdminUnit],
) -> bytes:
    """Return the template in ``language``: a header row, two reference sheets, no data.

    The header cells carry the column's names in the other two languages, what it takes and
    an example as a note; ``kind_labels[language][code]`` are the pages' names of the kinds.
    """
    # openpyxl is imported when a template is asked for, not with the register's pages: at
    # start-up it cost every process of the portal 0.16 s (issue 16).
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.worksheet.datavalidation import DataValidation

    index = LANGUAGES.index(language) if language in LANGUAGES else 0
    book = Workbook()
    sheet = book.active
    sheet.title = translate("Register")[:31]
    kinds_sheet = book.create_sheet(translate("Kinds")[:31])
    units_sheet = book.create_sheet(translate("Settlements")[:31])
    bold = Font(bold=True)

    shown = kind_labels.get(language) or {code: code for code in KINDS}
    for column, title in enumerate(
        [translate("Kind"), "Қазақша", "Русский", "English", translate("Code")], start=1
    ):
        _text(kinds_sheet, 1, column, title)
        kinds_sheet.cell(row=1, column=column).font = bold
    for row, code in enumerate(KINDS, start=2):
        names = [shown[code], *(kind_labels.get(lang, {}).get(code, code) for lang in LANGUAGES)]
        for column, value in enumerate([*names, code], start=1):
            _text(kinds_sheet, row, column, value)
    kinds_sheet.column_dimensions["A"].width = 32

    for column, title in enumerate([translate("KATO code"), translate("Settlement")], start=1):
        _text(units_sheet, 1, column, title)
        units_sheet.cell(row=1, column=column).font = bold
    for row, unit in enumerate(units, start=2):
        _text(units_sheet, row, 1, unit.kato)
        _text(units_sheet, row, 2, unit.name(language))
    units_sheet.column_dimensions["A"].width = 14
    units_sheet.column_dimensions["B"].width = 40

    example_kind = shown[KINDS[0]]
    for number, code in enumerate(COLUMNS, start=1):
        names = COLUMN_NAMES[code]
        _text(sheet, 1, number, names[index] + (" *" if code in REQUIRED else ""))
        header = sheet.cell(row=1, column=number)
        header.font = bold
        hint, example = HINTS[code]
        note = [
            " / ".join(names[i] for i in range(len(LANGUAGES)) if i != index) + f" ({code})",
            translate(hint),
            translate("Example: %(value)s") % {"value": example or example_kind},
        ]
        header.comment = Comment("\n".join(note), "portal", height=140, width=260)
        letter = get_column_letter(number)
        sheet.column_dimensions[letter].width = 30 if code in ("full_name", "address") else 18
        number_format = {"iin": TEXT_FORMAT, "kato": TEXT_FORMAT, "phone": TEXT_FORMAT}.get(
            code, DATE_FORMAT if code == "issued_on" else None
        )
        if number_format:
            sheet.column_dimensions[letter].number_format = number_format
            for row in range(2, READY_ROWS + 2):
                sheet.cell(row=row, column=number).number_format = number_format
    sheet.freeze_panes = "A2"

    kind_column = get_column_letter(COLUMNS.index("kind") + 1)
    choices = DataValidation(
        type="list",
        formula1=f"{quote_sheetname(kinds_sheet.title)}!$A$2:$A${len(KINDS) + 1}",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=translate("Kind"),
        error=translate("Choose from the list."),
    )
    choices.add(f"{kind_column}2:{kind_column}{VALIDATED_ROWS + 1}")
    sheet.add_data_validation(choices)
    date_column = get_column_letter(COLUMNS.index("issued_on") + 1)
    dates = DataValidation(
        type="date",
        operator="greaterThan",
        formula1="1",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=translate("Date"),
        error=translate("Write the date as DD.MM.YYYY."),
    )
    dates.add(f"{date_column}2:{date_column}{VALIDATED_ROWS + 1}")
    sheet.add_data_validation(dates)

    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
