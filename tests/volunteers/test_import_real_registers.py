"""Issue 19, finding 6: the import takes registers as officials keep them in Excel."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import openpyxl
import pytest
from sqlalchemy import select

from core import accounts
from core.cell_text import read_date
from core.spreadsheets import BadImportFile
from tests.conftest import login_as, translated, wait_for_jobs
from tests.factories.accounts import official
from tests.factories.volunteers import iin_for, unit
from volunteers import importing
from volunteers.models import Member
from volunteers.persons import key_of

BOTAKARA = "354030100"  # Bukhar-Zhyrau district
OSAKAROVKA = "355630100"  # Osakarov district
RU_HEADER = [
    "ИИН",
    "  фио ",
    "Вид",
    "Код КАТО",
    "Телефон",
    "Электронная почта",
    "Адрес",
    "Дата выдачи",
]
NOT_A_DATE = "The issue date %(value)s is not a date: write it as DD.MM.YYYY."
NO_VALUE = (
    "The column %(column)s holds a formula saved without its value: open the file in Excel, "
    "let it calculate, save it and upload it again, or type the value."
)


def _upload(client, content: bytes, name: str = "register.xlsx") -> str:
    response = client.post(
        "/volunteers/import",
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def _saved(book: openpyxl.Workbook, cached: dict[str, str] | None = None) -> bytes:
    """Save as Excel would: formula cells given the values Excel computed (``cached``)."""
    out = io.BytesIO()
    book.save(out)
    if not cached:
        return out.getvalue()
    source = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    patched = io.BytesIO()
    with zipfile.ZipFile(patched, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                for ref, value in cached.items():
                    text, found = re.subn(
                        rf'<c r="{ref}"><f>(.*?)</f><v\s*/?>(?:</v>)?</c>',
                        rf'<c r="{ref}" t="str"><f>\1</f><v>{value}</v></c>',
                        text,
                    )
                    assert found == 1, ref
                data = text.encode()
            target.writestr(info, data)
    return patched.getvalue()


def _excel_register() -> tuple[bytes, dict]:
    """25 rows as an akimat keeps them: Russian headers, labels, dates, numbers as Excel saves."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(RU_HEADER)
    kinds = ["Общественный помощник", "Ерікті патруль мүшесі", "Public assistant", "patrol_member"]
    dates = [dt.datetime(2026, 3, 2), "16.11.2026", "6.1.2026", None, "2026-05-04"]
    for n in range(21):
        sheet.append(
            [
                iin_for(8100 + n),
                f"Иванов Айгерім {n}",
                kinds[n % 4],
                BOTAKARA,
                None,
                None,
                f"Ботақара {n}",
                dates[n % 5],
            ]
        )
    zero_iin = iin_for(8190, born=dt.date(2003, 2, 1))
    # Row 23: Excel turned the IIN, the KATO code and the phone into numbers.
    sheet.append(
        [int(zero_iin), "Нөлдік Сан", kinds[0], int(BOTAKARA), 87015550099, None, "Ботақара"]
    )
    # Row 24: a name made by a formula, with its value as Excel saved it; row 25 without one.
    sheet.append([iin_for(8191), '=CONCATENATE("Асхат ","Формулаұлы")', kinds[0], BOTAKARA])
    sheet["H23"] = dt.datetime(2026, 11, 16)
    sheet["G24"] = "Ботақара"
    unsaved_iin = iin_for(8192)
    sheet.append([unsaved_iin, '=CONCATENATE("Жоқ ","Мән")', kinds[0], BOTAKARA])
    sheet["G25"] = "Ботақара"
    sheet.append(
        [iin_for(8193), "Қате Күн", kinds[1], BOTAKARA, None, None, "Ботақара", "31.02.2026"]
    )
    # Rows formatted but left empty below the register, as a template has them.
    for row in range(27, 60):
        sheet.cell(row=row, column=1).number_format = "@"
    content = _saved(book, cached={"B24": "Асхат Формулаұлы"})
    return content, {"zero": zero_iin, "unsaved": unsaved_iin}


def test_an_excel_register_imports_exactly_as_typed(app, session):
    client = app.test_client()
    login_as(client, "registrar@demo.kz")
    content, iins = _excel_register()
    page = _upload(client, content)
    wait_for_jobs(app)
    status = client.get(page + "/status.json").get_json()
    assert status["status"] == "succeeded", status
    result = status["result"]
    # 25 data rows, each counted once: no header, no blank rows below.
    assert {k: result[k] for k in ("read", "imported", "duplicates", "rejected")} == {
        "read": 25,
        "imported": 23,
        "duplicates": 0,
        "rejected": 2,
    }
    session.rollback()
    keys = [key_of(iin_for(serial)) for serial in range(8100, 8194)] + [key_of(iins["zero"])]
    members = {
        m.full_name: m for m in session.scalars(select(Member).where(Member.iin_index.in_(keys)))
    }
    assert len(members) == 23
    assert members["Нөлдік Сан"].iin == iins["zero"]  # the zero Excel dropped is back
    assert members["Нөлдік Сан"].issued_on == dt.date(2026, 11, 16)
    assert members["Иванов Айгерім 0"].issued_on == dt.date(2026, 3, 2)  # a date cell
    assert members["Иванов Айгерім 1"].issued_on == dt.date(2026, 11, 16)  # "16.11.2026"
    assert members["Иванов Айгерім 2"].issued_on == dt.date(2026, 1, 6)  # "6.1.2026"
    assert members["Иванов Айгерім 4"].issued_on == dt.date(2026, 5, 4)
    assert [members[f"Иванов Айгерім {n}"].kind for n in range(4)] == [
        "public_assistant",
        "patrol_member",
        "public_assistant",
        "patrol_member",
    ]
    assert members["Асхат Формулаұлы"].kind == "public_assistant"  # the formula's value
    # The problems, on the page: row, column as the file heads it, why, and the row's values.
    problems = {p["row"]: p for p in result["problems"]}
    assert sorted(problems) == [25, 26]
    assert problems[25]["column"] == "фио" and problems[26]["column"] == "Дата выдачи"
    assert result["columns"][1] == "фио"
    html = client.get(page).text
    no_value = translated(app, NO_VALUE, "kk", column="фио")
    not_a_date = translated(app, NOT_A_DATE, "kk", value="31.02.2026")
    assert no_value in html and not_a_date in html and "Қате Күн" in html
    assert "••••••••" + iins["unsaved"][-4:] in html and iins["unsaved"] not in html
    assert translated(app, "Rows read: %(n)s.", "kk", n=25) in html
    # The same problems in the file, with the row's values and the IIN masked.
    report = client.get(status["result_url"])
    book = openpyxl.load_workbook(io.BytesIO(report.data), read_only=True)
    rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    assert [r[0] for r in rows[1:]] == [25, 26]
    assert rows[1][1] == "фио" and rows[1][3] == "••••••••" + iins["unsaved"][-4:]
    assert rows[2][-1] == "31.02.2026" and rows[2][4] == "Қате Күн"


def test_headers_types_and_dates_are_read_in_any_language():
    # A CSV from a Russian- or Kazakh-locale Excel: semicolons; Kazakh headers in any case.
    iin = iin_for(8300, born=dt.date(2004, 3, 9))
    content = (
        "\ufeffЖСН; тегі, аты, әкесінің аты ;ТҮРІ;Елді мекеннің ҚАТО коды;Мекенжайы;"
        "Куәлік берілген күні\n"
        f"{iin[1:]};Әбілқасымова Айгерім;Қоғамдық көмекші;{BOTAKARA};Ботақара;16.11.2026\n"
    ).encode()
    table = importing.read_table(content, "register.csv")
    assert table.count == 1 and table.headers["kind"] == "ТҮРІ"
    row = table.rows[0]
    assert row["full_name"] == "Әбілқасымова Айгерім" and row["issued_on"] == "16.11.2026"
    assert row["iin"] == iin[1:]  # 11 digits as a spreadsheet kept them: the import pads them
    assert importing._iin_text(row["iin"]) == iin
    kinds = importing.Kinds.named(
        {"kk": {"public_assistant": "Қоғамдық көмекші", "patrol_member": "Ерікті патруль мүшесі"}},
        "kk",
    )
    assert kinds.by_name[importing.header_key(row["kind"])] == "public_assistant"
    with pytest.raises(BadImportFile) as caught:
        importing.read_table("ФИО,Адрес\nА,Б\n".encode(), "register.csv")
    assert "ЖСН / ИИН / IIN" in caught.value.params["columns"]
    # An error value Excel wrote into a CSV refuses its row, naming the column as headed.
    table = importing.read_table(
        f"ИИН,ФИО,Вид,Код КАТО,Адрес\n{iin},#N/A,patrol_member,{BOTAKARA},Б\n".encode(), "r.csv"
    )
    assert table.rows == [] and table.count == 1
    refused = table.refused[0]
    assert (refused.number, refused.column, refused.params) == (
        2,
        "full_name",
        {"column": "ФИО", "error": "#N/A"},
    )


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("16.11.2026", dt.date(2026, 11, 16)),
        ("6.1.2026", dt.date(2026, 1, 6)),
        ("2026-11-16", dt.date(2026, 11, 16)),
        ("16.11.2026 0:00:00", dt.date(2026, 11, 16)),
        ("2026-11-16 00:00:00", dt.date(2026, 11, 16)),
        ("31.02.2026", None),
        ("11/16/2026", None),
        ("16 ноября", None),
    ],
)
def test_read_date_takes_the_ways_dates_are_written(text, day):
    if day is None:
        with pytest.raises(ValueError):
            read_date(text)
    else:
        assert read_date(text) == day


def test_the_template_downloads_and_comes_back_filled_in(app, session):
    """A unit's administrator (in Russian) fills in the template and imports it into the unit."""
    district = unit(session, "354000000")
    admin = official(
        session,
        "unit.admin@demo.kz",
        "admin",
        district.id,
        password="unit admin password 2026",
        full_name="Админ Района",
        language="ru",
        actor_id=accounts.find_by_login(session, "admin@demo.kz").id,
    )
    session.commit()
    client = app.test_client()
    login_as(client, admin.email)
    page = client.get("/volunteers/import")
    assert page.status_code == 200 and "/volunteers/import/template.xlsx" in page.text
    response = client.get("/volunteers/import/template.xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    sheet, kinds_sheet, units_sheet = book.worksheets
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["ИИН *", "Фамилия, имя, отчество *", "Вид *"]
    assert "ЖСН / IIN (iin)" in sheet["A1"].comment.text  # the other languages, in a note
    assert sheet.max_row == 1 or not any(c.value for row in sheet.iter_rows(min_row=2) for c in row)
    assert sheet["A2"].number_format == "@" and sheet["D2"].number_format == "@"
    assert sheet["H2"].number_format == "DD.MM.YYYY"
    labels = [kinds_sheet.cell(row=r, column=1).value for r in (2, 3)]
    assert labels == ["Общественный помощник", "Член добровольного патруля"]
    validation = next(v for v in sheet.data_validations.dataValidation if v.type == "list")
    assert "C2" in validation.sqref and kinds_sheet.title in validation.formula1
    katos = {units_sheet.cell(row=r, column=1).value for r in range(2, units_sheet.max_row + 1)}
    assert BOTAKARA in katos and OSAKAROVKA not in katos  # the admin's unit only
    # Filled in as a person would: IIN typed as text, a label from the list, a date cell.
    typed = [
        [iin_for(8400), "Сергеев Пётр", labels[0], BOTAKARA, None, None, "Ботақара"],
        [iin_for(8401), "Чужой Район", labels[1], OSAKAROVKA, None, None, "Осакаровка"],
    ]
    for row, values in enumerate(typed, start=2):
        for column, value in enumerate(values, start=1):
            sheet.cell(row=row, column=column, value=value)
    sheet["H2"] = dt.datetime(2026, 10, 1)
    out = io.BytesIO()
    book.save(out)
    page = _upload(client, out.getvalue())
    wait_for_jobs(app)
    status = client.get(page + "/status.json").get_json()
    assert status["status"] == "succeeded", status
    assert {k: status["result"][k] for k in ("read", "imported", "rejected")} == {
        "read": 2,
        "imported": 1,
        "rejected": 1,
    }
    assert status["result"]["problems"][0]["column"] == "Код КАТО населённого пункта *"
    session.rollback()
    member = session.scalar(select(Member).where(Member.iin_index == key_of(iin_for(8400))))
    assert member.issued_on == dt.date(2026, 10, 1) and member.kind == "public_assistant"


def test_a_stranger_gets_a_translated_403(app, client):
    login_as(client, "coordinator@demo.kz")
    for url in ("/volunteers/import", "/volunteers/import/template.xlsx"):
        response = client.get(url)
        assert response.status_code == 403
        assert (
            translated(app, "You do not have the right to open this page.", "kk") in response.text
        )


def test_sober_indicators_take_the_same_headers_names_and_numbers(app, session):
    """The indicators' import shares the reader: Russian headers, a kind by its name."""
    import sober
    from core.scope import Scope
    from incentives.sober_models import IndicatorKind
    from tests.factories.volunteers import user

    kind = session.get(IndicatorKind, "alcohol_crimes")
    content = (
        "Код КАТО населённого пункта;Показатель;Год;Квартал;Значение\n"
        f"{BOTAKARA};{kind.name_ru.upper()};2025;4;1 204\n"
        f"{BOTAKARA};{kind.name_kk};2025;3;7\n"
    ).encode()
    table = sober.read_indicator_table(content, "indicators.csv")
    coordinator = user(session, "coordinator@demo.kz")
    report = sober.import_indicator_rows(
        session,
        table.rows,
        numbers=table.numbers,
        actor_id=coordinator.id,
        scope=Scope.of(coordinator, "coordinator"),
        today=dt.date(2026, 3, 18),
    )
    assert report.as_dict() == {"read": 2, "imported": 2, "duplicates": 0, "rejected": 0}


def test_a_file_without_the_columns_is_refused_at_the_field_naming_them(app, client):
    login_as(client, "registrar@demo.kz")
    response = client.post(
        "/volunteers/import",
        data={"file": (io.BytesIO("ФИО;Адрес\nА;Б\n".encode()), "register.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    # The refusal names each missing column in the three languages, as the file may head it.
    columns = "ЖСН / ИИН / IIN / iin, Түрі / Вид / Type / kind, "
    assert columns in response.text


def test_a_problem_row_keeps_no_contact_or_address_in_clear():
    from volunteers.importing import masked

    row = {
        "iin": "040309500123",
        "full_name": "Асхат Қате",
        "phone": "+7 701 234 56 78",
        "email": "askhat@mail.kz",
        "address": "Ақсу ауылы, Абай к-сі 5",
    }
    shown = masked(row)
    assert shown["iin"].endswith("0123") and "040309" not in shown["iin"]
    assert shown["phone"] == "•••••••••78"
    assert shown["email"] == "a•••@mail.kz"
    assert shown["address"] == "•••"
    assert shown["full_name"] == "Асхат Қате"  # the name finds the row for the operator
    assert masked({"iin": "", "phone": "", "email": ""}) == {"iin": "", "phone": "", "email": ""}
