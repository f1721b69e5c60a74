"""Bulk import of the paper register: validation per row, idempotence, limits, safe reports."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from sqlalchemy import func, select

from core.errors import DomainError
from core.uploads import StoredFile
from tests.conftest import login_as, translated, wait_for_jobs
from tests.core import hostile_files
from tests.factories.volunteers import iin_for
from volunteers import importing
from volunteers.models import Member
from volunteers.persons import key_of

# Both databases: the register's upsert written per dialect.
pytestmark = pytest.mark.both_databases

HEADER = "iin,full_name,kind,kato,phone,email,address,issued_on\n"


def _csv(rows: list[str]) -> bytes:
    return (HEADER + "\n".join(rows) + "\n").encode("utf-8")


def _good(n: int, kato: str = "354030100") -> str:
    return (
        f"{iin_for(7500 + n)},Тест Адам {n},public_assistant,{kato},"
        f"+7701555{n:04d},,Ботақара {n},2025-06-01"
    )


def _upload(client, content: bytes, name: str):
    return client.post(
        "/volunteers/import",
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def _counts(status: dict) -> dict:
    """The counts of a finished import: each row read is counted once."""
    return {k: status["result"][k] for k in ("read", "imported", "duplicates", "rejected")}


def _report_rows(client, status: dict) -> list[list]:
    """The downloadable report of rows not imported, as its cells."""
    report = client.get(status["result_url"])
    assert report.headers["Content-Disposition"].startswith("attachment")
    book = openpyxl.load_workbook(io.BytesIO(report.data), read_only=True)
    return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]


def _members(session) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(Member))


def test_import_with_bad_rows_then_again_creates_nothing_twice(app, session):
    client = app.test_client()
    login_as(client, "registrar@demo.kz")
    zero_iin = iin_for(7599, born=__import__("datetime").date(2003, 2, 1))
    assert zero_iin.startswith("0")
    content = _csv(
        [
            _good(1),
            _good(2),
            f"{zero_iin},Нөлдік ЖСН,patrol_member,354030100,,,Ботақара 9,",
            "123,Қате ЖСН,public_assistant,354030100,,,Ботақара,",
            f'{iin_for(7503)},=HYPERLINK("http://x"),public_assistant,354030100,,,Ботақара,',
            f"{iin_for(7504)},Бөтен аймақ,public_assistant,750000000,,,Алматы,",
            f"{iin_for(7505)},Белгісіз түр,sheriff,354030100,,,Ботақара,",
            _good(1),  # the same person twice in one file
        ]
    )
    before = _members(session)
    page = _upload(client, content, "register.csv").headers["Location"]
    wait_for_jobs(app)
    status = client.get(page + "/status.json").get_json()
    assert status["status"] == "succeeded", status
    # Issue 19, finding 6: a duplicate was counted as rejected too (9 outcomes for 8 rows).
    assert _counts(status) == {"read": 8, "imported": 3, "duplicates": 1, "rejected": 4}
    assert _members(session) == before + 3
    imported = session.scalar(select(Member).where(Member.iin_index == key_of(zero_iin)))
    assert imported is not None and imported.iin == zero_iin  # the leading zero survived
    rows = _report_rows(client, status)
    assert [r[0] for r in rows[1:]] == [5, 6, 7, 8, 9]
    # The formula a row carried is shown as the text it was, never run.
    assert '=HYPERLINK("http://x")' in rows[2]
    # The same file again: every row is already there.
    page = _upload(client, content, "register.csv").headers["Location"]
    wait_for_jobs(app)
    again = client.get(page + "/status.json").get_json()["result"]
    assert again["imported"] == 0 and _members(session) == before + 3


def test_xlsx_is_read_as_text(app, session):
    client = app.test_client()
    login_as(client, "registrar@demo.kz")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER.strip().split(","))
    sheet.append(_good(20).split(","))
    buffer = io.BytesIO()
    book.save(buffer)
    page = _upload(client, buffer.getvalue(), "register.xlsx").headers["Location"]
    wait_for_jobs(app)
    assert client.get(page + "/status.json").get_json()["result"]["imported"] == 1


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"name,phone\nx,y\n", "register.csv"),  # wrong columns
        (b"not a workbook", "register.xlsx"),
        (b"%PDF-1.4", "register.pdf"),
    ],
)
def test_bad_files_are_refused_before_any_job(app, session, content, name):
    client = app.test_client()
    login_as(client, "registrar@demo.kz")
    response = _upload(client, content, name)
    assert response.status_code in (400, 422)


def test_oversized_upload_gets_413(app, client):
    login_as(client, "registrar@demo.kz")
    body = b'--x\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n\r\n'
    response = client.post(
        "/volunteers/import",
        data=body + b"x" * (6 * 1024 * 1024),
        content_type="multipart/form-data; boundary=x",
    )
    assert response.status_code == 413


def test_only_registrars_and_administrators_import(app, client):
    login_as(client, "coordinator@demo.kz")
    assert client.get("/volunteers/import").status_code == 403


def test_read_table_names_missing_columns():
    with pytest.raises(DomainError) as caught:
        importing.read_table(b"iin,full_name\n1,2\n", "x.csv")
    assert "kind" in str(caught.value)


def test_a_future_birth_date_is_reported_by_its_row_and_the_rest_imported(app, session):
    """Issue 17, finding 7: one such row used to fail the whole import."""
    client = app.test_client()
    login_as(client, "registrar@demo.kz")
    future = "921111500030"  # read as 11 November 2092: a mistyped century digit
    content = _csv(
        [_good(40), f"{future},Болашақ Адам,public_assistant,354030100,,,Ботақара 1,", _good(41)]
    )
    before = _members(session)
    page = _upload(client, content, "register.csv").headers["Location"]
    wait_for_jobs(app)
    status = client.get(page + "/status.json").get_json()
    assert status["status"] == "succeeded", status
    assert _counts(status) == {"read": 3, "imported": 2, "duplicates": 0, "rejected": 1}
    assert _members(session) == before + 2
    rows = _report_rows(client, status)
    assert len(rows) == 2 and rows[1][0] == 3 and "2092-11-11" in rows[1][2]


def test_an_iin_excel_kept_as_a_number_gets_its_leading_zero_back(app, session):
    client = app.test_client()
    login_as(client, "registrar@demo.kz")
    zero_iin = iin_for(7601, born=dt.date(2003, 2, 1))
    book = openpyxl.Workbook()
    book.active.append(HEADER.strip().split(","))
    book.active.append([int(zero_iin), "Нөлдік Сан", "patrol_member", 354030100, None, None, "Б"])
    buffer = io.BytesIO()
    book.save(buffer)
    page = _upload(client, buffer.getvalue(), "register.xlsx").headers["Location"]
    wait_for_jobs(app)
    assert client.get(page + "/status.json").get_json()["result"]["imported"] == 1
    session.rollback()
    assert zero_iin in {m.iin for m in session.scalars(select(Member))}


def test_a_zip_bomb_is_refused_by_the_request_and_a_wide_sheet_by_the_job(app, session):
    client = app.test_client()
    login_as(client, "registrar@demo.kz")
    files = session.scalar(select(func.count()).select_from(StoredFile))
    # 256 MB of rows in 330 KB (the test client spools bodies over 500 KB to a file it leaks).
    bomb = _upload(client, hostile_files.bomb_xlsx(256), "register.xlsx")
    assert bomb.status_code == 422
    assert translated(app, "The workbook unpacks to more than %(mb)s MB.", "kk", mb=64) in bomb.text
    session.rollback()
    assert session.scalar(select(func.count()).select_from(StoredFile)) == files  # nothing kept
    before = _members(session)
    page = _upload(client, hostile_files.wide_xlsx(), "register.xlsx").headers["Location"]
    wait_for_jobs(app)
    status = client.get(page + "/status.json").get_json()
    assert status["status"] == "succeeded" and status["result"]["imported"] == 0, status
    refusal = translated(app, "The file has more than %(n)s columns.", "kk", n=50)
    assert status["message"] == refusal and refusal in client.get(page).text
    assert _members(session) == before


def test_a_crashed_import_keeps_whole_chunks_and_its_retry_adds_the_rest(app, session, monkeypatch):
    from portal import jobs
    from portal.extensions import db
    from volunteers import jobs as volunteer_jobs

    monkeypatch.setattr(volunteer_jobs, "CHUNK_ROWS", 2)
    calls = []

    def crashing(*args, **kwargs):
        calls.append(len(args[1]))
        if len(calls) == 2:
            raise RuntimeError("the worker died")
        return original(*args, **kwargs)

    original = importing.import_rows
    monkeypatch.setattr(importing, "import_rows", crashing)
    client = app.test_client()
    login_as(client, "registrar@demo.kz")
    before = _members(session)
    page = _upload(client, _csv([_good(n) for n in range(50, 55)]), "r.csv").headers["Location"]
    wait_for_jobs(app)
    assert client.get(page + "/status.json").get_json()["status"] == "failed"
    assert _members(session) == before + 2  # the first chunk, whole; nothing of the second
    with app.app_context():
        assert jobs.retry(int(page.rsplit("/", 1)[1]))
        db.session.commit()
    wait_for_jobs(app)
    status = client.get(page + "/status.json").get_json()
    assert _counts(status) == {"read": 5, "imported": 3, "duplicates": 2, "rejected": 0}, status
    assert _members(session) == before + 5 and calls == [2, 2, 2, 2, 1]
