"""Official long dates as Kazakh and Russian documents write them ("2026 жылғы 16 қарашадағы")."""

from __future__ import annotations

import datetime as dt

# Kazakh months after the day: the locative-adjectival form ("16 қарашадағы" — "of 16 November")
# heads a noun ("… шешімі"); the plain form stands alone.
_KK_LOCATIVE = (
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
)
_KK_NOMINATIVE = (
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
)
# Russian months in the genitive: "16 ноября 2026 года".
_RU_GENITIVE = (
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
)
_EN = (
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
)
FORMS = ("locative", "nominative")


def official_date(day: dt.date, language: str, form: str = "locative") -> str:
    """Write ``day`` in full as an official document in ``language`` (kk, ru or en) does.

    ``form`` matters in Kazakh only: "locative" (the default) for a date that qualifies what
    follows it ("2026 жылғы 16 қарашадағы"), "nominative" for one that stands alone.
    """
    if form not in FORMS:
        raise ValueError(f"unknown form {form!r}")
    if isinstance(day, dt.datetime):
        day = day.date()
    month = day.month - 1
    if language == "kk":
        names = _KK_LOCATIVE if form == "locative" else _KK_NOMINATIVE
        return f"{day.year} жылғы {day.day} {names[month]}"
    if language == "ru":
        return f"{day.day} {_RU_GENITIVE[month]} {day.year} года"
    if language == "en":
        return f"{day.day} {_EN[month]} {day.year}"
    raise ValueError(f"no official dates in {language!r}")
