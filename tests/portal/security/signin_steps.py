"""Steps shared by the sign-in and sign-up tests: the retry text and signing up with the code."""

from __future__ import annotations

import json
import math

from sqlalchemy import select

from tests.conftest import wait_for_jobs


def retry_text(app, response, lang: str = "kk") -> str:
    """Return the words a 429 ``response`` must carry: when to try again, in ``lang``."""
    from flask_babel import force_locale, ngettext
    from markupsafe import escape

    minutes = max(1, math.ceil(int(response.headers["Retry-After"]) / 60))
    with app.test_request_context(), force_locale(lang):
        return str(
            escape(
                ngettext(
                    "Too many attempts. Try again in %(num)d minute.",
                    "Too many attempts. Try again in %(num)d minutes.",
                    minutes,
                )
            )
        )


def messages_to(app, email: str, kind: str) -> list[dict]:
    """Return the parameters of the messages of ``kind`` sent to ``email``, oldest first."""
    from core.notifications import Notification
    from portal.extensions import db

    wait_for_jobs(app)
    with app.app_context():
        rows = db.session.scalars(
            select(Notification.params)
            .where(Notification.email == email, Notification.kind == kind)
            .order_by(Notification.id)
        ).all()
        db.session.remove()
    return [json.loads(p) for p in rows]


def sign_up(app, client, data: dict, **environ):
    """Sign up through ``/signup`` and the code sent by e-mail; return the code step's answer."""
    extra = {"environ_base": environ} if environ else {}
    started = client.post("/signup", data=data, **extra)
    assert started.status_code == 302, started.text[:2000]
    assert started.headers["Location"].endswith("/signup/code")
    code = messages_to(app, data["email"].strip().lower(), "signup.code")[-1]["code"]
    return client.post("/signup/code", data={"code": code}, **extra)
