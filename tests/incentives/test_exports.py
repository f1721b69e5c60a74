"""Exports: streamed CSV and XLSX, masked personal data, formula injection, preamble, access."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text

from core import accounts, outputs
from core.audit import AuditEvent
from core.scope import Scope
from incentives import exports
from tests.conftest import login_as, translated, wait_for_jobs
from tests.factories.commission import IBAN, close_session, nominate, nominee, pay_item, setup

# Both databases: exports stream by COPY on PostgreSQL.
pytestmark = pytest.mark.both_databases


def _paid_reward(session):
    s = setup(session)
    member, ids = nominee(session)
    sitting = close_session(
        session, s, [nominate(session, s, member, ids).id], final=True, act=True
    )
    pay_item(session, sitting.items[0], dt.date(2026, 10, 20))
    session.execute(
        text("UPDATE member SET full_name = :n WHERE id = :id"),
        {"n": '=HYPERLINK("http://evil","x")', "id": member.id},
    )
    session.commit()
    return s, member


def _export(client, app, **form):
    response = client.post("/oversight/exports", data=form)
    assert response.status_code == 302, response.text
    wait_for_jobs(app)
    return response.headers["Location"]


def test_payouts_csv_is_masked_protected_and_states_its_context(app, client, session):
    _s, member = _paid_reward(session)
    login_as(client, "deputy@demo.kz")
    job_url = _export(client, app, dataset="payouts", format="csv", year="2026")
    page = client.get(job_url)
    assert translated(app, "Rows exported: %(n)s.", "kk", n=1) in page.text
    download = client.get(job_url + "/result")
    assert download.status_code == 200
    body = download.data.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(body)))
    session.rollback()
    head = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.seq.desc()).offset(1))
    assert any(head in cell for line in lines[:5] for cell in line)  # the head before the export
    assert any("2026" in cell for cell in lines[2])  # the filters line
    assert member.iin not in body and member.iin[-4:] in body
    assert IBAN not in body and "KZ** **** **** 0100" in body
    assert "'=HYPERLINK" in body
    assert not any(cell.startswith(("=", "+", "@")) for line in lines for cell in line)
    # The export itself is audited; nobody but its requester downloads it.
    assert (
        session.scalar(select(AuditEvent.action).order_by(AuditEvent.seq.desc()).limit(1))
        == "oversight.export"
    )
    client.post("/logout")
    login_as(client, "admin@demo.kz")
    assert client.get(job_url + "/result").status_code == 404


def test_payouts_csv_for_excel_opens_in_columns(app, client, session):
    """Semicolons and decimal commas for a Kazakh or Russian Excel; XLSX offered first."""
    _paid_reward(session)
    login_as(client, "deputy@demo.kz")
    offered = client.get("/oversight/exports").text
    assert offered.index('value="xlsx"') < offered.index('value="csv_excel"')
    assert offered.index('value="csv_excel"') < offered.index('value="csv"')
    job_url = _export(client, app, dataset="payouts", format="csv_excel", year="2026")
    download = client.get(job_url + "/result")
    assert download.status_code == 200
    assert download.data.startswith(b"\xef\xbb\xbf") and b"\r\n" in download.data
    assert "excel.csv" in download.headers["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(download.data.decode("utf-8-sig")), delimiter=";"))
    header = lines[5]
    assert len(header) == len(
        exports.dataset(
            "payouts", filters=exports.Filters(), scope=Scope.everywhere(), lang="kk"
        ).columns
    )
    [row] = lines[6:]
    amount = row[4]
    assert "," in amount and "." not in amount  # tenge with a decimal comma
    assert any(cell.startswith("'=HYPERLINK") for cell in row)  # still neutralised


def test_register_xlsx_streams_and_protects(app, client, session):
    _paid_reward(session)
    login_as(client, "deputy@demo.kz")
    job_url = _export(client, app, dataset="register", format="xlsx")
    download = client.get(job_url + "/result")
    assert download.status_code == 200
    book = load_workbook(io.BytesIO(download.data))
    typed = [c for sheet in book.worksheets for r in sheet.iter_rows() for c in r]
    cells = [str(c.value) for c in typed if c.value is not None]
    assert any(c.startswith("#") and len(c) > 60 for c in cells)  # the chain head
    # Text as typed, in a text cell: never a formula (core.outputs).
    assert '=HYPERLINK("http://evil","x")' in cells
    assert not any(c.data_type == "f" for c in typed)
    assert not any(len(c) == 12 and c.isdigit() for c in cells)


def test_ledger_and_decisions_export_for_finance(app, client, session):
    _paid_reward(session)
    login_as(client, "finance@demo.kz")
    for dataset in ("ledger", "decisions"):
        job_url = _export(client, app, dataset=dataset, format="csv", date_from="2020-01-01")
        body = client.get(job_url + "/result").data.decode("utf-8-sig")
        assert len(body.splitlines()) >= 7


def test_empty_selection_says_so_without_a_file(app, client, session):
    login_as(client, "deputy@demo.kz")
    job_url = _export(client, app, dataset="payouts", format="xlsx", year="2099")
    page = client.get(job_url)
    assert page.status_code == 200
    assert (
        translated(
            app,
            "Nothing matches these filters, so no file was made. Change the filters and try again.",
            "kk",
        )
        in page.text
    )
    assert client.get(job_url + "/result").status_code == 404


def test_bad_filters_are_refused_with_messages(app, client, session):
    login_as(client, "deputy@demo.kz")
    cases = [
        (
            {"date_from": "2026-05-01", "date_to": "2026-01-01"},
            "The start of the period is after its end.",
        ),
        ({"date_from": "31.02.2026"}, "Enter dates as YYYY-MM-DD."),
        ({"year": "abc"}, "Choose a year between 2000 and 2100."),
        ({"year": "1900"}, "Choose a year between 2000 and 2100."),
        ({"unit_id": "999999"}, "Choose a jurisdiction you oversee."),
        ({"dataset": "secrets"}, "Choose what to export and the file format."),
    ]
    for extra, message in cases:
        form = {"dataset": "payouts", "format": "csv", **extra}
        response = client.post("/oversight/exports", data=form)
        assert response.status_code == 400, extra
        assert translated(app, message, "kk") in response.text
    client.post("/logout")
    login_as(client, "coordinator@demo.kz")
    assert client.get("/oversight/exports").status_code == 403


def test_write_rows_streams_in_chunks(app, session, monkeypatch):
    _paid_reward(session)
    monkeypatch.setattr(exports, "CHUNK", 1)
    admin = accounts.find_by_login(session, "admin@demo.kz")
    data = exports.dataset(
        "ledger", filters=exports.Filters(), scope=Scope.of(admin, "admin"), lang="ru"
    )
    seen = []
    out = io.BytesIO()
    rows = exports.write_rows(
        session,
        data,
        fmt="csv",
        out=out,
        head_lines=[["t"]],
        translate=str,
        total=exports.count_rows(session, data),
        progress=seen.append,
    )
    assert rows == exports.count_rows(session, data) == 2  # the commitment and the payment
    if session.get_bind().dialect.name == "sqlite":
        assert len(seen) == 2  # progress after each chunk of one row
    else:
        assert seen == [95]  # COPY streams the whole file in one statement
    assert len(out.getvalue().decode("utf-8-sig").splitlines()) == 2 + rows
    assert outputs.csv_text("-1+1") == "'-1+1" and outputs.csv_text("ok") == "ok"


@pytest.mark.parametrize("name", ["payouts", "decisions", "ledger", "register"])
def test_copy_writes_exactly_what_the_python_writer_writes(app, session, monkeypatch, name):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    _paid_reward(session)
    admin = accounts.find_by_login(session, "admin@demo.kz")
    data = exports.dataset(
        name, filters=exports.Filters(), scope=Scope.of(admin, "admin"), lang="ru"
    )

    def render(data=data):
        out = io.BytesIO()
        exports.write_rows(
            session,
            data,
            fmt="csv",
            out=out,
            head_lines=[],
            translate=str,
            labels=lambda group, value: f"={group}:{value}",  # a label that needs protecting
        )
        return out.getvalue().decode("utf-8-sig")

    by_copy = render()
    # The export job's scope is resolved to the ids it covers, written into the statement.
    resolved = Scope.of(admin, "admin").resolved(session)
    by_copy_resolved = render(
        exports.dataset(name, filters=exports.Filters(), scope=resolved, lang="ru")
    )
    monkeypatch.setattr(exports, "COPY_ON_POSTGRESQL", False)
    by_python = render()
    assert by_copy.splitlines() == by_python.splitlines() == by_copy_resolved.splitlines()
    assert len(by_copy.splitlines()) > 1
