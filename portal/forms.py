"""Form pieces shared by several screen areas."""

import datetime as dt
import functools
import math
import re

import wtforms
import wtforms.utils
import wtforms.validators
import wtforms.widgets.core
from babel.support import Translations
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from sqlalchemy import Select
from werkzeug.routing import IntegerConverter
from wtforms import SelectChoice
from wtforms.i18n import messages_path
from wtforms.widgets.core import clean_key

from core import bilingual, queries
from core.places import AdminUnit
from core.scope import Scope, per_scope
from portal.extensions import db
from portal.i18n import LANGUAGES, language, translate_error

LANGUAGE_CHOICES = [SelectChoice(code, label) for code, label in LANGUAGES.items()]


@functools.cache
def _wtforms_catalogue(code: str) -> Translations:
    """WTForms' own catalogue for a language, read from its package once per process."""
    return Translations.load(messages_path(), [code], domain="wtforms")


class _WTFormsMessages:
    """WTForms' own messages ("Not a valid choice.", a field's default label) in the language
    of the request.

    Flask-WTF reads WTForms' catalogue from disk again in every request that builds a form:
    any field without a label (the CSRF token's, for one) asks for its default label's
    translation. That cost each such request 0.3 ms, 5 % of the floor's page (issue 16).
    """

    def gettext(self, string: str) -> str:
        return _wtforms_catalogue(language()).ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return _wtforms_catalogue(language()).ungettext(singular, plural, n)


_WTFORMS_MESSAGES = _WTFormsMessages()

# WTForms' own, kept to check ours against (tests/portal/test_form_html.py).
WTFORMS_HTML_PARAMS = wtforms.widgets.core.html_params


def html_params(**kwargs) -> Markup:
    """WTForms' ``html_params`` (the attributes of a tag), output for output, with an f-string.

    WTForms writes each attribute through ``Markup.format``, Python's string formatter, a
    dozen calls an attribute. Every label, input and option of a form goes through it: a
    tenth of a page with a form, of the place picker's few hundred options and of the form
    fuzzing's time (issue 16). As WTForms does: attributes sorted by name, ``class_``,
    ``data_`` and ``aria_`` names cleaned, True written bare and False left out, names and
    values escaped, and a double quote in a value that is already Markup written ``&quot;``.
    """
    attributes = []
    for key, value in sorted(kwargs.items()):
        if value is True:
            attributes.append(str(escape(clean_key(key))))
        elif value is not False:
            text = str(escape(value)).replace('"', "&quot;")
            attributes.append(f'{escape(clean_key(key))}="{text}"')
    # Every name and value above is escaped: the attributes are markup.
    return Markup(" ".join(attributes))  # noqa: S704  # nosec B704


def use_fast_html_params() -> None:
    """Make WTForms' widgets and labels write their attributes with ``html_params`` above.

    WTForms has no setting for it: its widgets and labels call its module's function, and
    ``Input`` and ``Button`` keep that function as a class attribute.
    """
    wtforms.widgets.core.html_params = wtforms.widgets.html_params = html_params
    for widget in (wtforms.widgets.core.Input, wtforms.widgets.core.Button):
        widget.html_params = staticmethod(html_params)


class PortalForm(FlaskForm):
    """The base of every form of the portal."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return _WTFORMS_MESSAGES

        def render_field(self, field, render_kw):
            if field.type != "CSRFTokenField":
                return super().render_field(field, render_kw)
            # The CSRF token is rendered without an id: a page with several forms (a card per
            # shift, an action per row) repeated id="csrf_token", and an id must be unique.
            # Such a page writes one form's token once per row, and the token does not change
            # within the request: its HTML is rendered once per form.
            if render_kw:
                return super().render_field(field, {**render_kw, "id": False})
            rendered = getattr(field, "_rendered", None)
            if rendered is None:
                rendered = field._rendered = super().render_field(field, {"id": False})
            return rendered


class ConfirmForm(PortalForm):
    """A form with only the CSRF token, for action buttons."""


class PlaceChoices(list):
    """Units as ``SelectChoice`` rows in tree order, with the unit a picker starts on.

    ``default`` is the user's own unit among them (``None``: the user must choose): the one
    unit of their jurisdiction, else their home unit; never the first unit of the list.
    """

    default: int | None = None


# Kazakh and Russian alphabetical order (Kazakh letters after their Russian neighbours, as in
# Kazakh dictionaries); code points would put Әбді after Ян and Іле after Талғар.
_ALPHABET = "аәбвгғдеёжзийкқлмнңоөпрстуұүфхһцчшщъыіьэюя"
_ORDER = {letter: 200 + i for i, letter in enumerate(_ALPHABET)}


def collation_key(text: str) -> tuple[int, ...]:
    """Return a sort key of ``text`` in Kazakh-Russian alphabetical order, case-blind.

    Spaces, digits and Latin letters (below 128) come before Cyrillic; anything else after.
    """
    return tuple(_ORDER.get(c, ord(c) if ord(c) < 128 else 1000 + ord(c)) for c in text.casefold())


# A picker lists a region's districts and cities under the region's name, then each district's
# okrugs and settlements under "District, Region" (issue 19).
GROUP_LEVELS = ("district", "city")


def unit_choices(scope: Scope, levels: tuple[str, ...] | None = None) -> PlaceChoices:
    """Return the units in ``scope`` by name in the user's language, grouped by hierarchy.

    A region's districts and cities come under the region's name, sorted by name; the units
    below a district follow under "District, Region", indented by depth. The 9-digit KATO code
    is never a label: it goes with both names into ``data-search``, which the filter box reads.
    """
    # Plain columns (ORM objects cost a third of a page with a picker, issue 16); the list is
    # worked out from them once per set of rows and language (``_choices``).
    rows = db.session.execute(_picker_statement(scope)).all()
    units = tuple(u for u in rows if u.inside and (not levels or u.level in levels))
    known = {u.id for u in units}
    wanted = {int(i) for u in units for i in u.path.strip("/").split("/")} - known
    above = tuple(u for u in rows if u.id in wanted)
    choices = PlaceChoices(_choices(units, above, language()))
    choices.default = _own_unit(scope, {c.value for c in choices})
    return choices


_COLUMNS = (
    AdminUnit.id,
    AdminUnit.path,
    AdminUnit.level,
    AdminUnit.kato,
    AdminUnit.name_kk,
    AdminUnit.name_ru,
)


@per_scope  # building it took 0.2-0.3 ms of every page with a picker (issue 16)
def _picker_statement(scope: Scope) -> Select:
    """One statement for the units in ``scope`` (marked ``inside`` by the scope's own
    condition, the one place that decides what a scope covers) and the units above its own."""
    inside = scope.clause(AdminUnit.id).label("inside")
    return queries.units_and_above(scope).with_only_columns(*_COLUMNS, inside)


@functools.lru_cache(maxsize=256)  # a few kinds of scope per language
def _choices(units: tuple, above: tuple, locale: str) -> tuple[SelectChoice, ...]:
    """Return the choices of ``units`` (rows of ``_COLUMNS``) under the ``above`` them.

    Kept by the rows themselves: the same units with the same names give the same list, and a
    renamed or added unit is another key. Sorting and labelling a region's 266 places took
    4 ms of every page with its picker (issue 16). The choices are shared by every request
    that asks for the same list: read them, never change one in place.
    """
    known = {u.id: u for u in (*units, *above)}
    name = {i: bilingual.in_language(u, "name", locale) for i, u in known.items()}
    key = {i: collation_key(text) for i, text in name.items()}

    def placed(unit) -> tuple[tuple, str | None, int]:
        """Return (sort key, group label, indentation) of ``unit``."""
        chain = [known[int(i)] for i in unit.path.strip("/").split("/")]
        names = [key[part.id] for part in chain]
        heads = [i for i, part in enumerate(chain) if part.level in GROUP_LEVELS]
        regions = [i for i, part in enumerate(chain) if part.level == "region"]
        region = chain[regions[0]] if regions else None
        if not heads:  # the country, a region: above every group
            return (names, 0), None, 0
        head = heads[0]
        above = names[: regions[0] + 1] if regions else names[:head]
        if head == len(chain) - 1:  # a district or a city: under its region
            return (above, 1, names[head:]), name[region.id] if region else None, 0
        group = name[chain[head].id] + (f", {name[region.id]}" if region else "")
        return (above, 2, names[head:]), group, len(chain) - head - 2

    # Namesakes (two villages of one name in one okrug) keep the order of their ids.
    ordered = sorted(((placed(u), u) for u in units), key=lambda entry: (entry[0][0], entry[1].id))
    return tuple(
        SelectChoice(
            u.id,
            "\u2003" * depth + name[u.id],
            render_kw={"data-search": _search_text(u, group)},
            optgroup=group,
        )
        for (_key, group, depth), u in ordered
    )


def _search_text(unit, group: str | None) -> str:
    """What the picker's filter box matches: both names, the KATO code and the group."""
    return " ".join((unit.name_kk, unit.name_ru, unit.kato, group or "")).casefold()


def _own_unit(scope: Scope, offered: set[int]) -> int | None:
    """Return the unit a picker starts on: the one of the scope, else the user's home unit."""
    if len(scope.unit_ids) == 1 and scope.unit_ids[0] in offered:
        return scope.unit_ids[0]
    home = getattr(current_user, "unit_id", None) if current_user else None
    return home if home in offered else None


def _place_id(value) -> int | None:
    """Coerce a submitted unit id; an empty choice (the prompt) is no unit."""
    if value is None or value == "":
        return None
    return int(value)


class PlaceField(wtforms.SelectField):
    """A choice of administrative unit: names grouped by district, a filter box, own unit first.

    Its choices come from ``unit_choices``; until the user chose, it selects their own unit,
    or a prompt to choose when there is none (never the list's first unit).
    """

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("coerce", _place_id)
        render_kw = {
            "data-place-filter": _l("Type part of the name to narrow the list"),
            **kwargs.pop("render_kw", {}),
        }
        super().__init__(label, validators, render_kw=render_kw, **kwargs)
        self._chosen = False

    def process(self, formdata, data=wtforms.utils.unset_value, extra_filters=None):
        # A form not submitted gets no formdata (Flask-WTF): only then may the default apply.
        self._chosen = formdata is not None
        super().process(formdata, data, extra_filters)

    @property
    def choices(self):
        return wtforms.SelectField.choices.fget(self)

    @choices.setter
    def choices(self, value):
        wtforms.SelectField.choices.fset(self, value)
        default = getattr(value, "default", None)
        if self.data is None and not self._chosen and default is not None:
            self.data = default

    def _choices_from_input(self, choices):
        parsed = super()._choices_from_input(choices) or []
        if self.data is None:
            prompt = SelectChoice("", str(_l("Choose from the list")), {"disabled": True})
            parsed = [prompt, *parsed]
        return parsed

    def pre_validate(self, form):
        if self.process_errors:
            return
        if self.data is None:
            raise wtforms.validators.ValidationError(_l("Choose a place from the list."))
        super().pre_validate(form)


def show_at_fields(form, errors) -> list[str]:
    """Put each ``DomainError`` of ``errors`` on the field of ``form`` it names, translated.

    Return the messages of those naming no field of the form, for the caller to show above it.
    """
    unplaced = []
    for error in errors:
        message = translate_error(error)
        target = form._fields.get(error.field) if error.field else None
        if target is None:
            unplaced.append(message)
            continue
        target.errors = [*target.errors, message]
    return unplaced


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
