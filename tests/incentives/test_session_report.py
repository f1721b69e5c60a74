"""The report to the maslikhat's session: figures, the job, the workbook, the printable page."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from core import jobruns, places
from core.errors import DomainError
from core.scope import Scope
from incentives import session_report
from portal.oversight.report_book import SECTIONS
from tests.conftest import login_as, translated, wait_for_jobs
from tests.factories import commission as ch


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
    login_as(deputy, "deputy@demo.kz")
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
    login_as(other, "finance@demo.kz")
    assert other.get(f"/oversight/reports/{run.id}").status_code == 404  # the requester's only
    volunteer = app.test_client()
    login_as(volunteer, "volunteer@demo.kz")
    assert volunteer.get("/oversight/reports").status_code == 403


def test_session_report_totals_equal_the_dashboard_frames(session):
    from budget import reports as budget_reports
    from budget.models import LedgerEntry
    from incentives import reports as reward_reports
    from incentives.models import Payout
    from tests.factories.oversight import paid_reward

    w = paid_reward(session)
    paid_at = dt.datetime(2026, 10, 21, 6, 0, tzinfo=dt.UTC)  # pinned inside Q4 2026
    session.get(Payout, w.payout.id).recorded_at = paid_at
    for entry in session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "disburse")):
        entry.at = paid_at
    session.commit()
    unit = places.by_kato(session, ch.DISTRICT)
    scope = Scope.within([unit.id])
    lines = budget_reports.execution_by_line(session, scope=scope, year=2026)
    totals = budget_reports.totals(lines)
    quarters = budget_reports.disbursed_by_quarter(session, scope=scope, year=2026)
    forms = reward_reports.rewards_by_form(session, scope=scope, year=2026)
    summary = reward_reports.reward_summary(session, scope=scope, year=2026)
    assert summary["paid_tiyn"] > 0

    for quarter in (None, 4):
        report = session_report.build(session, unit_id=unit.id, year=2026, quarter=quarter)
        for column in ("approved_tiyn", "committed_tiyn", "disbursed_tiyn", "available_tiyn"):
            assert sum(r[column] for r in report["lines"]) == totals[column]
        spent = (
            quarters["disbursed_tiyn"].sum()
            if quarter is None
            else (quarters.set_index("quarter").loc[quarter, "disbursed_tiyn"])
        )
        assert (
            sum(r["spent_in_period_tiyn"] for r in report["lines"])
            == spent
            == totals["disbursed_tiyn"]
        )
        people = report["people"]
        assert people["people"] == summary["people"]
        assert people["rewards"] == summary["rewards"]
        assert people["amount_tiyn"] == summary["paid_tiyn"]
        assert people["average_tiyn"] == summary["average_per_person_tiyn"]
        assert sum(r["amount_tiyn"] for r in report["districts"]) == summary["paid_tiyn"]
        by_form = {r["form"]: (r["rewards"], r["amount_tiyn"]) for r in report["forms"]}
        expected = {
            f: (int(r["rewards"]), int(r["paid_tiyn"]))
            for f, r in forms.set_index("form").iterrows()
            if r["rewards"]
        }
        assert by_form == expected

    earlier = session_report.build(session, unit_id=unit.id, year=2026, quarter=3)
    assert earlier["people"]["rewards"] == 0 and earlier["forms"] == []
    assert sum(r["spent_in_period_tiyn"] for r in earlier["lines"]) == 0
