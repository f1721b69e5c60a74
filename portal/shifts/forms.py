"""Forms of shifts and contributions; none of them carries status, points or decider fields."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

# Refusing NaN, infinities and numbers beyond an INTEGER (fuzzing fixes, S13; see portal.forms).
from portal.forms import DecimalField, FloatField, IntegerField, PlaceField, PortalForm
from volunteers.shifts import PLACE_MAX


class ShiftForm(PortalForm):
    unit_id = PlaceField(_l("Settlement or district"))
    patrol_unit_id = SelectField(
        _l("Patrol unit"),
        coerce=int,
        validate_choice=True,
        description=_l("Leave “All members of the district” to open the shift to everyone there."),
    )
    place = StringField(
        _l("Place: route or address"), validators=[DataRequired(), Length(max=PLACE_MAX)]
    )
    day = DateField(_l("Date"), validators=[DataRequired()])
    start = TimeField(_l("Starts at"), validators=[DataRequired()])
    end = TimeField(_l("Ends at"), validators=[DataRequired()])
    overnight = BooleanField(_l("Ends the next day"))
    capacity = IntegerField(
        _l("Places"), validators=[DataRequired(), NumberRange(min=1, max=500)], default=5
    )
    supervisor_id = SelectField(_l("Supervisor"), coerce=int, validate_choice=True)
    repeat_weeks = IntegerField(
        _l("Repeat weekly, weeks"),
        validators=[Optional(), NumberRange(min=0, max=26)],
        default=0,
        description=_l("0 plans one shift; 4 plans it and the same time on the next 4 weeks."),
    )


class EditShiftForm(ShiftForm):
    repeat_weeks = None
    unit_id = None
    patrol_unit_id = None


class CancelShiftForm(PortalForm):
    reason = TextAreaField(
        _l("Reason for cancelling"), validators=[DataRequired(), Length(max=1000)]
    )


class CheckInForm(PortalForm):
    # Filled in by the browser only when the member ticks the box and allows it.
    share_location = BooleanField(_l("Share my location with this check-in"))
    latitude = FloatField(validators=[Optional()])
    longitude = FloatField(validators=[Optional()])


class ContributionForm(PortalForm):
    kind = SelectField(_l("Kind"), validate_choice=True)
    occurred_on = DateField(_l("Date"), validators=[DataRequired()])
    hours = DecimalField(
        _l("Hours (patrol only)"),
        places=2,
        validators=[Optional(), NumberRange(min=0.25, max=16)],
    )
    description = TextAreaField(_l("What was done"), validators=[DataRequired(), Length(max=2000)])
    reference = StringField(
        _l("Reference (e.g. the KUSP registration number)"),
        validators=[Optional(), Length(max=100)],
    )


class DecideForm(PortalForm):
    # The contribution ids come as a list of checkboxes named "ids".
    action = SelectField(_l("Decision"), validate_choice=True)
    reason = TextAreaField(_l("Reason for rejecting"), validators=[Optional(), Length(max=1000)])
