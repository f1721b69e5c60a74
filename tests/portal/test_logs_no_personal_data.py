"""No server logs query strings or personal data (issue 17, finding 8).

A whole scenario runs with every logger at DEBUG (SQLAlchemy's statements and rows too): a
sign-up and an application with an e-mail, phone numbers and an IIN in the forms and in query
strings, searches by name, phone, IIN and e-mail, an export, a page that is not there with an
e-mail in its path; then the development server (werkzeug's request lines) and gunicorn's
access log (its default format and one with the query string, the address and the cookie)
serve requests with the same data in their query strings. Nothing any of them wrote holds the
planted name, e-mail, phone or IIN, in any spelling, nor anything shaped like one.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import threading
import urllib.error
import urllib.request
from types import SimpleNamespace
from urllib.parse import quote, unquote_plus

from core import places
from portal.observability import JsonFormatter
from tests.conftest import login_as, wait_for_jobs
from tests.factories.oversight import paid_reward
from tests.factories.volunteers import iin_for
from tests.portal.security.signin_steps import sign_up

NAME = "Жанар Журналова"
EMAIL = "zhanar.journal@example.kz"
PHONES = ("+7 701 555 01 02", "+77015550102", "87015550102", "7015550102")
IIN = iin_for(7401, sex="female")
# Anything shaped like what the logs must not hold, whoever it belongs to.
SHAPES = (
    re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"),
    re.compile(r"(?<![0-9A-Za-z])\d{12}(?![0-9A-Za-z])"),
    re.compile(r"(?<![0-9A-Za-z])(?:\+7|8)[\s(]*7\d\d[\s)-]*\d{3}[\s-]*\d\d[\s-]*\d\d"),
)


def _query(**values) -> str:
    return "&".join(f"{k}={quote(v)}" for k, v in values.items())


def _portal_scenario(app, session) -> None:
    paid_reward(session)  # a register and payouts to export (written before any request)
    citizen = app.test_client()
    home = places.by_kato(session, "354030100")
    citizen.get("/signup?" + _query(email=EMAIL, phone=PHONES[0], iin=IIN, name=NAME))
    signed = sign_up(
        app,
        citizen,
        {
            "full_name": NAME,
            "email": EMAIL,
            "phone": PHONES[0],
            "preferred_language": "ru",
            "unit_id": home.id,
            "password": "journal passphrase 17",
            "confirm": "journal passphrase 17",
        },
    )
    assert signed.status_code == 302
    citizen.get("/apply?" + _query(iin=IIN, phone=PHONES[1]))
    page = citizen.get("/apply").text
    version = re.search(r'name="consent_version"[^>]*value="([^"]+)"', page)
    applied = citizen.post(
        "/apply",
        data={
            "kind": "patrol_member",
            "unit_id": home.id,
            "patrol_unit_id": 0,
            "iin": IIN,
            "full_name": NAME,
            "phone": PHONES[2],
            "email": EMAIL,
            "address": "Ботақара, 12",
            "is_citizen": "y",
            "no_criminal_record": "y",
            "not_on_register": "y",
            "consent": "y",
            "consent_version": version.group(1) if version else "",
        },
    )
    assert applied.status_code == 302, applied.text[:2000]

    officer = app.test_client()
    login_as(officer, "coordinator@demo.kz")
    for q in (NAME, PHONES[1], IIN, EMAIL):
        assert officer.get("/volunteers/members?" + _query(q=q)).status_code == 200
    officer.get("/volunteers/applications?" + _query(status=EMAIL))
    officer.get(f"/nowhere/{EMAIL}/{IIN}")
    login_as(officer, "admin@demo.kz")
    officer.get("/admin/users?" + _query(q=EMAIL))
    officer.get("/admin/users?" + _query(q=PHONES[3]))

    login_as(officer, "deputy@demo.kz")
    exported = officer.post("/oversight/exports", data={"dataset": "register", "format": "csv"})
    assert exported.status_code == 302
    wait_for_jobs(app)
    assert officer.get(exported.headers["Location"] + "/result").status_code == 200


def _development_server(app) -> None:
    """Requests through the server ``flask serve`` runs (werkzeug), with query strings."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        for path in (
            "/signup?" + _query(email=EMAIL, phone=PHONES[1], iin=IIN, name=NAME),
            "/volunteers/members?" + _query(q=IIN),
            f"/nowhere/{EMAIL}",
        ):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=10).close()
            except urllib.error.HTTPError as answer:
                answer.close()
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


def _gunicorn_access_log(tmp_path) -> str:
    """gunicorn's access log, as ``--access-logfile`` writes it, in two formats."""
    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    path = tmp_path / "access.log"
    config = Config()
    config.set("accesslog", str(path))
    logger = Logger(config)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/volunteers/members?" + _query(q=NAME, phone=PHONES[1]),
        "PATH_INFO": "/volunteers/members",
        "QUERY_STRING": _query(q=IIN, email=EMAIL),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.20.30.40",
        "HTTP_REFERER": "http://portal.example/admin/users?" + _query(q=EMAIL),
        "HTTP_USER_AGENT": "journal-test",
    }
    answer = SimpleNamespace(status="200 OK", sent=512, headers=[])
    request = SimpleNamespace(headers=[("COOKIE", "__Host-session=cookie-value-4711")])
    try:
        logger.access(answer, request, environ, dt.timedelta(milliseconds=12))
        config.set("access_log_format", '%(h)s "%(r)s" %(q)s "%(f)s" %({cookie}i)s %(U)s')
        logger.access(answer, request, environ, dt.timedelta(milliseconds=12))
    finally:
        for log in (logger.access_log, logger.error_log):
            for handler in list(log.handlers):
                handler.close()
                log.removeHandler(handler)
    return path.read_text()


def test_no_server_logs_query_strings_or_personal_data(app, session, caplog, tmp_path):
    for name in (None, "sqlalchemy", "werkzeug", "portal"):  # SQLAlchemy keeps its own at WARN
        caplog.set_level(logging.DEBUG, logger=name)
    _portal_scenario(app, session)
    _development_server(app)
    gunicorn = _gunicorn_access_log(tmp_path)

    records = list(caplog.records)
    assert any(r.name == "werkzeug" and "/volunteers/members" in r.getMessage() for r in records)
    assert any(r.name.startswith("sqlalchemy.engine") for r in records)  # DEBUG reached it
    assert "/volunteers/members" in gunicorn and "journal-test" in gunicorn
    logged = "\n".join(
        [caplog.text, gunicorn]
        + [JsonFormatter().format(r) for r in records]
        + [json.dumps(getattr(r, "extra_fields", {}), ensure_ascii=False) for r in records]
    )
    for text in (logged, unquote_plus(logged)):
        for planted in (NAME, EMAIL, IIN, *PHONES, "10.20.30.40", "cookie-value-4711"):
            assert planted not in text, planted
        for shape in SHAPES:
            assert not shape.search(text), shape.search(text).group()
        assert "?q=" not in text and "?email=" not in text
