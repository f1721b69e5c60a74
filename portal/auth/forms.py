"""Forms of the sign-in area."""

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from portal.forms import PortalForm


class LoginForm(PortalForm):
    login = StringField(_l("E-mail or phone"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])
    next = HiddenField()


class CodeForm(PortalForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=32)],
        description=_l("The 6 digits your authenticator app shows, or a recovery code."),
    )


class EnrolForm(PortalForm):
    code = StringField(
        _l("Code from the app"),
        validators=[DataRequired(), Length(max=16)],
        description=_l("After adding the account, enter the 6 digits the app shows."),
    )


class ConfirmPasswordForm(PortalForm):
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])
    code = StringField(
        _l("Code"),
        validators=[Length(max=32)],
        description=_l("The 6 digits your authenticator app shows, or a recovery code."),
    )
    next = HiddenField()


class ForgotPasswordForm(PortalForm):
    email = StringField(
        _l("E-mail"),
        validators=[DataRequired(), Length(max=254)],
        description=_l(
            "The address of your account. Codes are sent by e-mail only: there is no SMS."
        ),
    )


class NewPasswordForm(PortalForm):
    new = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=12, max=128)],
        description=_l("At least 12 characters. A phrase of several words is easy to remember."),
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new", message=_l("The passwords do not match."))],
    )


class PasswordChangeForm(NewPasswordForm):
    """The new password twice, after the current one (the template places each field)."""

    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=128)])


class ResetPasswordForm(NewPasswordForm):
    code = StringField(
        _l("Code from the message"),
        validators=[DataRequired(), Length(max=16)],
        description=_l("The 6 digits sent to your e-mail."),
    )
