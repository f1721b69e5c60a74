"""Each notification reaches its person by every channel they have, and none they lack.

Phone-only citizens used to get mail addressed to "None"; now they get the inbox and an SMS,
and no e-mail is attempted. E-mail is multipart (text and HTML) in the person's language.
"""

from __future__ import annotations

import threading
from email import message_from_bytes, policy

import pytest

from core import accounts, notifications
from core.notifications import Notification
from tests.conftest import wait_for_jobs
from tests.factories.volunteers import unit
from tests.portal.fake_sms import API_KEY, FakeMobizon
from tests.portal.test_worker_command import _SmtpSink


@pytest.fixture
def smtp():
    sink = _SmtpSink()
    threading.Thread(target=sink.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield sink
    sink.shutdown()
    sink.server_close()


@pytest.fixture
def mobizon():
    with FakeMobizon() as server:
        yield server


def _person(email, phone, language):
    from portal.extensions import db

    user = accounts.create_user(
        db.session,
        email=email,
        phone=phone,
        full_name="Әлия Нұрланқызы",
        preferred_language=language,
        unit_id=unit(db.session, "354030100").id,
        password="a long enough passphrase",
        actor_id=None,
    )
    return user


def _queue(user, kind="application.status", params=None):
    from portal.extensions import db

    return notifications.queue_message(
        db.session,
        user_id=user.id,
        email=user.email,
        kind=kind,
        params=params or {"application_id": 1, "status": "registered", "reason": ""},
        language=user.preferred_language,
    )


def _in(app, language: str, status: str) -> str:
    """Return the message's first sentence as ``language`` says it."""
    from flask_babel import force_locale, gettext

    from portal.labels import APPLICATION_STATUS_LABELS

    with app.test_request_context(), force_locale(language):
        label = str(APPLICATION_STATUS_LABELS[status])
        return gettext("The status of your application is now: %(status)s.", status=label)


def test_phone_only_account_gets_inbox_and_sms_and_no_mail_to_none(app, smtp, mobizon):
    from portal.extensions import db

    app.config.update(
        MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.server_address[1], SMS_URL=mobizon.url
    )
    app.config["SMS_API_KEY"] = API_KEY
    with app.app_context():
        user = _person(None, "+7 701 555 44 33", "ru")
        note_id, user_id = _queue(user).id, user.id
        db.session.commit()
    wait_for_jobs(app)
    with app.app_context():
        note = db.session.get(Notification, note_id)
        assert (note.email, note.status, note.error) == (None, "no_address", None)
        assert (note.sms_status, note.sms_id, note.sms_attempts) == ("sent", "5001", 1)
        assert notifications.unread_count(db.session, user_id) == 1
    assert smtp.messages == []  # nothing was addressed to "None", or to anyone
    (request,) = mobizon.requests
    assert request["form"]["recipient"] == "77015554433"
    assert request["form"]["text"].startswith(_in(app, "ru", "registered"))  # their language
    assert "/my" in request["form"]["text"]  # with the link to the application


def test_email_account_gets_multipart_mail_in_their_language(app, smtp):
    from portal.extensions import db

    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.server_address[1])
    with app.app_context():
        user = _person("aliya@example.kz", None, "kk")
        refused = {"application_id": 1, "status": "refused", "reason": "<b>Сот</b> шешімі"}
        note_id = _queue(user, params=refused).id
        db.session.commit()
    wait_for_jobs(app)
    with app.app_context():
        note = db.session.get(Notification, note_id)
        assert (note.status, note.sms_status) == ("sent", None)  # no phone: no SMS either
    (raw,) = smtp.messages
    mail = message_from_bytes(raw, policy=policy.default)
    assert mail["To"] == "aliya@example.kz"
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert _in(app, "kk", "refused") in text  # Kazakh, the person's language
    assert "<b>Сот</b> шешімі" in text  # plain text as written
    assert "&lt;b&gt;Сот&lt;/b&gt; шешімі" in html and "<b>Сот</b>" not in html  # escaped
    assert 'lang="kk"' in html and "/my" in html


def test_sms_is_off_without_a_gateway_and_retried_after_an_outage(app, mobizon):
    from portal.extensions import db
    from portal.mail import deliver

    with app.app_context():
        user = _person(None, "+7 701 555 44 34", "kk")
        off_id, user_id = _queue(user).id, user.id
        db.session.commit()
    wait_for_jobs(app)
    app.config.update(SMS_URL=mobizon.url, SMS_API_KEY=API_KEY)
    mobizon.answers = [(502, {"code": 999, "message": "gateway"})]
    with app.app_context():
        assert db.session.get(Notification, off_id).sms_status == "off"  # nothing pretended
        app.extensions["portal_executor"].submit(lambda: None).result()
        retry_id = _queue(db.session.get(accounts.User, user_id)).id
        db.session.info.pop("portal_pending_notifications", None)  # delivered by hand below
        db.session.commit()
        from portal.sms import SmsUnavailable

        with pytest.raises(SmsUnavailable):
            deliver(app, db.session, retry_id)  # left pending: RQ runs the job again
        assert db.session.get(Notification, retry_id).sms_status == "pending"
        assert deliver(app, db.session, retry_id) == "sent"
        assert deliver(app, db.session, retry_id) == "skipped"  # once, however often run
        db.session.expire_all()
        note = db.session.get(Notification, retry_id)
        assert (note.sms_status, note.sms_attempts) == ("sent", 2)
    assert len(mobizon.requests) == 2


def test_a_long_sms_is_shortened_in_its_text_and_keeps_its_link_whole():
    from portal.mail import SMS_LENGTH, Rendered

    link = "https://portal.example.kz/my/cases/123"
    long = Rendered(subject="s", text="Ә" * 1000, link=link, body="", html="")
    assert len(long.sms) == SMS_LENGTH
    assert long.sms.endswith(" " + link)
    assert "…" in long.sms
    short = Rendered(subject="s", text="Тексеру  аяқталды", link=None, body="", html="")
    assert short.sms == "Тексеру аяқталды"
