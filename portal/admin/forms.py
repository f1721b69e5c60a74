"""Forms of the administration area; none of them carries status or audit fields."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.forms import (
    LANGUAGE_CHOICES,
    IntegerField,  # bounded (fuzzing fix, S13)
    PlaceField,
    PortalForm,
)
from portal.labels import ROLE_LABELS


class UserForm(PortalForm):
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


class GrantForm(PortalForm):
    role = SelectField(_l("Role"), choices=[SelectChoice(k, v) for k, v in ROLE_LABELS.items()])
    unit_id = PlaceField(_l("Jurisdiction"))


class CalendarDayForm(PortalForm):
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


class ValidityForm(PortalForm):
    unit_id = PlaceField(_l("Jurisdiction"))
    months = IntegerField(
        _l("Certificate validity, months"),
        validators=[Optional(), NumberRange(min=1, max=120)],
        description=_l("Leave empty to inherit the setting of the jurisdiction above."),
    )


class KindForm(PortalForm):
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


class CheckboxesField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class TokenHolderForm(PortalForm):
    login = StringField(
        _l("Holder's e-mail or phone"),
        validators=[DataRequired(), Length(max=254)],
        description=_l("The account the token will act for; it must be in your jurisdiction."),
    )


class TokenForm(PortalForm):
    name = StringField(
        _l("Token name"),
        validators=[DataRequired(), Length(max=120)],
        description=_l("What the token is for, e.g. the name of the integration."),
    )
    # Choices: the holder's live roles, "role:unit id" (set by the view).
    grants = CheckboxesField(_l("Roles the token may use"))
    expires_at = DateField(
        _l("Valid until"),
        validators=[DataRequired()],
        description=_l("The token stops working at the end of this day; at most a year ahead."),
    )


class OfflineLimitForm(PortalForm):
    unit_id = PlaceField(_l("Jurisdiction"))
    minutes = IntegerField(
        _l("Offline limit, minutes"),
        validators=[Optional(), NumberRange(min=0, max=4320)],
        description=_l(
            "How old a check-in or check-out tapped without a connection may be when it"
            " arrives; 0 accepts only live taps. Leave empty to inherit the setting of the"
            " jurisdiction above."
        ),
    )
