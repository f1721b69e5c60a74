"""What passing or failing a police check and registering an applicant will do, by name."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import select

from core import clock
from core.iin import mask_iin
from portal.confirmation import Consequence
from portal.extensions import db
from portal.i18n import local_date, unit_name
from portal.labels import KIND_LABELS
from volunteers import register
from volunteers.models import Application, CertificateCounter


def _person(app: Application) -> list[tuple[str, str]]:
    # The name in full, the IIN masked: as the application page shows them to vetting staff.
    return [
        (_("Applicant"), app.full_name),
        (_("IIN"), mask_iin(app.iin)),
        (_("Kind"), KIND_LABELS[app.kind]),
        (_("Settlement or district"), unit_name(app.unit)),
        (_("Application"), _("No. %(id)s", id=app.id)),
    ]


def pass_check(app: Application) -> Consequence:
    """A passed check is recorded once and lets the coordinator petition the akimat."""
    return Consequence(
        title=_("Record the police check as passed?"),
        verb=_("Yes, the check is passed"),
        action=url_for("volunteers.pass_check", application_id=app.id),
        cancel=url_for("volunteers.application", application_id=app.id),
        consequence=_(
            "%(name)s is recorded as having passed the police check; the outcome cannot be "
            "changed afterwards. The akimat can then be petitioned to register them.",
            name=app.full_name,
        ),
        facts=_person(app),
    )


def refuse(app: Application, reason: str, carried: dict[str, str]) -> Consequence:
    """A refusal closes the application and is told to the applicant with its reason."""
    return Consequence(
        title=_("Refuse the application?"),
        verb=_("Yes, refuse"),
        action=url_for("volunteers.refuse", application_id=app.id),
        cancel=url_for("volunteers.application", application_id=app.id),
        consequence=_(
            "The application of %(name)s is refused and closed: the applicant is told the "
            "reason and may complain; the refusal cannot be taken back here.",
            name=app.full_name,
        ),
        facts=[*_person(app), (_("Reason for refusal"), reason)],
        carried=carried,
    )


def _expected_certificate(app: Application) -> str:
    """The next number of the issuing akimat's counter, read without taking it."""
    year = clock.today().year
    issuer = register.issuing_unit(db.session, app.unit)
    last = db.session.scalar(
        select(CertificateCounter.last).where(
            CertificateCounter.unit_id == issuer.id, CertificateCounter.year == year
        )
    )
    return register.certificate_number(issuer, year, (last or 0) + 1)


def register_applicant(app: Application) -> Consequence:
    """Registration enters the person in the akimat's register and issues a certificate."""
    today = clock.today()
    expires = register.add_months(today, register.validity_months(db.session, app.unit))
    return Consequence(
        title=_("Register the applicant and issue the certificate?"),
        verb=_("Yes, register and issue the certificate"),
        action=url_for("volunteers.register_applicant", application_id=app.id),
        cancel=url_for("volunteers.application", application_id=app.id),
        consequence=_(
            "%(name)s enters the akimat's register and gets a certificate valid until "
            "%(date)s. An entry in the register is not deleted: it can only be suspended or "
            "ended with a reason.",
            name=app.full_name,
            date=local_date(expires),
        ),
        facts=[
            *_person(app),
            (_("Certificate number (expected)"), _expected_certificate(app)),
            (_("Valid until"), local_date(expires)),
        ],
    )
