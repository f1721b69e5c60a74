"""Locale choice (user, session, browser, Kazakh by default) and the language helpers."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping

from babel import Locale
from babel.dates import parse_pattern
from babel.numbers import format_decimal
from flask import Flask, g, session
from flask_babel import (
    format_date,
    format_datetime,
    get_locale,
    get_timezone,
    get_translations,
    gettext,
)
from flask_babel.speaklater import LazyString
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup

from core import bilingual
from core.doc_numbers import numbered
from core.iin import mask_iin
from core.money import format_tiyn
from core.official_dates import official_date
from portal.labels import WORKFLOW_STATE_LABELS

LANGUAGES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}
DEFAULT = "kk"


def select_locale() -> str:
    """Pick the language: the user's choice, then the session's, then the browser's, then kk."""
    from flask import request

    if request.path.startswith("/api/") and request.headers.get("Accept-Language"):
        # An API caller says the language of each answer (problem details are translated).
        chosen = request.accept_languages.best_match(list(LANGUAGES))
        if chosen:
            return chosen
    if current_user and current_user.is_authenticated:
        return current_user.preferred_language
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT


def normalize(code: str | None) -> str:
    """Return a known language code, falling back to the default for unknown ones."""
    return code if code in LANGUAGES else DEFAULT


def translate_error(exc) -> str:
    """Translate a DomainError's msgid and substitute its parameters.

    A workflow's state (the 409 of a step another request took first) is shown by its label.
    """
    params = exc.params
    states = WORKFLOW_STATE_LABELS.get(getattr(exc, "workflow", ""))
    if states and params.get("state") in states:
        params = {**params, "state": str(states[params["state"]])}
    from portal.formatting import localized_params

    return gettext(exc.message, **localized_params(params))


def language() -> str:
    """Return the current language's code (``kk``, ``ru`` or ``en``; the default outside a
    request), worked out once per request and language.

    ``str(get_locale())`` walks Flask-Babel's context four times and has Babel write the code
    anew; a list names, dates and counts in it a hundred times or more (issue 16). The code is
    kept beside the locale object it was found for, as ``_translations`` keeps the catalogue.
    """
    store = g._get_current_object() if g else None
    locale = getattr(getattr(store, "_flask_babel", None), "babel_locale", None)
    cached = getattr(store, "_portal_language", None)
    if cached is not None and locale is not None and cached[0] is locale:
        return cached[1]
    locale = get_locale()
    if locale is None:
        return DEFAULT
    store._portal_language = (locale, str(locale))
    return store._portal_language[1]


def unit_name(unit) -> str:
    """Return an administrative unit's name in the current language."""
    return unit.name(language())


def document_date(value, form: str = "nominative") -> str:
    """Write a date in full, as official documents in the current language do."""
    if not value:
        return ""
    return official_date(value, normalize(language()), form=form)


def local_name(record, field: str = "name") -> str:
    """Return a bilingual record's ``<field>_kk`` or ``<field>_ru`` for the current language."""
    return bilingual.in_language(record, field, language())


# CLDR pattern fields the fast formatter knows, as functions of (value, locale); a pattern
# with any other field is left to Babel.
_FIELDS = {
    "d": lambda v, _l: str(v.day),
    "dd": lambda v, _l: f"{v.day:02d}",
    "M": lambda v, _l: str(v.month),
    "MM": lambda v, _l: f"{v.month:02d}",
    "MMM": lambda v, loc: loc.months["format"]["abbreviated"][v.month],
    "MMMM": lambda v, loc: loc.months["format"]["wide"][v.month],
    "y": lambda v, _l: str(v.year),
    "yy": lambda v, _l: f"{v.year % 100:02d}",
    "yyyy": lambda v, _l: f"{v.year:04d}",
    "H": lambda v, _l: str(v.hour),
    "HH": lambda v, _l: f"{v.hour:02d}",
    "h": lambda v, _l: str(v.hour % 12 or 12),
    "hh": lambda v, _l: f"{v.hour % 12 or 12:02d}",
    "mm": lambda v, _l: f"{v.minute:02d}",
    "ss": lambda v, _l: f"{v.second:02d}",
    "a": lambda v, loc: loc.day_periods["format"]["abbreviated"]["pm" if v.hour >= 12 else "am"],
}
_FIELD_RE = re.compile(r"%\((\w+)\)s")


def _compiled(locale: Locale, pattern: str):
    """Return (format string, [(field, function)]) for a CLDR pattern, or None if unknown."""
    fmt = parse_pattern(pattern).format
    fields = _FIELD_RE.findall(fmt)
    if not all(f in _FIELDS for f in fields):
        return None
    return fmt, [(f, _FIELDS[f]) for f in dict.fromkeys(fields)]


@functools.lru_cache(maxsize=32)
def _formatter(locale_id: str, width: str, with_time: bool):
    """Compile a locale's date (and time) format once; Babel parses it again for every value.

    Lists format a timestamp or two per row, and Babel's formatter took a third of a list
    page's CPU (issue 16). The output is Babel's, field for field.
    """
    locale = Locale.parse(locale_id)
    date = _compiled(locale, locale.date_formats[width].pattern)
    time_ = _compiled(locale, locale.time_formats[width].pattern) if with_time else None
    if date is None or (with_time and time_ is None):
        return None
    joined = str(locale.datetime_formats[width]).replace("'", "") if with_time else None

    def render(part, value) -> str:
        fmt, fields = part
        return fmt % {name: field(value, locale) for name, field in fields}

    def format_value(value) -> str:
        if not with_time:
            return render(date, value)
        return joined.replace("{0}", render(time_, value)).replace("{1}", render(date, value))

    return format_value


def local_time(value) -> str:
    """Format an aware UTC timestamp in Almaty time for the current language."""
    if not value:
        return ""
    fast = _formatter(language(), "short", True)
    if fast is None:
        return format_datetime(value, "short")
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return fast(value.astimezone(get_timezone()))


def local_date(value) -> str:
    """Format a date for the current language."""
    if not value:
        return ""
    fast = _formatter(language(), "medium", False)
    if fast is None:
        return format_date(value, "medium")
    return fast(value.date() if isinstance(value, dt.datetime) else value)


def local_dates(days) -> dict:
    """Return each distinct date of ``days`` formatted once (``local_date``), by date: a list of
    50 rows falls on a few days, and formatting per row was a visible share of its page."""
    return {day: local_date(day) for day in set(days)}


def money(amount_tiyn: int | None) -> str:
    """Format tiyn as ``1 234 567,00 ₸`` with non-breaking spaces (the same in kk, ru and en)."""
    return "" if amount_tiyn is None else format_tiyn(amount_tiyn)


def number(value) -> str:
    """Format a count or decimal by the current language's rules (grouping, decimal comma)."""
    if value is None:
        return ""
    if type(value) is int and 0 <= value < 1000:
        # Below a thousand there is nothing to group and kk, ru and en write Latin digits: the
        # figure is its own text. Babel (with the locale looked up) costs 8 µs a call, and a
        # list writes a count or a duration per row.
        return str(value)
    return format_decimal(value, locale=get_locale())


def hours_minutes(minutes: int | None) -> str:
    """Format a duration in minutes as ``h:mm`` (``3:25``), never as a fraction of hours."""
    if minutes is None:
        return ""
    hours, rest = divmod(int(minutes), 60)
    return f"{number(hours)}:{rest:02d}"


def _translations():
    """Return the current language's catalogue, looked up once per request and language.

    Flask-Babel looks it up again for every string (four context look-ups each), and a page
    translates dozens. The catalogue is kept beside the locale object it was found for, so a
    language forced or refreshed during the request gets its own.
    """
    store = g._get_current_object()
    locale = getattr(getattr(store, "_flask_babel", None), "babel_locale", None)
    cached = getattr(store, "_portal_translations", None)
    if cached is not None and cached[0] is locale:
        return cached[1]
    translations = get_translations()
    store._portal_translations = (store._flask_babel.babel_locale, translations)
    return translations


_ESCAPED = re.compile(r"[&<>\"']")  # what autoescaping rewrites


class TranslatedLabels(Mapping):
    """A table of ``lazy_gettext`` labels that templates read through the request's catalogue.

    A lazy string asks Flask-Babel for the catalogue each time it is shown (four context
    look-ups); a list shows a label or more per row. A lazy string renders unescaped, so a
    translation that escaping would change is handed over as the lazy string itself: the
    page's bytes are the same either way.
    """

    __slots__ = ("_table",)

    def __init__(self, table: Mapping):
        self._table = table

    def __getitem__(self, key):
        value = self._table[key]
        if isinstance(value, LazyString) and value._func is gettext and not value._kwargs:
            text = _translations().ugettext(*value._args)
            return value if _ESCAPED.search(text) else text
        return value

    def __iter__(self):
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)

    def __contains__(self, key) -> bool:
        return key in self._table


def translated(**tables: Mapping) -> dict[str, TranslatedLabels]:
    """Return label tables by name, each read through the request's catalogue (see above)."""
    return {name: TranslatedLabels(table) for name, table in tables.items()}


@pass_context
def _template_gettext(context, string: str, **variables) -> str:
    """Jinja's new-style ``_()`` and ``gettext()``, output for output, in one call instead of three.

    Jinja's own goes from ``_`` to ``gettext`` to the catalogue through the template context
    each time, and a page translates dozens of strings (issue 16). As Jinja's does, it escapes
    the variables and reads ``%%`` as ``%``; a text without ``%`` is the same unformatted.
    """
    text = _translations().ugettext(string)
    if context.eval_ctx.autoescape:
        # Our catalogue's text, marked safe as Jinja's own gettext marks it; Markup's % still
        # escapes the variables (tests/portal/test_i18n.py).
        text = Markup(text)  # noqa: S704  # nosec B704
    return text % variables if variables or "%" in text else text


def install(app: Flask) -> None:
    """Expose the language helpers and the code labels to templates."""
    from portal import labels

    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )
    app.jinja_env.globals.update(_=_template_gettext, gettext=_template_gettext)

    app.jinja_env.globals.update(
        LANGUAGES=LANGUAGES,
        get_locale=get_locale,
        unit_name=unit_name,
        local_name=local_name,
        mask_iin=mask_iin,
        **translated(
            ROLE_LABELS=labels.ROLE_LABELS,
            LEVEL_LABELS=labels.LEVEL_LABELS,
            JOB_STATUS_LABELS=labels.JOB_STATUS_LABELS,
            JOB_KIND_LABELS=labels.JOB_KIND_LABELS,
            AUDIT_ACTION_LABELS=labels.AUDIT_ACTION_LABELS,
            KIND_LABELS=labels.KIND_LABELS,
            APPLICATION_STATUS_LABELS=labels.APPLICATION_STATUS_LABELS,
            MEMBER_STATUS_LABELS=labels.MEMBER_STATUS_LABELS,
            SIGNUP_STATUS_LABELS=labels.SIGNUP_STATUS_LABELS,
            CONTRIBUTION_STATUS_LABELS=labels.CONTRIBUTION_STATUS_LABELS,
        ),
    )
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["local_date"] = local_date
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["numbered"] = numbered
    app.jinja_env.filters["official_date"] = document_date
    from portal import formatting

    app.jinja_env.filters.update(percent=formatting.percent, hours_of=formatting.hours_of)
    app.jinja_env.globals["AUDIT_OBJECT_LABELS"] = TranslatedLabels(labels.AUDIT_OBJECT_LABELS)
    app.jinja_env.filters["number"] = number
    app.jinja_env.filters["hours_minutes"] = hours_minutes
