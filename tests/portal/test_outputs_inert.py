"""Every file and print the portal writes shows typed text as text (issue 17, finding 1).

A formula is planted in every text field people type that reaches a file: names of members,
commission members and recipients, the commission's name, the place of the session, a reason
for a recusal, an initiative's title, the program's names, the akimat's act, the payment order
and the jurisdiction's name (and a control character in a name). Then every export (CSV and
XLSX), the report to the maslikhat's session (workbook and print), the minutes (DOCX and
print) and an import's problem report are made: no XLSX cell is a formula, no CSV cell starts
like one (bar numbers), DOCX text reads as typed and holds no field.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import zipfile

from docx import Document
from openpyxl import load_workbook

from budget.models import BudgetProgram
from core import accounts, places
from incentives import nominations, payouts, sessions
from incentives.models import Commission
from tests.conftest import login_as, wait_for_jobs
from tests.factories.commission import (
    FOUR,
    IBAN,
    MCI_2026,
    NOW,
    nominate,
    nominee,
    open_sitting,
    plan_sitting,
    setup,
)
from tests.factories.sober import supported_initiative
from volunteers import importing

PAYLOAD = '=HYPERLINK("http://x","y")'
BELL = "Қоңырау\x07"  # a control character XML cannot hold: the file is still made
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _planted_world(session):
    """A commission session with a person's cash reward (paid) and an initiative's thanks, every
    typed text the minutes and the files show set to PAYLOAD; minutes not final yet."""
    s = setup(session)
    member, ids = nominee(session)
    person = nominate(session, s, member, ids, mci=10)
    initiative = supported_initiative(session, s)
    team = nominations.nominate_initiative(
        session,
        initiative_id=initiative.id,
        recipient="team",
        justification=PAYLOAD,
        form="thanks",
        amount_tiyn=0,
        entered_in="mci",
        nominator_id=s.coordinator_id,
        today=dt.date(2026, 10, 1),
    )
    member.full_name = initiative.title = team.recipient_name = PAYLOAD
    session.get(Commission, s.commission_id).name = PAYLOAD
    session.get(accounts.User, s.users["chair"]).full_name = PAYLOAD
    session.get(accounts.User, s.users["member2"]).full_name = BELL
    for unit in (session.get(places.AdminUnit, s.unit_id), places.by_kato(session, "354030100")):
        unit.name_kk = unit.name_ru = PAYLOAD
    for program in session.query(BudgetProgram).filter_by(unit_id=s.unit_id):
        program.name_kk = program.name_ru = PAYLOAD
    sitting = plan_sitting(session, s, [person.id, team.id])
    sitting.place_kk = sitting.place_ru = PAYLOAD
    open_sitting(session, s, sitting, FOUR)
    cash, thanks = sitting.items
    for label in FOUR:
        sessions.vote(
            session,
            item_id=cash.id,
            commission_member_id=s.members[label],
            choice="for",
            reason=None,
            entered_by_id=s.users[label],
        )
        recused = label == "member3"
        sessions.vote(
            session,
            item_id=thanks.id,
            commission_member_id=s.members[label],
            choice="recused" if recused else "for",
            reason=PAYLOAD if recused else None,
            entered_by_id=s.users[label],
        )
    sessions.close(session, session_id=sitting.id, actor_id=s.users["secretary"], now=NOW)
    session.commit()
    return s, sitting


def _pay(session, sitting):
    sessions.record_act(
        session, session_id=sitting.id, number=PAYLOAD, date=dt.date(2026, 10, 18), actor_id=1
    )
    payouts.record_payment(
        session,
        item_id=sitting.items[0].id,
        iban=IBAN,
        order_number=PAYLOAD,
        order_date=dt.date(2026, 10, 20),
        amount_tiyn=10 * MCI_2026,
        idempotency_key="inert-1",
        actor_id=accounts.find_by_login(session, "finance@demo.kz").id,
        today=dt.date(2026, 10, 21),
    )
    session.commit()


def _job_file(client, app, url: str, form: dict) -> tuple[bytes, int]:
    response = client.post(url, data=form)
    assert response.status_code == 302, response.text
    wait_for_jobs(app)
    run_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    download = client.get(f"/jobs/{run_id}/result")
    assert download.status_code == 200, form
    return download.data, run_id


def _inert_csv(content: bytes) -> list[str]:
    cells = [c for row in csv.reader(io.StringIO(content.decode("utf-8-sig"))) for c in row]
    for cell in cells:
        if cell.startswith(FORMULA_STARTS):
            float(cell)  # only a number may start with a sign
    return cells


def _inert_xlsx(content: bytes) -> list:
    book = load_workbook(io.BytesIO(content))
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    return [c.value for c in cells]


def test_a_planted_formula_is_text_in_every_export_report_and_minutes(app, client, session):
    s, sitting = _planted_world(session)

    login_as(client, "secretary@demo.kz")
    final = client.post(f"/commission/sessions/{sitting.id}/minutes", data={"confirmed": "yes"})
    assert final.status_code == 302
    session.rollback()  # a fresh snapshot: the request committed in its own session
    assert sitting.status == "minutes_final"
    _pay(session, sitting)
    for lang in ("kk", "ru"):
        docx = client.get(f"/commission/sessions/{sitting.id}/minutes.docx?lang={lang}")
        assert docx.status_code == 200
        texts = [p.text for p in Document(io.BytesIO(docx.data)).paragraphs]
        assert sum(PAYLOAD in t for t in texts) >= 5, texts  # names, place, title, reason
        assert any("Қоңырау\ufffd" in t for t in texts)
        body = zipfile.ZipFile(io.BytesIO(docx.data)).read("word/document.xml")
        assert b"fldSimple" not in body and b"instrText" not in body
    printed = client.get(f"/commission/sessions/{sitting.id}/minutes")
    assert PAYLOAD in html.unescape(printed.text)

    login_as(client, "deputy@demo.kz")
    for dataset in ("payouts", "decisions", "ledger", "register"):
        form = {"dataset": dataset, "format": "csv", "year": "2026"}
        cells = _inert_csv(_job_file(client, app, "/oversight/exports", form)[0])
        assert "'" + PAYLOAD in cells, dataset
        form["format"] = "xlsx"
        values = _inert_xlsx(_job_file(client, app, "/oversight/exports", form)[0])
        assert PAYLOAD in values, dataset

    form = {"unit_id": str(s.unit_id), "year": "2026", "period": "year"}
    workbook, run_id = _job_file(client, app, "/oversight/reports", form)
    assert PAYLOAD in _inert_xlsx(workbook)
    printed = client.get(f"/oversight/reports/{run_id}?lang=ru")
    assert printed.status_code == 200 and PAYLOAD in html.unescape(printed.text)


def test_an_import_problem_report_is_inert():
    problem = importing.Problem(2, "%(x)s", {"x": PAYLOAD}, "full_name", {"full_name": PAYLOAD})
    content = importing.problem_report_xlsx(
        [problem],
        translate=lambda m, p: m % p,
        headers={"full_name": "-Name"},
        titles=("Rows", "Row", "Column", "-Problem"),
    )
    assert _inert_xlsx(content) == [
        "Row",
        "Column",
        "-Problem",
        "-Name",
        2,
        "-Name",
        PAYLOAD,
        PAYLOAD,
    ]
