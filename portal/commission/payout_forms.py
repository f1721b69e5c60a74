"""Forms of the payout screens that carry a form key, and of the tax rates page.

None of them carries a status, an amount withheld or a ledger field: the domain decides those.
"""

from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from incentives.models import MONEY_FORMS
from portal.commission.forms import (
    AMOUNT_HINT,
    UUID,
    FailureForm,
    HandOverForm,
    PaymentForm,
    VoidForm,
)
from portal.forms import PlaceField, PortalForm


class KeyedFailureForm(FailureForm):
    # Generated when the form is shown: the same form sent twice records one failure.
    key = HiddenField(validators=[Optional(), UUID])


class KeyedVoidForm(VoidForm):
    key = HiddenField(validators=[Optional(), UUID])


class KeyedHandOverForm(HandOverForm):
    # Not "key": a page with a field named so is the cash payment form (tests and scripts
    # tell the two apart by it).
    hand_key = HiddenField(validators=[Optional(), UUID])


class TaxRateForm(PortalForm):
    unit_id = PlaceField(_l("Jurisdiction"))
    form = SelectField(_l("Form of reward"), validate_choice=True)
    effective_from = DateField(_l("In force from"), validators=[DataRequired()])
    rate = StringField(
        _l("Rate withheld, per cent"),
        validators=[DataRequired(), Length(max=10)],
        description=_l("E.g. 10 or 10,5."),
    )
    exempt = StringField(
        _l("Exempt part of each payout"),
        validators=[Optional(), Length(max=40)],
        description=AMOUNT_HINT,
    )
    legal_basis = TextAreaField(
        _l("Legal basis"),
        validators=[DataRequired(), Length(max=2000)],
        description=_l("The act and its article that set the rate or the exemption."),
    )


def tax_rate_form(unit_choices: list[SelectChoice]) -> TaxRateForm:
    """Return the tax rate form with its jurisdictions and reward forms to choose from."""
    from portal.labels import REWARD_FORM_LABELS

    form = TaxRateForm()
    form.unit_id.choices = unit_choices
    form.form.choices = [SelectChoice(f, REWARD_FORM_LABELS[f]) for f in MONEY_FORMS]
    return form


class OwnIbanPaymentForm(PaymentForm):
    # The recipient entered their IBAN in their cabinet: finance does not type it again.
    iban = None
