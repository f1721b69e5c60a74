"""Forms of the administration area; none of them carries status or audit fields."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.forms import (  # IntegerField: bounded (fuzzing fix, S13)
    LANGUAGE_CHOICES,
    IntegerField,
    PlaceField,
)
from portal.labels import ROLE_LABELS


class UserForm(FlaskForm):
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=254)])
    phone = StringField(
        _l("Phone"),
        validators=[Optional(), Length(max=24)],
        description=_l("In the +7 format, e.g. +7 701 123 45 67."),
    )
    preferred_language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)
    unit_id = PlaceField(_l("Jurisdiction"))


class NewUserForm(UserForm):
    password = PasswordField(
        _l("Initial password"),
        validators=[DataRequired(), Length(min=12, max=128)],
        description=_l("At least 12 characters. Give it to the person in a safe way."),
    )


class GrantForm(FlaskForm):
    role = SelectField(_l("Role"), choices=[SelectChoice(k, v) for k, v in ROLE_LABELS.items()])
    unit_id = PlaceField(_l("Jurisdiction"))


class CalendarDayForm(FlaskForm):
    day = DateField(_l("Date"), validators=[DataRequired()])
    kind = SelectField(
        _l("Kind"),
        choices=[
            SelectChoice("holiday", _l("Public holiday")),
            SelectChoice("day_off", _l("Transferred day off")),
            SelectChoice("working", _l("Transferred working day")),
        ],
    )
    name_kk = StringField(_l("Name in Kazakh"), validators=[DataRequired(), Length(max=200)])
    name_ru = StringField(_l("Name in Russian"), validators=[DataRequired(), Length(max=200)])
    source = StringField(_l("Source (act or link)"), validators=[Optional(), Length(max=300)])


class ValidityForm(FlaskForm):
    unit_id = PlaceField(_l("Jurisdiction"))
    months = IntegerField(
        _l("Certificate validity, months"),
        validators=[Optional(), NumberRange(min=1, max=120)],
        description=_l("Leave empty to inherit the setting of the jurisdiction above."),
    )


class KindForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=40)],
        description=_l("Latin letters, digits and _"),
    )
    name_kk = StringField(_l("Name in Kazakh"), validators=[DataRequired(), Length(max=200)])
    name_ru = StringField(_l("Name in Russian"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=200)])
    measure = SelectField(_l("Counted in"), validate_choice=True)
    points = IntegerField(
        _l("Points per hour or per event"),
        validators=[InputRequired(), NumberRange(min=0, max=1000)],
    )
    needs_reference = BooleanField(_l("A registration reference is required"))
    active = BooleanField(_l("In use"), default=True)
    position = IntegerField(_l("Order"), validators=[Optional()], default=0)
