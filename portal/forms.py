"""Form pieces shared by several screen areas."""

import datetime as dt
import math
import re

import wtforms
from flask_wtf import FlaskForm
from werkzeug.routing import IntegerConverter
from wtforms import SelectChoice

from core import queries
from core.scope import Scope
from portal.extensions import db
from portal.i18n import LANGUAGES, unit_name

LANGUAGE_CHOICES = [SelectChoice(code, label) for code, label in LANGUAGES.items()]


class ConfirmForm(FlaskForm):
    """A form with only the CSRF token, for action buttons."""


def unit_choices(scope: Scope, levels: tuple[str, ...] | None = None) -> list[SelectChoice]:
    """Return the units in ``scope`` as an indented list, tree order."""
    units = db.session.scalars(queries.units(scope, levels)).all()
    top = min((u.path.count("/") for u in units), default=0)
    return [
        SelectChoice(u.id, "\u2003" * (u.path.count("/") - top) + f"{unit_name(u)} ({u.kato})")
        for u in units
    ]


# The range of an INTEGER column (PostgreSQL int4). Fuzzing (S13) found that a bigger number
# typed into a form or a URL reached a 500: WTForms' NumberRange raised OverflowError on it,
# SQLite cannot bind it, PostgreSQL refuses it as out of range.
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
_ASCII_INT = re.compile(r"[+-]?[0-9]{1,10}")
# WTForms' own messages for these fields, translated by its catalogs (``field.gettext``); kept
# in names so that the portal's extraction does not take them for msgids of its own.
_NOT_INTEGER = "Not a valid integer value."
_NOT_DECIMAL = "Not a valid decimal value."
_NOT_FLOAT = "Not a valid float value."


class IdConverter(IntegerConverter):
    """The ``int`` of URL rules, at most ``INT_MAX``: a bigger id answers 404, not a 500."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=INT_MAX, signed=False):
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class IntegerField(wtforms.IntegerField):
    """WTForms' IntegerField that refuses numbers outside ``INT_MIN``..``INT_MAX``."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not INT_MIN <= self.data <= INT_MAX:
            self.data = None
            raise ValueError(self.gettext(_NOT_INTEGER))


class DecimalField(wtforms.DecimalField):
    """WTForms' DecimalField that refuses NaN and infinities.

    Fuzzing (S13) found "sNaN" a 500: NumberRange cannot compare a signalling NaN.
    """

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not self.data.is_finite():
            self.data = None
            raise ValueError(self.gettext(_NOT_DECIMAL))


class FloatField(wtforms.FloatField):
    """WTForms' FloatField that refuses NaN and infinities (no coordinate or amount is one)."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not math.isfinite(self.data):
            self.data = None
            raise ValueError(self.gettext(_NOT_FLOAT))


def arg_int(text: str) -> int:
    """Parse a number of a query string or a raw form field; for ``MultiDict.get(type=...)``.

    Only ASCII digits within an INTEGER column's range; anything else raises ValueError, so
    that ``request.args.get(name, default, type=arg_int)`` falls back to ``default``.
    """
    text = (text or "").strip()
    if not _ASCII_INT.fullmatch(text):
        raise ValueError(text)
    value = int(text)
    if not INT_MIN <= value <= INT_MAX:
        raise ValueError(text)
    return value


def arg_date(text: str) -> dt.date:
    """Parse a YYYY-MM-DD date of a query string; for ``MultiDict.get(type=...)``.

    The first and the last year Python knows are refused with ValueError: a day's bounds in
    local time fall outside them (0001-01-01 and 9999-12-31 were 500s found by fuzzing, S13).
    """
    day = dt.date.fromisoformat((text or "").strip())
    if not dt.MINYEAR < day.year < dt.MAXYEAR:
        raise ValueError(text)
    return day


def arg_ints(values) -> list[int]:
    """Parse a list of ids of checkboxes (``getlist``); drop what is not one."""
    found = []
    for value in values:
        try:
            found.append(arg_int(value))
        except ValueError:
            continue
    return found
