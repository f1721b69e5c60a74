"""Forms of the sober-settlement registry, indicators and initiatives (no status fields)."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

# Bounded to an INTEGER column's range (a fuzzing fix, S13; see portal.forms).
from portal.forms import IntegerField, PlaceField, PortalForm

SIGNATORY_ROWS = 6
OUTLET_ROWS = 4


class SignatoryRow(Form):
    full_name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    role = SelectField(_l("Role"), validate_choice=True)


class OutletRow(Form):
    name = StringField(_l("Retail outlet"), validators=[Optional(), Length(max=200)])
    stopped_on = DateField(_l("Stopped selling alcohol on"), validators=[Optional()])


class DeclarationForm(PortalForm):
    unit_id = PlaceField(_l("Settlement"))
    # Optional here so that the domain answers a missing date with its own message.
    gathered_on = DateField(_l("Date of the gathering"), validators=[Optional()])
    attendance = IntegerField(
        _l("Residents present"), validators=[Optional()], description=_l("More than zero.")
    )
    record_reference = StringField(
        _l("Record of the gathering: reference"),
        validators=[Optional(), Length(max=300)],
        description=_l("E.g. the number and date of the minutes, or where the paper is kept."),
    )
    record_file = FileField(
        _l("Record of the gathering: scanned PDF"),
        validators=[FileAllowed(["pdf"], _l("Upload a PDF file."))],
        description=_l("PDF, at most 5 MB. Give the reference, the file, or both."),
    )
    signatories = FieldList(FormField(SignatoryRow), min_entries=SIGNATORY_ROWS)
    outlets = FieldList(FormField(OutletRow), min_entries=OUTLET_ROWS)


class RevokeForm(PortalForm):
    reason = TextAreaField(_l("Reason for revoking"), validators=[DataRequired(), Length(max=2000)])


class OutletForm(PortalForm):
    name = StringField(_l("Retail outlet"), validators=[DataRequired(), Length(max=200)])
    stopped_on = DateField(_l("Stopped selling alcohol on"), validators=[DataRequired()])


class IndicatorForm(PortalForm):
    unit_id = PlaceField(_l("Settlement"))
    kind = SelectField(_l("Indicator"), validate_choice=True)
    year = IntegerField(_l("Year"), validators=[InputRequired()])
    quarter = SelectField(_l("Quarter"), coerce=int, validate_choice=True)
    # The domain refuses negative values with its own message.
    value = IntegerField(_l("Value"), validators=[InputRequired()])


class IndicatorImportForm(PortalForm):
    file = FileField(
        _l("CSV file"),
        validators=[FileRequired(), FileAllowed(["csv"], _l("Upload a CSV file."))],
        description=_l("Columns: kato, kind, year, quarter, value. At most 5 MB."),
    )


class IndicatorKindForm(PortalForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)])
    name_kk = StringField(_l("Name in Kazakh"), validators=[DataRequired(), Length(max=200)])
    name_ru = StringField(_l("Name in Russian"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=200)])
    position = IntegerField(
        _l("Order"), validators=[Optional(), NumberRange(min=0, max=10000)], default=0
    )
    active = BooleanField(_l("In use"), default=True)


class InitiativeForm(PortalForm):
    unit_id = PlaceField(_l("Settlement"))
    proposer_role = SelectField(_l("I submit as"), validate_choice=True)
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[DataRequired(), Length(max=4000)])
    measures = TextAreaField(
        _l("Measures"),
        validators=[DataRequired(), Length(max=4000)],
        description=_l("What the community does or plans: events, talks with shop owners, sport."),
    )
    team = TextAreaField(
        _l("Team"),
        validators=[DataRequired(), Length(max=2000)],
        description=_l("Who carries it out: activists, the council of elders, the school."),
    )
    requested_incentive = TextAreaField(
        _l("Requested incentive"), validators=[DataRequired(), Length(max=1000)]
    )


class ReviewForm(PortalForm):
    to_status = SelectField(_l("Decision"), validate_choice=True)
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=4000)])


class CommentForm(PortalForm):
    body = TextAreaField(_l("Comment"), validators=[DataRequired(), Length(max=4000)])
