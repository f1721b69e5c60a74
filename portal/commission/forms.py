"""Forms of the reward commission: policy, members, nominations, sessions, votes and payouts.

None of them carries a status, an outcome or a ledger field: the domain decides those.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from core.doc_numbers import without_sign
from incentives.models import COMMISSION_ROLES, FORMS

# Bounded to an INTEGER column's range (a fuzzing fix, S13; see portal.forms).
from portal.forms import IntegerField, PlaceField, PortalForm
from portal.labels import (
    AMOUNT_UNIT_LABELS,
    COMMISSION_ROLE_LABELS,
    REWARD_FORM_LABELS,
    VOTE_CHOICE_LABELS,
)

AMOUNT_HINT = _l("In tenge, e.g. 1 234 567,89.")


class CheckboxesField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PolicyForm(PortalForm):
    unit_id = PlaceField(_l("Jurisdiction"))
    effective_from = DateField(_l("In force from"), validators=[DataRequired()])
    resolution = StringField(
        _l("Akimat's resolution"),
        validators=[DataRequired(), Length(max=300)],
        description=_l("Number, date and title of the resolution that sets the policy."),
    )
    forms = CheckboxesField(
        _l("Allowed forms of reward"),
        choices=[SelectChoice(f, REWARD_FORM_LABELS[f]) for f in FORMS],
    )
    cash_cap_mci = IntegerField(
        _l("Cap per cash reward, MCI"),
        default=15,
        validators=[InputRequired(), NumberRange(min=1, max=10000)],
    )
    annual_cap_mci = IntegerField(
        _l("Cap per person per calendar year, MCI"),
        default=30,
        validators=[InputRequired(), NumberRange(min=1, max=10000)],
    )
    quorum_numerator = IntegerField(
        _l("Quorum: numerator"), default=2, validators=[InputRequired(), NumberRange(min=1)]
    )
    quorum_denominator = IntegerField(
        _l("Quorum: denominator"),
        default=3,
        validators=[InputRequired(), NumberRange(min=1)],
        description=_l("The default quorum is two thirds of the members (2/3)."),
    )
    chair_breaks_tie = BooleanField(_l("The chair's vote decides a tie"), default=True)
    annual_cap_basis = StringField(
        _l("Legal basis of the annual cap"),
        validators=[Optional(), Length(max=300)],
        description=_l("The act that sets the cap per person, if not the resolution above."),
    )


def policy_form_class(kinds, locale: str) -> type[PolicyForm]:
    """Return the policy form with one points field per contribution kind."""

    class Form(PolicyForm):
        pass

    for kind in kinds:
        setattr(
            Form,
            f"points_{kind.code}",
            IntegerField(
                kind.name(locale),
                default=kind.points,
                validators=[InputRequired(), NumberRange(min=0, max=1000)],
            ),
        )
    return Form


class CommissionNamesForm(PortalForm):
    """The commission's names and its akimat's, in Kazakh and in Russian."""

    name_kk = StringField(
        _l("Name of the commission in Kazakh"), validators=[DataRequired(), Length(max=300)]
    )
    name_ru = StringField(
        _l("Name of the commission in Russian"), validators=[DataRequired(), Length(max=300)]
    )
    body_kk = StringField(
        _l("Issuing akimat in Kazakh"),
        validators=[DataRequired(), Length(max=300)],
        description=_l("As the letterhead names it, e.g. “Бұқар жырау ауданының әкімдігі”."),
    )
    body_ru = StringField(
        _l("Issuing akimat in Russian"),
        validators=[DataRequired(), Length(max=300)],
        description=_l("As the letterhead names it, e.g. “Акимат Бухар-Жырауского района”."),
    )


class CommissionForm(CommissionNamesForm):
    unit_id = PlaceField(_l("Akimat of"))


class MemberForm(PortalForm):
    user_id = SelectField(_l("Person"), coerce=int, validate_choice=True)
    role = SelectField(
        _l("Role on the commission"),
        choices=[SelectChoice(r, COMMISSION_ROLE_LABELS[r]) for r in COMMISSION_ROLES],
        default="member",
    )
    position_kk = StringField(
        _l("Position held, in Kazakh"),
        validators=[Optional(), Length(max=300)],
        description=_l("E.g. “аудан әкімінің орынбасары”. Give it in both languages or neither."),
    )
    position_ru = StringField(
        _l("Position held, in Russian"),
        validators=[Optional(), Length(max=300)],
        description=_l("E.g. “заместитель акима района”."),
    )
    term_from = DateField(_l("Term from"), validators=[DataRequired()])
    term_to = DateField(_l("Term to"), validators=[Optional()])


class RulesForm(PortalForm):
    secretary_votes = BooleanField(_l("The secretary votes"))
    chair_stand_in = SelectField(
        _l("When the chair is absent"),
        choices=[
            SelectChoice(
                "deputy_chair", _l("the deputy chair presides and casts the deciding vote")
            ),
            SelectChoice("nobody", _l("nobody casts a deciding vote")),
        ],
    )


class ConflictForm(PortalForm):
    reason = StringField(
        _l("Conflict of interest: the reason"), validators=[DataRequired(), Length(max=1000)]
    )


class EndTermForm(PortalForm):
    term_to = DateField(_l("Last day of the term"), validators=[DataRequired()])


class NominationForm(PortalForm):
    contribution_ids = CheckboxesField(
        _l("Confirmed contributions that support the nomination"), coerce=int
    )
    justification = TextAreaField(
        _l("Why this member deserves the reward"),
        validators=[DataRequired(), Length(max=4000)],
    )
    reward_form = SelectField(_l("Form of reward"), validate_choice=True)
    amount = StringField(
        _l("Amount"),
        validators=[Optional(), Length(max=40)],
        description=_l(
            "Only for a cash reward or a valuable gift; e.g. 10 (MCI) or 43 250 (tenge)."
        ),
    )
    unit = SelectField(
        _l("Amount in"),
        choices=[SelectChoice(k, v) for k, v in AMOUNT_UNIT_LABELS.items()],
        default="mci",
    )


class PlanForm(PortalForm):
    commission_id = SelectField(_l("Commission"), coerce=int, validate_choice=True)
    held_on = DateField(_l("Date of the session"), validators=[DataRequired()])
    place_kk = StringField(_l("Place in Kazakh"), validators=[DataRequired(), Length(max=300)])
    place_ru = StringField(_l("Place in Russian"), validators=[DataRequired(), Length(max=300)])
    on_paper = BooleanField(
        _l("Held on paper: the secretary enters the votes"),
    )


class AgendaForm(PortalForm):
    nomination_ids = CheckboxesField(_l("Nominations waiting for the commission"), coerce=int)


class OpenForm(PortalForm):
    present = CheckboxesField(_l("Present"), coerce=int)


class PaperVoteForm(PortalForm):
    commission_member_id = SelectField(_l("Commission member"), coerce=int, validate_choice=True)
    choice = SelectField(
        _l("Vote"), choices=[SelectChoice(k, v) for k, v in VOTE_CHOICE_LABELS.items()]
    )
    reason = StringField(_l("Reason for the recusal"), validators=[Optional(), Length(max=1000)])


class VoteForm(PortalForm):
    # The choice comes from the button pressed.
    choice = SelectField(
        _l("Vote"), choices=[SelectChoice(k, v) for k, v in VOTE_CHOICE_LABELS.items()]
    )
    reason = StringField(
        _l("Reason, if you recuse yourself"), validators=[Optional(), Length(max=1000)]
    )


class ActForm(PortalForm):
    number = StringField(
        _l("Number of the akimat's act"),
        validators=[DataRequired(), Length(max=60)],
        filters=[without_sign],
    )
    date = DateField(_l("Date of the act"), validators=[DataRequired()])


class ScanForm(PortalForm):
    file = FileField(
        _l("Signed scan of the minutes (PDF, up to 10 MB)"), validators=[FileRequired()]
    )


UUID = Regexp(r"^[0-9a-f]{32}$")


class PaymentForm(PortalForm):
    iban = StringField(
        _l("Recipient's IBAN"),
        validators=[DataRequired(), Length(max=42)],
        description=_l("KZ and 18 letters or digits."),
    )
    order_number = StringField(
        _l("Payment order number"),
        validators=[DataRequired(), Length(max=40)],
        filters=[without_sign],
    )
    order_date = DateField(_l("Payment order date"), validators=[DataRequired()])
    amount = StringField(
        _l("Amount paid"), validators=[DataRequired(), Length(max=40)], description=AMOUNT_HINT
    )
    # Generated when the form is shown: a double submit or a retry pays once.
    key = HiddenField(validators=[DataRequired(), UUID])


class FailureForm(PortalForm):
    iban = StringField(_l("Recipient's IBAN"), validators=[Optional(), Length(max=42)])
    order_number = StringField(_l("Payment order number"), validators=[Optional(), Length(max=40)])
    reason = TextAreaField(
        _l("Why the payment failed"), validators=[DataRequired(), Length(max=1000)]
    )


class VoidForm(PortalForm):
    reason = TextAreaField(
        _l("Why the reward will not be paid"), validators=[DataRequired(), Length(max=1000)]
    )


class HandOverForm(PortalForm):
    handed_on = DateField(_l("Handed over on"), validators=[DataRequired()])


class InitiativeNominationForm(NominationForm):
    contribution_ids = None
    recipient = SelectField(_l("Who is to be rewarded"), validate_choice=True)
    justification = TextAreaField(
        _l("Why the initiative deserves the reward"),
        validators=[DataRequired(), Length(max=4000)],
    )


def initiative_nomination_form(allowed_forms: list[str]) -> InitiativeNominationForm:
    """The form for putting a sober-settlement initiative forward, with its choices filled in."""
    from portal.labels import REWARD_FORM_LABELS

    form = InitiativeNominationForm(prefix="nominate")
    form.recipient.choices = [
        SelectChoice("activist", _l("The activist who submitted it")),
        SelectChoice("team", _l("The initiative team, collectively")),
        SelectChoice("administration", _l("The local administration, collectively")),
    ]
    form.reward_form.choices = [SelectChoice(f, REWARD_FORM_LABELS[f]) for f in allowed_forms]
    return form
