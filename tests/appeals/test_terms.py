"""APPK terms: working days across holidays and transfers, registration after hours, months."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from appeals import terms
from core import calendar

ALMATY = ZoneInfo("Asia/Almaty")
THU, FRI, SAT, SUN, MON, TUE, WED = (dt.date(2026, 6, d) for d in range(11, 18))


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ALMATY).astimezone(dt.UTC)


def _holiday(session, day):
    calendar.set_day(session, day=day, kind="holiday", name_kk="Мереке", name_ru="Праздник")


def _working(session, day):
    calendar.set_day(session, day=day, kind="working", name_kk="Жұмыс күні", name_ru="Рабочий день")


def test_plain_week_counts_weekdays_only(app, session):
    assert terms.working_day_after(session, THU, 2) == MON
    assert terms.working_day_after(session, THU, 3) == TUE
    assert terms.is_working_day(session, FRI) and not terms.is_working_day(session, SAT)


def test_a_holiday_is_skipped_and_a_transferred_working_day_counts(app, session):
    _holiday(session, FRI)
    assert not terms.is_working_day(session, FRI)
    assert terms.working_day_after(session, THU, 2) == TUE
    _working(session, SAT)
    assert terms.is_working_day(session, SAT)
    assert terms.working_day_after(session, THU, 2) == MON  # Saturday counts, Friday does not
    assert terms.working_day_after(session, THU, 1) == SAT


def test_bundled_holidays_move_a_term(app, session):
    # 16 December 2026 (Independence Day) is a Wednesday holiday.
    assert terms.working_day_after(session, dt.date(2026, 12, 15), 1) == dt.date(2026, 12, 17)
    assert terms.on_or_after(session, dt.date(2026, 12, 16)) == dt.date(2026, 12, 17)
    assert terms.on_or_after(session, dt.date(2026, 12, 15)) == dt.date(2026, 12, 15)


@pytest.mark.parametrize(
    ("moment", "registered"),
    [
        (at(THU, 8, 30), THU),  # before the office opens: that day
        (at(THU, 17, 59), THU),
        (at(THU, 18, 0), FRI),  # after hours: the next working day
        (at(SAT, 11, 0), MON),  # a day off
        (at(SUN, 23, 59), MON),
    ],
)
def test_registration_day_after_hours_and_on_days_off(app, session, moment, registered):
    assert terms.registration_day(session, moment) == registered


def test_registration_day_on_a_holiday_and_on_a_transferred_working_day(app, session):
    _holiday(session, FRI)
    assert terms.registration_day(session, at(THU, 18, 30)) == MON
    assert terms.registration_day(session, at(FRI, 10, 0)) == MON
    _working(session, SAT)
    assert terms.registration_day(session, at(SAT, 10, 0)) == SAT
    assert terms.registration_day(session, at(THU, 18, 30)) == SAT


def test_registration_day_uses_local_time_not_utc(app, session):
    # 13:30 UTC is 18:30 in Almaty (UTC+5): after hours there although before 18:00 UTC.
    assert terms.registration_day(session, dt.datetime(2026, 6, 11, 13, 30, tzinfo=dt.UTC)) == FRI


def test_month_terms_end_on_the_same_day_or_the_month_end_moved_off_days_off(app, session):
    assert terms.add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert terms.add_months(dt.date(2026, 11, 30), 3) == dt.date(2027, 2, 28)
    assert terms.add_months(dt.date(2026, 3, 16), 3) == dt.date(2026, 6, 16)
    # 3 months from 13 March 2026 end on Saturday 13 June: the term ends on Monday 15 June.
    assert terms.months_term_ends(session, dt.date(2026, 3, 13), 3) == MON
    # 6 months from 16 June end on Wednesday 16 December, a holiday: the 17th.
    assert terms.months_term_ends(session, dt.date(2026, 6, 16), 6) == dt.date(2026, 12, 17)


def test_terms_are_the_codes(app):
    assert (terms.OBJECTION_WD, terms.NOTICE_BEFORE_ACT_WD, terms.REMARKS_WD) == (2, 3, 3)
    assert (terms.FORWARD_WD, terms.REVIEW_WD) == (3, 20)
    assert (terms.COMPLAINT_MONTHS, terms.COMPLAINT_MONTHS_NO_NOTICE) == (3, 6)
    assert terms.WORK_STARTS < terms.WORK_ENDS
