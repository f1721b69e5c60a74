"""Working days: weekends, holidays, transfers, counting, and the bundled holiday calendar."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date
from importlib import resources

import pytest

from core.calendar_rules import add_working_days, is_working_day


def csv_rows() -> list[dict[str, str]]:
    text = resources.files("core").joinpath("data/holidays.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


HOLIDAYS = {date.fromisoformat(r["date"]) for r in csv_rows() if r["kind"] == "holiday"}
TRANSFERS = {date.fromisoformat(r["date"]): r["kind"] for r in csv_rows() if r["kind"] != "holiday"}


def working(day: date) -> bool:
    return is_working_day(day, HOLIDAYS, TRANSFERS)


def test_is_working_day_plain_week():
    assert is_working_day(date(2026, 4, 15), set(), {})  # Wednesday
    assert not is_working_day(date(2026, 4, 18), set(), {})  # Saturday
    assert not is_working_day(date(2026, 4, 19), set(), {})  # Sunday


def test_is_working_day_holiday_on_a_weekday_is_off():
    assert not is_working_day(date(2026, 4, 15), {date(2026, 4, 15)}, {})


def test_is_working_day_transferred_working_saturday():
    # 1 July 2023 was made a working Saturday for the Capital Day weekend.
    transfers = {date(2023, 7, 1): "working", date(2023, 7, 7): "day_off"}
    assert is_working_day(date(2023, 7, 1), set(), transfers)
    assert not is_working_day(date(2023, 7, 7), set(), transfers)


def test_is_working_day_holiday_beats_working_transfer():
    day = date(2023, 7, 1)
    assert not is_working_day(day, {day}, {day: "working"})


def test_is_working_day_2025_new_year_transfer():
    assert not working(date(2025, 1, 3))  # Friday, the day off moved from Sunday 5 January
    assert working(date(2025, 1, 5))  # Sunday made working


def test_is_working_day_holiday_on_weekend_gives_next_monday_off():
    assert not working(date(2026, 3, 8))  # Women's Day, Sunday
    assert not working(date(2026, 3, 9))
    assert working(date(2026, 3, 10))
    assert not working(date(2025, 10, 27))  # Republic Day 2025 was a Saturday
    assert not working(date(2027, 1, 4))  # 2 January 2027 is a Saturday


def test_is_working_day_religious_holiday_on_weekend_is_not_moved():
    # First day of Kurban Ait 2027 (estimated) is a Sunday; Monday stays a working day.
    assert date(2027, 5, 16) in HOLIDAYS
    assert working(date(2027, 5, 17))


def test_add_working_days_skips_weekend():
    assert add_working_days(date(2026, 4, 17), 1, set(), {}) == date(2026, 4, 20)


def test_add_working_days_does_not_count_start():
    assert add_working_days(date(2026, 4, 13), 1, set(), {}) == date(2026, 4, 14)
    assert add_working_days(date(2026, 4, 18), 1, set(), {}) == date(2026, 4, 20)


def test_add_working_days_across_nauryz_2026():
    # 21–25 March 2026 are all days off: Nauryz on Sat–Mon, then Tue and Wed in lieu.
    assert add_working_days(date(2026, 3, 19), 1, HOLIDAYS, TRANSFERS) == date(2026, 3, 20)
    assert add_working_days(date(2026, 3, 20), 1, HOLIDAYS, TRANSFERS) == date(2026, 3, 26)
    assert add_working_days(date(2026, 3, 20), 3, HOLIDAYS, TRANSFERS) == date(2026, 3, 30)
    assert add_working_days(date(2026, 3, 16), 10, HOLIDAYS, TRANSFERS) == date(2026, 4, 2)


def test_add_working_days_counts_working_sunday():
    assert add_working_days(date(2025, 1, 2), 1, HOLIDAYS, TRANSFERS) == date(2025, 1, 5)


@pytest.mark.parametrize("n", [0, -1])
def test_add_working_days_rejects_n_below_1(n):
    with pytest.raises(ValueError):
        add_working_days(date(2026, 1, 5), n, set(), {})


def test_holidays_csv_has_15_holidays_a_year_for_2025_to_2027():
    per_year = Counter(int(r["date"][:4]) for r in csv_rows() if r["kind"] == "holiday")
    assert per_year == {2025: 15, 2026: 15, 2027: 15}


def test_holidays_csv_transfers_fall_on_the_right_weekdays():
    rows = csv_rows()
    assert all(r["name_kk"] and r["name_ru"] and r["source"] for r in rows)
    for r in rows:
        weekday = date.fromisoformat(r["date"]).weekday()
        if r["kind"] == "day_off":
            assert weekday < 5, r
        elif r["kind"] == "working":
            assert weekday >= 5, r
    assert len({r["date"] for r in rows}) == len(rows)
