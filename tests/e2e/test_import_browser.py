"""On a phone in Kazakh: the register's template downloads, comes back filled in, and the rows
not imported are listed on the page with their values (issue 19, finding 6)."""

from __future__ import annotations

import datetime as dt
import io
import shutil
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import DEMO_PASSWORD
from tests.e2e.conftest import photograph, serving
from tests.factories.volunteers import iin_for

pytestmark = pytest.mark.e2e


@pytest.fixture
def live(sqlite_template, tmp_path):
    db = tmp_path / "import.sqlite3"
    shutil.copy(sqlite_template, db)
    with serving(f"sqlite:///{db}") as live:
        yield live.url


def test_the_template_round_trip_shows_the_rows_not_imported(live, browser, tmp_path):
    phone = browser.new_page(viewport={"width": 360, "height": 780}, locale="kk-KZ")
    phone.goto(f"{live}/login")
    phone.locator("#login").fill("registrar@demo.kz")
    phone.locator("#password").fill(DEMO_PASSWORD)
    phone.locator("main form button[type=submit]").click()
    phone.wait_for_url(f"{live}/")
    phone.goto(f"{live}/volunteers/import")
    with phone.expect_download() as download:
        phone.locator("#import-template").click()
    assert download.value.suggested_filename == "register-template-kk.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    sheet = book.worksheets[0]
    assert sheet["A1"].value == "ЖСН *"
    kind = book.worksheets[1]["A2"].value  # the drop-down's first kind, in Kazakh
    typed = [
        [iin_for(8500), "Ерболат Сәрсенов", kind, "354030100", None, None, "Ботақара"],
        [iin_for(8501), "Күні Қате", kind, "354030100", None, None, "Ботақара", "32.13.2026"],
    ]
    for row, values in enumerate(typed, start=2):
        for column, value in enumerate(values, start=1):
            sheet.cell(row=row, column=column, value=value)
    sheet["H2"] = dt.datetime(2026, 9, 1)
    filled = tmp_path / "тізілім.xlsx"
    out = io.BytesIO()
    book.save(out)
    filled.write_bytes(out.getvalue())

    phone.locator("#file").set_input_files(str(filled))
    phone.locator("main form button[type=submit]").click()
    problems = phone.locator("#import-problems")
    problems.wait_for(timeout=20_000)  # the job's page reloads itself when the job is done
    assert "Күні Қате" in problems.inner_text() and "32.13.2026" in problems.inner_text()
    assert iin_for(8501) not in phone.content()  # the IIN is masked
    phone.wait_for_load_state("load")  # both stylesheets applied before the width is read
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    photograph(phone, "import-problems-kk-360.png", full_page=True)
    phone.context.close()
