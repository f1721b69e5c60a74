"""Forms of the budget screens; amounts are typed in tenge and parsed by ``core.money``."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

# Bounded to an INTEGER column's range (a fuzzing fix, S13; see portal.forms).
from core.doc_numbers import without_sign
from portal.forms import IntegerField, PlaceField, PortalForm
from portal.labels import DECISION_KIND_LABELS, PURPOSE_LABELS

YEAR = NumberRange(min=2000, max=2100, message=_l("Enter a year between 2000 and 2100."))
DIGITS = _l("Digits only.")
AMOUNT_HINT = _l("In tenge, e.g. 1 234 567,89.")


def _code(label, size: int, required: bool = True) -> StringField:
    return StringField(
        label,
        validators=[
            DataRequired() if required else Optional(),
            Length(max=size),
            Regexp(r"^\d+$", message=DIGITS),
        ],
    )


class ProgramForm(PortalForm):
    unit_id = PlaceField(_l("Jurisdiction"))
    fiscal_year = IntegerField(_l("Fiscal year"), validators=[DataRequired(), YEAR])
    functional_group = _code(_l("Functional group"), 4)
    sub_function = _code(_l("Sub-function"), 4)
    administrator = _code(_l("Administrator code"), 6)
    program = _code(_l("Program"), 6)
    sub_program = _code(_l("Sub-program"), 6, required=False)
    name_kk = StringField(_l("Name in Kazakh"), validators=[DataRequired(), Length(max=400)])
    name_ru = StringField(_l("Name in Russian"), validators=[DataRequired(), Length(max=400)])
    administrator_body = StringField(
        _l("Administrator of the program"), validators=[DataRequired(), Length(max=400)]
    )


class LineForm(PortalForm):
    program_id = SelectField(_l("Budget program"), coerce=int)
    purpose = SelectField(
        _l("Purpose"), choices=[SelectChoice(k, v) for k, v in PURPOSE_LABELS.items()]
    )


class LineChangeForm(Form):
    """One line a decision changes (a sub-form: the CSRF token is the parent's)."""

    line_id = SelectField(_l("Budget line"), coerce=int, default=0)
    amount = StringField(
        _l("Change of the approved amount"),
        validators=[Optional(), Length(max=40)],
        description=_l(
            "In tenge. An adoption approves this amount; a clarification adds it, "
            "or takes it away with a minus sign."
        ),
    )


class DecisionForm(PortalForm):
    unit_id = PlaceField(_l("Maslikhat of"))
    number = StringField(
        _l("Decision number"), validators=[DataRequired(), Length(max=40)], filters=[without_sign]
    )
    decided_on = DateField(_l("Date of the decision"), validators=[DataRequired()])
    session_number = StringField(
        _l("Session of the maslikhat"), validators=[DataRequired(), Length(max=20)]
    )
    kind = SelectField(
        _l("Kind"), choices=[SelectChoice(k, v) for k, v in DECISION_KIND_LABELS.items()]
    )
    reference = StringField(
        _l("Published text (link or reference)"),
        validators=[DataRequired(), Length(max=400)],
        description=_l("E.g. the address of the decision on adilet.zan.kz."),
    )
    changes = FieldList(FormField(LineChangeForm), min_entries=5, max_entries=40)


class CloseYearForm(PortalForm):
    unit_id = PlaceField(_l("Jurisdiction"))
    year = IntegerField(_l("Fiscal year"), validators=[DataRequired(), YEAR])


class MCIForm(PortalForm):
    year = IntegerField(_l("Year"), validators=[DataRequired(), YEAR])
    amount = StringField(
        _l("MCI"), validators=[DataRequired(), Length(max=40)], description=AMOUNT_HINT
    )
