"""The report to the maslikhat's session: figures, the job, the workbook, the printable page."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from core import jobruns, places
from core.errors import DomainError
from incentives import session_report
from portal.oversight.report_views import SECTIONS
from tests import commission_helpers as ch
from tests.conftest import login, translated, wait_for_jobs


def test_session_report_period_rejects_impossible_values():
    assert session_report.period(2026, 2)[0].month == 4
    assert session_report.period(2026, None)[1].year == 2027
    with pytest.raises(DomainError):
        session_report.period(2026, 5)
    with pytest.raises(DomainError):
        session_report.period(1800, None)


def test_session_report_job_writes_workbook_and_printable_page(app, session):
    s = ch.setup(session)
    unit = places.by_kato(session, ch.DISTRICT)
    report = session_report.build(session, unit_id=unit.id, year=2026, quarter=None)
    line = next(r for r in report["lines"] if r["line_id"] == s.line_id)
    assert (
        line["approved_tiyn"] == 1_000_000 * 100 and line["available_tiyn"] == line["approved_tiyn"]
    )
    assert report["people"]["people"] == 0 and report["flags"] is None
    session.rollback()

    deputy = app.test_client()
    login(deputy, "deputy@demo.kz")
    assert deputy.get("/oversight/reports").status_code == 200
    bad = deputy.post(
        "/oversight/reports", data={"unit_id": unit.id, "year": 1900, "period": "year"}
    )
    assert bad.status_code == 400
    ordered = deputy.post(
        "/oversight/reports", data={"unit_id": unit.id, "year": 2026, "period": "4"}
    )
    assert ordered.status_code == 302
    wait_for_jobs(app)
    session.rollback()
    run = session.scalar(
        select(jobruns.JobRun)
        .where(jobruns.JobRun.kind == "oversight.report")
        .order_by(jobruns.JobRun.id.desc())
    )
    assert run.status == "succeeded", run.error
    assert json.loads(run.result)["report"]["quarter"] == 4
    xlsx = deputy.get(f"/jobs/{run.id}/result")
    book = load_workbook(io.BytesIO(xlsx.data), read_only=True)
    assert book.sheetnames == [key for key, _t, _c in SECTIONS]
    rows = list(book["lines"].iter_rows(values_only=True))
    assert unit.name_kk in rows[0][0] and unit.name_ru in rows[1][0]
    assert rows[2][0] == translated(app, "Jurisdiction", "kk")
    assert rows[3][0] == translated(app, "Jurisdiction", "ru")
    assert any(len(r) > 7 and r[7] == 1_000_000 for r in rows)  # available, in tenge

    ru = deputy.get(f"/oversight/reports/{run.id}?lang=ru")
    assert ru.status_code == 200 and unit.name_ru in ru.text
    assert deputy.get(f"/oversight/reports/{run.id}?lang=kk").status_code == 200
    other = app.test_client()
    login(other, "finance@demo.kz")
    assert other.get(f"/oversight/reports/{run.id}").status_code == 404  # the requester's only
    volunteer = app.test_client()
    login(volunteer, "volunteer@demo.kz")
    assert volunteer.get("/oversight/reports").status_code == 403
