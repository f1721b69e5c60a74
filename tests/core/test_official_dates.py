"""Official long dates in Kazakh, Russian and English documents, for every month."""

from __future__ import annotations

import datetime as dt

import pytest

from core.official_dates import official_date

KK_LOCATIVE = [
    "қаңтардағы",
    "ақпандағы",
    "наурыздағы",
    "сәуірдегі",
    "мамырдағы",
    "маусымдағы",
    "шілдедегі",
    "тамыздағы",
    "қыркүйектегі",
    "қазандағы",
    "қарашадағы",
    "желтоқсандағы",
]
KK_NOMINATIVE = [
    "қаңтар",
    "ақпан",
    "наурыз",
    "сәуір",
    "мамыр",
    "маусым",
    "шілде",
    "тамыз",
    "қыркүйек",
    "қазан",
    "қараша",
    "желтоқсан",
]
RU = [
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
]
EN = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


@pytest.mark.parametrize("month", range(1, 13))
def test_official_date_every_month_in_every_language(month):
    day = dt.date(2026, month, 16)
    assert official_date(day, "kk") == f"2026 жылғы 16 {KK_LOCATIVE[month - 1]}"
    assert (
        official_date(day, "kk", form="nominative") == f"2026 жылғы 16 {KK_NOMINATIVE[month - 1]}"
    )
    assert official_date(day, "ru") == f"16 {RU[month - 1]} 2026 года"
    assert official_date(day, "en") == f"16 {EN[month - 1]} 2026"


def test_official_date_the_examples_of_the_issue():
    day = dt.date(2026, 11, 16)
    assert official_date(day, "kk") == "2026 жылғы 16 қарашадағы"
    assert official_date(day, "kk", form="nominative") == "2026 жылғы 16 қараша"
    assert official_date(day, "ru") == "16 ноября 2026 года"
    # Never the abbreviated medium date ("16 нояб. 2026 г."), never a leading zero.
    assert official_date(dt.date(2026, 3, 2), "ru") == "2 марта 2026 года"
    assert official_date(dt.datetime(2026, 3, 2, 23, 0), "en") == "2 March 2026"


def test_official_date_refuses_what_it_cannot_write():
    with pytest.raises(ValueError):
        official_date(dt.date(2026, 1, 1), "de")
    with pytest.raises(ValueError):
        official_date(dt.date(2026, 1, 1), "kk", form="genitive")
