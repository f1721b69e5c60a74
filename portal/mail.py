"""Notifications rendered from ``templates/mail`` in the recipient's language; e-mail and SMS.

Each kind has ``mail/<kind>.txt`` (blocks ``subject`` and ``text``: the subject, and the message
an inbox or an SMS shows) and ``mail/<kind>.html``; an e-mail carries both as
multipart/alternative. Parameters are escaped in the HTML part by Jinja's autoescape.
"""

from __future__ import annotations

import datetime as dt
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from flask import Flask, current_app, url_for
from flask_babel import force_locale, gettext

from core import jobruns, notifications
from core.account_models import User
from core.doc_numbers import without_sign
from core.notifications import Notification
from portal import sms
from portal.labels import (
    ACT_KIND_LABELS,
    APPEAL_OUTCOME_LABELS,
    APPLICATION_STATUS_LABELS,
    COMPLAINT_STATUS_LABELS,
    JOB_KIND_LABELS,
)

SHIFT_MESSAGES = ("shift.changed", "shift.cancelled", "shift.reminder")
# Hearings and complaints (appeals): each links to the person's case page.
HEARING_MESSAGES = ("hearing_notice", "hearing_adopted", "hearing_protocol")
COMPLAINT_MESSAGES = ("complaint_registered", "complaint_forwarded", "complaint_decided")
KINDS = (
    "application.status",
    "signup.code",
    "signup.existing",
    "password.reset_code",
    *SHIFT_MESSAGES,
    "nomination.outcome",
    jobruns.FAILURE_NOTICE,
    "inquiry.answered",
    "payout.iban_missing",
    *HEARING_MESSAGES,
    *COMPLAINT_MESSAGES,
)
SMS_LENGTH = 480  # three SMS segments of Cyrillic text


@dataclass(frozen=True)
class Rendered:
    """A notification in one language: what the inbox, the e-mail and the SMS show."""

    subject: str
    text: str  # the message itself, without the link
    link: str | None
    body: str  # the e-mail's plain-text part
    html: str  # the e-mail's HTML part

    @property
    def sms(self) -> str:
        """The SMS text within ``SMS_LENGTH``: the message is shortened, never the link."""
        message = " ".join(self.text.split())
        tail = f" {self.link}" if self.link else ""
        room = SMS_LENGTH - len(tail)
        if len(message) > room:
            message = message[: max(room - 1, 0)].rstrip() + "…"
        return message + tail


def link_of(kind: str, params: dict, *, external: bool) -> str | None:
    """Return the address of the record the message is about (None: there is none)."""
    endpoint, values = {
        "application.status": ("volunteers.cabinet", {}),
        "nomination.outcome": ("commission.my_rewards", {}),
        "shift.changed": ("shifts.mine", {}),
        "shift.cancelled": ("shifts.mine", {}),
        "shift.reminder": ("shifts.mine", {}),
        "inquiry.answered": ("oversight.inquiry", {"inquiry_id": params.get("inquiry_id")}),
        jobruns.FAILURE_NOTICE: ("jobruns.show", {"run_id": params.get("run_id")}),
        "payout.iban_missing": ("volunteers.cabinet", {"_anchor": "payout-account"}),
    }.get(kind, (None, {}))
    if kind in HEARING_MESSAGES:
        endpoint, values = "appeals.my_hearing", {"hearing_id": params.get("hearing_id")}
    elif kind in COMPLAINT_MESSAGES:
        endpoint, values = "appeals.my_complaint", {"complaint_id": params.get("complaint_id")}
    if endpoint is None:
        return None
    return url_for(endpoint, _external=external, **values)


def _context(kind: str, params: dict, external: bool) -> dict:
    """Return what the templates of ``kind`` show, computed in the current language."""
    if kind == "signup.existing":
        return {"login_link": url_for("auth.login", _external=external)}
    if kind == "application.status":
        return {
            "status": str(APPLICATION_STATUS_LABELS.get(params["status"], params["status"])),
            "reason": params.get("reason") or "",
        }
    if kind in SHIFT_MESSAGES:
        from portal.extensions import db
        from portal.i18n import local_time
        from volunteers.activity_models import Shift

        shift = db.session.get(Shift, params["shift_id"])
        return {
            "when": f"{local_time(shift.starts_at)} – {local_time(shift.ends_at)}",
            "place": shift.place,
            "reason": params.get("reason", ""),
        }
    if kind == "nomination.outcome":
        outcome = {
            "approved": gettext("approved"),
            "rejected": gettext("not approved"),
            "deferred": gettext("deferred"),
        }[params["outcome"]]
        return {"outcome": outcome, "nomination_id": params["nomination_id"]}
    if kind == jobruns.FAILURE_NOTICE:
        return {"job": str(JOB_KIND_LABELS.get(params["kind"], params["kind"]))}
    if kind in HEARING_MESSAGES or kind in COMPLAINT_MESSAGES:
        return _appeal_context(params)
    return {}


def _appeal_context(params: dict) -> dict:
    """The act kind and outcome named, the ISO dates written, in the current language."""
    from portal.i18n import document_date

    def day(key: str) -> str:
        value = params.get(key)
        return document_date(dt.date.fromisoformat(value)) if value else ""

    outcome = params.get("outcome")
    if outcome == "granted":
        outcome_label = COMPLAINT_STATUS_LABELS["granted"]
    else:
        outcome_label = APPEAL_OUTCOME_LABELS.get(outcome, outcome or "")
    act = params.get("act_kind")
    return {
        "act": str(ACT_KIND_LABELS.get(act, act or "")),
        "act_number": without_sign(params.get("act_number")),
        "objection_due": day("objection_due_on"),
        "earliest_act": day("earliest_act_on"),
        "remarks_due": day("remarks_due_on"),
        "registered": day("registered_on"),
        "forward_due": day("forward_due_on"),
        "review_due": day("review_due_on"),
        "number": without_sign(params.get("number")),
        "outcome_label": str(outcome_label),
    }


def render(note: Notification, *, language: str | None = None, external: bool = True) -> Rendered:
    """Render ``note`` in ``language`` (its recipient's, by default)."""
    if note.kind not in KINDS:
        raise ValueError(f"unknown notification kind {note.kind}")
    params = note.values()
    env = current_app.jinja_env
    with force_locale(language or note.language):
        context = {
            **params,
            **_context(note.kind, params, external),
            "link": link_of(note.kind, params, external=external),
        }
        text_template = env.get_template(f"mail/{note.kind}.txt")
        blocks = text_template.new_context(context)
        subject = " ".join("".join(text_template.blocks["subject"](blocks)).split())
        text = "".join(text_template.blocks["text"](blocks)).strip()
        # Rendered without the pages' context processors: a message has no page around it.
        body = text_template.render(subject=subject, **context)
        html = env.get_template(f"mail/{note.kind}.html").render(subject=subject, **context)
    return Rendered(subject=subject, text=text, link=context["link"], body=body, html=html)


def deliver(app: Flask, db_session, note_id: int) -> str:
    """Send one message by e-mail and SMS, each channel once; safe to call twice.

    Returns the e-mail's outcome, or the SMS's when no e-mail was due. An SMS the provider
    could not take is left pending and raised (``SmsUnavailable``), so the job runs again.
    """
    note = db_session.get(Notification, note_id)
    if note is None:
        return "skipped"
    email_due = note.status == "pending"
    sms_due = note.sms_status == "pending"
    unrendered = note.status == "no_address" and note.subject is None
    if not email_due and not sms_due and not unrendered:
        return "skipped"
    with app.test_request_context(base_url=app.config.get("PUBLIC_BASE_URL", "http://localhost/")):
        message = render(note)
    outcome = "skipped"
    if email_due:
        outcome = _send_email(app, db_session, note, message)
    elif note.subject is None:
        # No e-mail carries it: keep the text for the outbox all the same.
        notifications.record_render(db_session, note_id, subject=message.subject, body=message.body)
        db_session.commit()
    if sms_due:
        sent = _send_sms(app, db_session, note_id, message)
        outcome = outcome if email_due else sent
    return outcome


def _send_email(app: Flask, db_session, note: Notification, message: Rendered) -> str:
    subject, body = message.subject, message.body
    server = app.config.get("MAIL_SERVER")
    if not server:
        notifications.mark(db_session, note.id, "kept", subject=subject, body=body)
        db_session.commit()
        return "kept"
    email = EmailMessage()
    email["From"] = app.config.get("MAIL_FROM", "portal@localhost")
    email["To"] = note.email
    email["Subject"] = subject
    email.set_content(body)
    email.add_alternative(message.html, subtype="html")
    note_id = note.id
    # Claim first, then send: a crash after sending cannot send the same message twice.
    if not notifications.mark(db_session, note_id, "sent", subject=subject, body=body):
        db_session.rollback()
        return "skipped"
    db_session.commit()
    try:
        with smtplib.SMTP(server, int(app.config.get("MAIL_PORT", 25)), timeout=20) as smtp:
            if app.config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if app.config.get("MAIL_USERNAME"):
                smtp.login(app.config["MAIL_USERNAME"], app.config["MAIL_PASSWORD"])
            smtp.send_message(email)
    except (OSError, smtplib.SMTPException) as exc:
        note = db_session.get(Notification, note_id)
        note.status, note.error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
        db_session.commit()
        return "failed"
    return "sent"


def _send_sms(app: Flask, db_session, note_id: int, message: Rendered) -> str:
    gateway = sms.gateway(app)
    if gateway is None:
        notifications.finish_sms(db_session, note_id, "off")
        db_session.commit()
        return "off"
    note = db_session.get(Notification, note_id)
    user = db_session.get(User, note.user_id) if note.user_id else None
    if user is None or not user.phone:
        notifications.finish_sms(db_session, note_id, "failed", error="no phone number")
        db_session.commit()
        return "failed"
    phone, attempts = user.phone, note.sms_attempts
    if not notifications.claim_sms(db_session, note_id, attempts):
        db_session.rollback()
        return "skipped"
    db_session.commit()
    try:
        message_id = gateway.send(phone, message.sms)
    except sms.SmsRejected as exc:
        notifications.finish_sms(db_session, note_id, "failed", error=str(exc)[:2000])
        db_session.commit()
        return "failed"
    except sms.SmsUnavailable as exc:
        if attempts + 1 >= notifications.SMS_MAX_ATTEMPTS:
            notifications.finish_sms(db_session, note_id, "failed", error=str(exc)[:2000])
            db_session.commit()
            return "failed"
        raise
    notifications.finish_sms(db_session, note_id, "sent", message_id=message_id[:64])
    db_session.commit()
    return "sent"
