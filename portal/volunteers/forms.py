"""Forms of enrolment and the register; none carries a status, a date of decision or an actor."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from portal.forms import LANGUAGE_CHOICES, PlaceField, PortalForm
from portal.labels import KIND_LABELS


class SignupForm(PortalForm):
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(
        _l("E-mail"),
        validators=[
            DataRequired(_l("Enter your e-mail address: the one-time code is sent there.")),
            Length(max=254),
        ],
        description=_l("A one-time code is sent there to confirm it is yours."),
    )
    phone = StringField(
        _l("Phone"),
        validators=[Optional(), Length(max=24)],
        description=_l("In the +7 format, e.g. +7 701 123 45 67."),
    )
    preferred_language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)
    unit_id = PlaceField(_l("Where you live"))
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(min=12, max=128)],
        description=_l("At least 12 characters. A phrase of several words is easy to remember."),
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))],
    )


class SignupCodeForm(PortalForm):
    code = StringField(
        _l("Code from the message"),
        validators=[DataRequired(), Length(max=16)],
        description=_l("6 digits."),
    )


class ApplicationForm(PortalForm):
    kind = RadioField(
        _l("I apply as"),
        choices=[SelectChoice(k, v) for k, v in KIND_LABELS.items()],
        validators=[DataRequired()],
    )
    unit_id = PlaceField(_l("Settlement or district where you will help"))
    patrol_unit_id = SelectField(_l("Patrol unit (optional)"), coerce=int)
    iin = StringField(
        _l("IIN"),
        validators=[DataRequired(), Length(max=20)],
        description=_l("12 digits, as on your identity card."),
    )
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    phone = StringField(
        _l("Phone"),
        validators=[DataRequired(), Length(max=24)],
        description=_l("In the +7 format, e.g. +7 701 123 45 67."),
    )
    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=254)])
    address = StringField(_l("Address"), validators=[DataRequired(), Length(max=400)])
    is_citizen = BooleanField(_l("I am a citizen of the Republic of Kazakhstan."))
    no_criminal_record = BooleanField(_l("I have no criminal record."))
    not_on_register = BooleanField(
        _l("I am not registered with a narcological or psychiatric service.")
    )
    consent = BooleanField(_l("I consent to the processing of my personal data as described."))
    consent_version = HiddenField()


class RefusalForm(PortalForm):
    reason = TextAreaField(
        _l("Reason for refusal"),
        validators=[DataRequired(), Length(max=2000)],
        description=_l("Write the legal ground. Never write medical details."),
    )


class MemberStatusForm(PortalForm):
    status = SelectField(_l("New status"))
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])


class AssignUnitForm(PortalForm):
    patrol_unit_id = SelectField(_l("Patrol unit"), coerce=int)


class PatrolUnitForm(PortalForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    unit_id = PlaceField(_l("Jurisdiction"))
    coordinator_id = SelectField(_l("Coordinator"), coerce=int)
    leader_member_id = SelectField(_l("Leader"), coerce=int)


class ImportForm(PortalForm):
    file = FileField(
        _l("File of the register (CSV or XLSX)"),
        validators=[FileRequired(), FileAllowed(["csv", "xlsx"], _l("Upload a CSV or XLSX file."))],
        description=_l("The first row holds the columns' names, in Kazakh, Russian or English."),
    )
