"""Forms of the hearing and complaint pages; none carries a status: the domain decides those."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from core import clock
from portal.forms import IntegerField, PlaceField, PortalForm

TEXT = 4000


class CheckboxesField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class DraftForm(PortalForm):
    act_kind = SelectField(_l("Proposed act"), validate_choice=True)
    subject_id = IntegerField(_l("Record"), validators=[InputRequired()])
    grounds = CheckboxesField(
        _l("Legal grounds"),
        validators=[DataRequired(message=_l("Choose at least one legal ground."))],
    )
    grounds_text = TextAreaField(
        _l("Facts and reasons"),
        validators=[DataRequired(), Length(max=TEXT)],
        description=_l("What happened and why the grounds apply, in words the person understands."),
    )


class ObjectionForm(PortalForm):
    """An objection: the person's own on the portal, or one staff enter from paper or orally."""

    body = TextAreaField(_l("Objection"), validators=[DataRequired(), Length(max=TEXT)])
    channel = SelectField(
        _l("Received"),
        choices=[SelectChoice("paper", _l("On paper")), SelectChoice("oral", _l("Orally"))],
        validate_choice=True,
    )


class PersonObjectionForm(PortalForm):
    body = TextAreaField(
        _l("Your objection"),
        validators=[DataRequired(), Length(max=TEXT)],
        description=_l("Say what you disagree with and why; you may name documents or witnesses."),
    )


class RemarksForm(PortalForm):
    body = TextAreaField(
        _l("Your remarks on the protocol"), validators=[DataRequired(), Length(max=TEXT)]
    )


class ProtocolForm(PortalForm):
    held_at = DateTimeLocalField(
        _l("Held at"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()]
    )
    mode = SelectField(
        _l("Form of the hearing"),
        choices=[
            SelectChoice("in_person", _l("In person")),
            SelectChoice("video", _l("By videoconference")),
        ],
        validate_choice=True,
    )
    attendees = TextAreaField(_l("Present"), validators=[DataRequired(), Length(max=2000)])
    body = TextAreaField(_l("What was said"), validators=[DataRequired(), Length(max=TEXT * 2)])
    signed_on = DateField(
        _l("Protocol signed on"),
        validators=[Optional()],
        default=clock.today,
        description=_l("Later than 2 working days after the hearing is marked as signed late."),
    )


class DeliveryForm(PortalForm):
    """The day a paper notice reached the person: the hearing's terms run from it."""

    received_on = DateField(
        _l("The person received the notice on"), validators=[DataRequired()], default=clock.today
    )
    how = SelectField(
        _l("How it was delivered"),
        choices=[
            SelectChoice("by_hand", _l("Handed over in person")),
            SelectChoice("in_office", _l("At the office's reception")),
            SelectChoice("post", _l("By registered post")),
            SelectChoice("courier", _l("By courier")),
        ],
        validate_choice=True,
    )


class ActReceiptForm(PortalForm):
    received_on = DateField(
        _l("The person received the act on"), validators=[DataRequired()], default=clock.today
    )


class StatedReasonsForm(PortalForm):
    reasons = TextAreaField(
        _l("How the objections were considered"),
        validators=[DataRequired(), Length(max=TEXT)],
        description=_l("Part of the act's reasons, with the commission's vote."),
    )


class RestoreTermForm(PortalForm):
    reasons = TextAreaField(
        _l("The good reason for the delay"), validators=[DataRequired(), Length(max=TEXT)]
    )


class AdoptForm(PortalForm):
    act_reasons = TextAreaField(
        _l("Reasons of the act"),
        validators=[DataRequired(), Length(max=TEXT)],
        description=_l("Answer each objection: why it was accepted or not."),
    )
    exception_kind = SelectField(
        _l("Adopt without waiting for the hearing term"), choices=[], validate_choice=False
    )
    exception_reason = TextAreaField(
        _l("Why the hearing term is not awaited"), validators=[Optional(), Length(max=TEXT)]
    )
    execution_exception = TextAreaField(
        _l("Why the act is executed even if a complaint is filed (Art. 96)"),
        validators=[Optional(), Length(max=TEXT)],
        description=_l("Leave empty: a complaint then suspends the act until it is decided."),
    )


class WithdrawForm(PortalForm):
    reason = TextAreaField(
        _l("Why the draft is withdrawn"), validators=[DataRequired(), Length(max=TEXT)]
    )


class ComplaintForm(PortalForm):
    """The content of a complaint that Art. 93 requires; the same form on paper and online."""

    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=300)])
    iin = StringField(
        _l("IIN"),
        validators=[DataRequired(), Length(min=12, max=12)],
        description=_l("12 digits."),
    )
    address = TextAreaField(_l("Postal address"), validators=[DataRequired(), Length(max=500)])
    contact = StringField(
        _l("Phone or e-mail for the answer"), validators=[Optional(), Length(max=200)]
    )
    act_challenged = TextAreaField(
        _l("What you complain about"), validators=[DataRequired(), Length(max=TEXT)]
    )
    grounds = TextAreaField(_l("Why it is wrong"), validators=[DataRequired(), Length(max=TEXT)])
    request = TextAreaField(_l("What you ask for"), validators=[DataRequired(), Length(max=TEXT)])
    restored_reason = TextAreaField(
        _l("If the 3-month term has passed: the good reason for the delay"),
        validators=[Optional(), Length(max=TEXT)],
    )
    attachments = MultipleFileField(
        _l("Attachments (PDF, JPEG or PNG, up to 5 MB each)"),
        description=_l("A scan of the act, evidence; on paper, the signed complaint."),
    )
    confirmed = BooleanField(
        _l("I sign this complaint: its content is true."),
        validators=[DataRequired(message=_l("Sign the complaint to file it."))],
        false_values=("", "false", "0", "no"),
    )

    def content(self) -> dict:
        """The complaint's content as ``appeals.complaints.file`` takes it (attachments apart)."""
        return {
            "name": self.name.data,
            "iin": self.iin.data,
            "address": self.address.data,
            "contact": self.contact.data or None,
            "act_challenged": self.act_challenged.data,
            "grounds": self.grounds.data,
            "request": self.request.data,
            "restored_reason": self.restored_reason.data or None,
        }


class PaperComplaintForm(ComplaintForm):
    confirmed = BooleanField(
        _l("The complaint on paper is signed by the complainant and its scan is attached."),
        validators=[DataRequired(message=_l("A paper complaint is entered only when signed."))],
        false_values=("", "false", "0", "no"),
    )


class ReasonsForm(PortalForm):
    reasons = TextAreaField(_l("Reasons"), validators=[DataRequired(), Length(max=TEXT)])


class DecideForm(PortalForm):
    outcome = SelectField(_l("Decision"), choices=[], validate_choice=True)
    reasons = TextAreaField(_l("Reasons"), validators=[DataRequired(), Length(max=TEXT)])
    to_fix = TextAreaField(
        _l("What the issuing body must fix"),
        validators=[Optional(), Length(max=TEXT)],
        description=_l("Required when the case is returned."),
    )


class ReviewBodyForm(PortalForm):
    unit_id = PlaceField(_l("Jurisdiction"))
    review_unit_id = SelectField(_l("Reviewing body's unit"), coerce=int, choices=[])
    reviewer_login = StringField(
        _l("Named official (e-mail), if not the higher akimat"),
        validators=[Optional(), Length(max=200)],
    )
    body_kk = StringField(
        _l("Name of the reviewing body in Kazakh"), validators=[DataRequired(), Length(max=300)]
    )
    body_ru = StringField(
        _l("Name of the reviewing body in Russian"), validators=[DataRequired(), Length(max=300)]
    )
    how_kk = TextAreaField(
        _l("How to file, in Kazakh"), validators=[DataRequired(), Length(max=TEXT)]
    )
    how_ru = TextAreaField(
        _l("How to file, in Russian"), validators=[DataRequired(), Length(max=TEXT)]
    )
