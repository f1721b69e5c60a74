"""Numbers, percents, durations and dates in sentences, per the reader's language.

Every figure a page shows goes through Babel or through here, never through ``str()`` of a
float: Kazakh and Russian write ``0,1 %`` (a decimal comma and a non-breaking space before the
sign), English ``0.1%``. A duration is ``h:mm`` in every language (``3:25``, three hours and
twenty-five minutes: ``portal.i18n.hours_minutes``), a budget program's code ``03-1-252-003``
(``budget.appropriations.code_of``), and a date inside a translated sentence the reader's,
never ISO.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import re
from collections.abc import Mapping
from decimal import Decimal

from babel.numbers import format_decimal

from portal.i18n import hours_minutes, language, local_date

__all__ = ["decimal", "hours_of", "localized_params", "percent"]

# The sign after a percent figure, by language: the state standards of Kazakhstan and Russia
# put a (non-breaking) space before it; CLDR's Kazakh data has none, so it is set here.
_PERCENT_SIGN = {"kk": "\u00a0%", "ru": "\u00a0%", "en": "%"}
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def decimal(value, digits: int = 1) -> str:
    """Format a number with at most ``digits`` decimals in the reader's language (``3,5``)."""
    if value is None:
        return "—"
    return _formatted(str(value), digits, language())


@functools.lru_cache(maxsize=4096)
def _formatted(value: str, digits: int, locale: str) -> str:
    # Kept by value and language: a dashboard shows 130 percents, mostly the same few (0, 100),
    # and Babel parses its pattern again on every call (issue 16).
    pattern = "#,##0" + ("." + "#" * digits if digits > 0 else "")
    return format_decimal(Decimal(value), format=pattern, locale=locale)


def percent(value, digits: int = 1) -> str:
    """Format a figure already in percent (``0.1`` → ``0,1 %`` in kk and ru, ``0.1%`` in en)."""
    if value is None:
        return "—"
    locale = language()
    return decimal(value, digits) + _PERCENT_SIGN.get(locale, "%")


def hours_of(value) -> str:
    """Format a duration in (fractional) hours as ``h:mm`` (3.41667 → ``3:25``)."""
    return "" if value is None else hours_minutes(round(float(value) * 60))


def localized_params(params: Mapping) -> dict:
    """Return a sentence's parameters with dates (or ISO dates) in the reader's language.

    Domain messages and stored results (red flags) carry dates as ``date`` objects or ISO
    text; a translated sentence shows them as the reader writes dates.
    """
    shown = {}
    for key, value in params.items():
        if isinstance(value, str) and _ISO_DAY.match(value):
            with contextlib.suppress(ValueError):  # 2026-02-30: left as written
                value = local_date(dt.date.fromisoformat(value))
        elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            value = local_date(value)
        shown[key] = value
    return shown
