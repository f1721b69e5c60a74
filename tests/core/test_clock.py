"""One clock: every date and deadline is taken in Asia/Almaty, whatever the server's time zone.

The deadline tests run on a server kept in UTC at 00:30 in Almaty (19:30 UTC of the day before),
when the server's own date is still yesterday.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from core import calendar, clock
from incentives import inquiries
from incentives.inquiry_models import Inquiry
from incentives.sober_models import IndicatorValue
from tests.conftest import login_as
from tests.factories import commission as ch
from tests.factories.volunteers import fields, iin_for, latest_application, unit, user
from volunteers import enrolment

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "volunteers", "budget", "incentives", "sober", "portal", "demo")
FORBIDDEN = re.compile(r"\bdate\.today\b|\bdatetime\.(now|utcnow|today)\(")
# 00:30 on Friday 20 March 2026 in Almaty; the server's (UTC) date is Thursday the 19th.
LATE_THURSDAY = dt.datetime(2026, 3, 19, 19, 30, tzinfo=dt.UTC)
ALMATY_FRIDAY = dt.date(2026, 3, 20)
# 00:30 on 1 January 2027 in Almaty; the server's (UTC) date is still 31 December 2026.
NEW_YEARS_EVE = dt.datetime(2026, 12, 31, 19, 30, tzinfo=dt.UTC)


def test_no_module_reads_the_servers_date_or_a_naive_now():
    offenders = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == ROOT / "core" / "clock.py":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if FORBIDDEN.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == [], "use core.clock.today() / now():\n" + "\n".join(offenders)


@pytest.fixture
def utc_server(app, monkeypatch):
    """Keep the process in UTC, as a server usually is (after the app and its data exist)."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield monkeypatch
    if old is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = old
    time.tzset()


def freeze(monkeypatch, moment: dt.datetime) -> None:
    monkeypatch.setattr(clock, "now", lambda: moment)
    assert clock.today() == clock.local_date(moment)


def test_clock_gives_the_almaty_date_at_half_past_midnight(utc_server):
    freeze(utc_server, LATE_THURSDAY)
    assert dt.date.fromtimestamp(LATE_THURSDAY.timestamp()) == dt.date(2026, 3, 19)  # the server
    assert clock.today() == ALMATY_FRIDAY
    from core.db import utcnow

    assert utcnow() == LATE_THURSDAY  # column defaults and domain "now" read the same clock


def test_application_deadlines_count_from_the_almaty_date(app, session, utc_server):
    freeze(utc_server, LATE_THURSDAY)
    coordinator = user(session, "coordinator@demo.kz")
    registrar = user(session, "registrar@demo.kz")
    application = enrolment.submit_application(
        session, **fields(session, iin=iin_for(7301), today=None)
    )
    # The police check: 30 calendar days from the (Almaty) day of submission.
    assert application.police_due_on == ALMATY_FRIDAY + dt.timedelta(days=30)
    enrolment.take_check(session, application_id=application.id, actor_id=coordinator.id)
    enrolment.record_check(
        session, application_id=application.id, passed=True, reason=None, actor_id=coordinator.id
    )
    enrolment.petition(session, application_id=application.id, actor_id=coordinator.id)
    # Registration: 7 working days from the petition, counted from Friday, not Thursday.
    due = calendar.add_working_days(session, ALMATY_FRIDAY, enrolment.REGISTRATION_WORKING_DAYS)
    assert due != calendar.add_working_days(
        session, dt.date(2026, 3, 19), enrolment.REGISTRATION_WORKING_DAYS
    )
    assert application.registration_due_on == due
    member = enrolment.register_applicant(
        session, application_id=application.id, actor_id=registrar.id
    )
    assert member.issued_on == ALMATY_FRIDAY
    session.rollback()


def test_police_check_is_overdue_on_the_almaty_date(app, session, utc_server):
    # One check was due on the server's date (yesterday in Almaty), one on the Almaty date.
    for serial, name, due in (
        (7311, "Мерзімі Өткен", dt.date(2026, 3, 19)),
        (7312, "Мерзімі Бүгін", ALMATY_FRIDAY),
    ):
        application = enrolment.submit_application(
            session, **fields(session, iin=iin_for(serial), full_name=name)
        )
        application.police_due_on = due  # as if submitted 30 days before
    session.commit()
    freeze(utc_server, LATE_THURSDAY)
    client = app.test_client()
    login_as(client, "coordinator@demo.kz")
    overdue = client.get("/volunteers/applications?due=overdue")
    assert overdue.status_code == 200
    assert "Мерзімі Өткен" in overdue.text  # its last day was yesterday in Almaty
    assert "Мерзімі Бүгін" not in overdue.text  # today is still its last day
    page = client.get(f"/volunteers/applications/{latest_application(session, iin_for(7311)).id}")
    assert 'class="badge text-bg-danger"' in page.text


def test_inquiry_answer_deadline_counts_from_the_almaty_date(app, session, utc_server):
    district = unit(session, ch.DISTRICT)
    line_id = ch.funded_line(session, 1_000_000, district.id)
    session.commit()
    client = app.test_client()
    login_as(client, "deputy@demo.kz")
    freeze(utc_server, LATE_THURSDAY)
    asked = client.post(
        "/oversight/inquiries",
        data={"object_type": "budget_line", "object_id": line_id, "text": "Неге?"},
    )
    assert asked.status_code == 302
    session.rollback()
    inquiry = session.scalar(select(Inquiry).order_by(Inquiry.id.desc()))
    assert inquiry.deadline == calendar.add_working_days(
        session, ALMATY_FRIDAY, inquiries.ANSWER_WORKING_DAYS
    )
    assert clock.local_date(inquiry.created_at) == ALMATY_FRIDAY


def test_the_new_year_and_quarter_begin_at_midnight_in_almaty(app, session, utc_server):
    admin = app.test_client()
    login_as(admin, "admin@demo.kz")
    coordinator = app.test_client()
    login_as(coordinator, "coordinator@demo.kz")
    freeze(utc_server, NEW_YEARS_EVE)
    # The calendar page opens on the current year.
    calendar_page = admin.get("/admin/calendar")
    assert calendar_page.status_code == 200
    assert re.search(r"<h1[^>]*>[^<]*2027</h1>", calendar_page.text)
    # The new quarter has begun: a figure for Q1 2027 is not one "for a future quarter".
    recorded = coordinator.post(
        "/sober/indicators/new",
        data={
            "unit_id": str(unit(session, "354030100").id),
            "kind": "alcohol_crimes",
            "year": "2027",
            "quarter": "1",
            "value": "3",
        },
    )
    assert recorded.status_code == 302, recorded.text
    session.rollback()
    assert (
        session.scalar(
            select(IndicatorValue.value).where(
                IndicatorValue.year == 2027, IndicatorValue.quarter == 1
            )
        )
        == 3
    )
    # The form proposes the quarter that has just ended: Q4 2026.
    form = coordinator.get("/sober/indicators/new").text
    assert re.search(r'name="year"[^>]*value="2026"', form)
    assert re.search(r'<option[^>]*selected[^>]*value="4"|<option[^>]*value="4"[^>]*selected', form)
