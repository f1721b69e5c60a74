"""Rendering notifications in the recipient's language and sending them by SMTP."""

from __future__ import annotations

import json
import smtplib
from email.message import EmailMessage

from flask import Flask, url_for
from flask_babel import force_locale, gettext

from core import jobruns, notifications
from core.notifications import Notification
from portal.labels import APPLICATION_STATUS_LABELS, JOB_KIND_LABELS


def render(note: Notification) -> tuple[str, str]:
    """Return the subject and body of ``note`` in its language."""
    params = json.loads(note.params)
    with force_locale(note.language):
        if note.kind == "application.status":
            status = str(APPLICATION_STATUS_LABELS.get(params["status"], params["status"]))
            subject = gettext("Your application: %(status)s", status=status)
            body = gettext("The status of your application is now: %(status)s.", status=status)
            if params.get("reason"):
                body += "\n" + gettext("Reason: %(reason)s", reason=params["reason"])
            body += "\n" + gettext(
                "Details: %(link)s", link=url_for("volunteers.cabinet", _external=True)
            )
            return subject, body
        if note.kind in SIGNUP_MESSAGES:
            return _signup_message(note.kind, params)
        if note.kind == "password.reset_code":
            return _reset_message(params)
        if note.kind in SHIFT_MESSAGES:
            return _shift_message(note.kind, params)
        if note.kind == "nomination.outcome":
            return _outcome_message(params)
        if note.kind == jobruns.FAILURE_NOTICE:
            return _job_failed_message(params)
        if note.kind == "inquiry.answered":
            subject = gettext("Your inquiry No. %(id)s has been answered", id=params["inquiry_id"])
            body = (
                gettext("The akimat answered your inquiry No. %(id)s.", id=params["inquiry_id"])
                + "\n"
                + gettext(
                    "Details: %(link)s",
                    link=url_for(
                        "oversight.inquiry", inquiry_id=params["inquiry_id"], _external=True
                    ),
                )
            )
            return subject, body
    raise ValueError(f"unknown notification kind {note.kind}")


SHIFT_MESSAGES = ("shift.changed", "shift.cancelled", "shift.reminder")
SIGNUP_MESSAGES = ("signup.code", "signup.existing")


def _signup_message(kind: str, params: dict) -> tuple[str, str]:
    if kind == "signup.code":
        subject = gettext("Your sign-up code")
        body = gettext(
            "Your one-time code is %(code)s. Enter it on the sign-up page within %(minutes)s"
            " minutes. If you did not sign up, ignore this message.",
            code=params["code"],
            minutes=params["minutes"],
        )
        return subject, body
    subject = gettext("Someone tried to sign up with your address")
    body = gettext(
        "Someone tried to create an account with your e-mail address or phone number. You"
        " already have an account, so none was created: sign in instead: %(link)s. If it was"
        " not you, you need not do anything.",
        link=url_for("auth.login", _external=True),
    )
    return subject, body


def _reset_message(params: dict) -> tuple[str, str]:
    subject = gettext("Your password reset code")
    body = gettext(
        "Your one-time code is %(code)s. Enter it on the password reset page within"
        " %(minutes)s minutes, with your new password. If you did not ask for it, ignore this"
        " message: your password stays as it is.",
        code=params["code"],
        minutes=params["minutes"],
    )
    return subject, body


def _shift_message(kind: str, params: dict) -> tuple[str, str]:
    from portal.extensions import db
    from portal.i18n import local_time
    from volunteers.activity_models import Shift

    shift = db.session.get(Shift, params["shift_id"])
    when = f"{local_time(shift.starts_at)} – {local_time(shift.ends_at)}"
    if kind == "shift.changed":
        subject = gettext("A shift you signed up for has changed")
        body = gettext(
            "The shift now takes place %(when)s at %(place)s.", when=when, place=shift.place
        )
    elif kind == "shift.cancelled":
        subject = gettext("A shift you signed up for is cancelled")
        body = gettext(
            "The shift %(when)s at %(place)s is cancelled. Reason: %(reason)s",
            when=when,
            place=shift.place,
            reason=params.get("reason", ""),
        )
    else:
        subject = gettext("Reminder: your shift tomorrow")
        body = gettext("Your shift is %(when)s at %(place)s.", when=when, place=shift.place)
    body += "\n" + gettext("Details: %(link)s", link=url_for("shifts.mine", _external=True))
    return subject, body


def _outcome_message(params: dict) -> tuple[str, str]:
    outcome = {
        "approved": gettext("approved"),
        "rejected": gettext("not approved"),
        "deferred": gettext("deferred"),
    }[params["outcome"]]
    subject = gettext("The reward commission has decided: %(outcome)s", outcome=outcome)
    body = gettext(
        "The commission considered your nomination No. %(id)s: %(outcome)s.",
        id=params["nomination_id"],
        outcome=outcome,
    )
    body += "\n" + gettext(
        "Details: %(link)s", link=url_for("commission.my_rewards", _external=True)
    )
    return subject, body


def _job_failed_message(params: dict) -> tuple[str, str]:
    job = str(JOB_KIND_LABELS.get(params["kind"], params["kind"]))
    subject = gettext("A background job failed: %(job)s", job=job)
    body = gettext(
        "The job “%(job)s” (run No. %(id)s) failed. The operations page shows its error and"
        " lets you run it again.",
        job=job,
        id=params["run_id"],
    )
    body += "\n" + gettext(
        "Details: %(link)s", link=url_for("jobruns.show", run_id=params["run_id"], _external=True)
    )
    return subject, body


def deliver(app: Flask, db_session, note_id: int) -> str:
    """Render and send one pending message; safe to call twice (the second does nothing)."""
    note = db_session.get(Notification, note_id)
    if note is None or note.status != "pending":
        return "skipped"
    with app.test_request_context(base_url=app.config.get("PUBLIC_BASE_URL", "http://localhost/")):
        subject, body = render(note)
    server = app.config.get("MAIL_SERVER")
    if not server:
        notifications.mark(db_session, note.id, "kept", subject=subject, body=body)
        db_session.commit()
        return "kept"
    message = EmailMessage()
    message["From"] = app.config.get("MAIL_FROM", "portal@localhost")
    message["To"] = note.email
    message["Subject"] = subject
    message.set_content(body)
    # Claim first, then send: a crash after sending cannot send the same message twice.
    if not notifications.mark(db_session, note.id, "sent", subject=subject, body=body):
        db_session.rollback()
        return "skipped"
    db_session.commit()
    try:
        with smtplib.SMTP(server, int(app.config.get("MAIL_PORT", 25)), timeout=20) as smtp:
            if app.config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if app.config.get("MAIL_USERNAME"):
                smtp.login(app.config["MAIL_USERNAME"], app.config["MAIL_PASSWORD"])
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        note = db_session.get(Notification, note_id)
        note.status, note.error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
        db_session.commit()
        return "failed"
    return "sent"
