"""Structured JSON logs: a line per request with its id and the user id, no personal data.

No log line of the process carries a query string, an e-mail address, a phone number or an IIN,
whichever server writes it (finding 8 of issue 17): the portal's access log logs the path
only; every record of every logger is scrubbed when it is made (``install_scrubbing``), which
covers the development server's request lines (werkzeug), gunicorn's access log in any format
(``--access-logfile``: the query string, the client's address, cookies and the referrer's
query are blanked) and the error tracebacks; SQL parameters and rows are never logged, even
with SQLAlchemy's logger at DEBUG.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Iterator, Mapping

from flask import Flask, g, has_request_context, request
from sqlalchemy import inspect

ACCESS = logging.getLogger("portal.access")
_ID_OK = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")

# A path's query string (up to a space or a quote): searches and forms carry names and phones.
_QUERY = re.compile(r"(/[^\s?\"']*)\?[^\s\"']*")
_EMAIL = re.compile(r"[\w.+-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+")
# Kazakh phone numbers in the spellings people type: +7 / 8 / 7, spaces, brackets, dashes; or
# the ten digits alone. Whole tokens only, so that hex ids and hashes are left alone.
_PHONE = re.compile(
    r"(?<![0-9A-Za-z])(?:(?:\+|%2[Bb])?[78][\s(.-]*)?\(?7\d{2}\)?[\s.-]*\d{3}[\s.-]*\d{2}"
    r"[\s.-]*\d{2}(?![0-9A-Za-z])"
)
_IIN = re.compile(r"(?<![0-9A-Za-z])\d{12}(?![0-9A-Za-z])")
# PostgreSQL's DETAIL of a constraint error repeats the row's or the key's values (names).
_DETAIL = re.compile(r"DETAIL:[^\n]*")
# gunicorn's atoms that are personal data whatever the format: the query string, the client's
# address (also as forwarded), the cookies (a session) and the credentials.
_GUNICORN_BLANK = {
    "q",
    "h",
    "{query_string}e",
    "{remote_addr}e",
    "{http_cookie}e",
    "{http_authorization}e",
    "{http_x_forwarded_for}e",
    "{cookie}i",
    "{authorization}i",
    "{x-forwarded-for}i",
    "{x-real-ip}i",
}
# werkzeug's request line starts with the client's address.
_WERKZEUG_ADDRESS = re.compile(r"^\S+ - - \[")
_SCRUBS = "_portal_scrubs"
# Fields every line of the current job (or other unit of work) carries: its job id and kind.
_CONTEXT: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "portal_log_context", default=None
)


_CALENDAR_TOKEN = re.compile(r"(/calendar/)[^/\s?]+(\.ics)")


def scrub(text: str) -> str:
    """Remove query strings and mask e-mail addresses, phone numbers and IINs in ``text``."""
    text = _QUERY.sub(r"\1", text)
    text = _CALENDAR_TOKEN.sub(r"\1[token]\2", text)  # a member's feed address is their secret
    text = _DETAIL.sub("DETAIL: [values]", text)
    text = _EMAIL.sub("[email]", text)
    text = _IIN.sub("[iin]", text)
    return _PHONE.sub("[phone]", text)


def _scrub_record(record: logging.LogRecord) -> None:
    args = record.args
    if record.name == "gunicorn.access" and isinstance(args, Mapping):
        for key, value in list(args.items()):
            if key in _GUNICORN_BLANK:
                args[key] = "-"
            elif isinstance(value, str):
                args[key] = scrub(value)
    elif record.name.startswith("sqlalchemy.engine") and isinstance(args, tuple):
        # Bound parameters and result rows (DEBUG) hold whatever people typed.
        if record.msg == "Row %r":
            record.args = ("[row]",)
        else:
            record.args = tuple(
                "[parameters]" if type(a).__name__ == "_repr_params" else a for a in args
            )
    try:
        message = record.getMessage()
    except Exception:  # a malformed record: logging reports it when the record is emitted
        return
    if record.name == "werkzeug":
        message = _WERKZEUG_ADDRESS.sub("- - - [", message)
    record.msg, record.args = scrub(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)


def install_scrubbing() -> None:
    """Scrub every log record of the process when it is made (once, however many apps)."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, _SCRUBS, False):
        return

    def make(*args, **kwargs) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        _scrub_record(record)
        return record

    setattr(make, _SCRUBS, True)
    logging.setLogRecordFactory(make)


@contextlib.contextmanager
def log_context(**fields) -> Iterator[None]:
    """Add ``fields`` (a job's id and kind) to every log line written inside the block."""
    token = _CONTEXT.set({**(_CONTEXT.get() or {}), **fields})
    try:
        yield
    finally:
        _CONTEXT.reset(token)


class JsonFormatter(logging.Formatter):
    """Render a record as one JSON object: time, level, logger, message, request or job id.

    Request fields come from ``record.extra_fields``; a job's id and kind from ``log_context``.
    """

    def format(self, record: logging.LogRecord) -> str:
        fields = dict(_CONTEXT.get() or {})
        if has_request_context() and g.get("request_id"):
            fields["request_id"] = g.request_id
        fields.update(getattr(record, "extra_fields", {}))
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **{k: scrub(v) if isinstance(v, str) else v for k, v in fields.items()},
        }
        if record.exc_info:
            entry["exception"] = record.exc_text or scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure_process(level: int = logging.INFO) -> None:
    """Send every logger of a worker or scheduler process (RQ's too) out as JSON lines.

    The root logger gets the one JSON handler; RQ then adds none of its own (it only does
    when no handler would catch its lines), so its lines carry dates and the same fields.
    """
    install_scrubbing()
    root = logging.getLogger()
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(level)
    for name in ("rq", "portal"):
        # A handler of their own (RQ's coloured lines, the web's) would print the line twice.
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            if not isinstance(handler.formatter, JsonFormatter):
                logger.removeHandler(handler)
        logger.propagate = not logger.handlers


def _request_id() -> str:
    # Keep a proxy's id when it is a sane token; never echo arbitrary input into the logs.
    given = request.headers.get("X-Request-ID", "")
    if 8 <= len(given) <= 64 and set(given) <= _ID_OK:
        return given
    return uuid.uuid4().hex


def _user_id() -> int | None:
    """Return the signed-in user's id without a query (None when no user was loaded).

    After a committing request the loaded user is expired, and ``current_user.id`` would load
    it again just for this line (2.3 ms of a 13 ms POST, issue 16): its identity key needs no
    query. A session's raw id is not logged: only a user the request verified (epoch, active).
    """
    user = g.get("_login_user")  # Flask-Login keeps the request's user here once it is loaded
    state = None if user is None else inspect(user, raiseerr=False)
    if state is None or state.identity is None or not state.dict.get("is_active", True):
        return None
    return state.identity[0]


def install(app: Flask) -> None:
    """Give every request an id (also in the X-Request-ID response header) and log it as JSON.

    Only the path is logged, never the query string or the body: searches and forms carry
    names, IINs and phone numbers. Every other log line of the process is scrubbed too, and
    the database engines never put SQL parameters in a log or an error message.
    """
    install_scrubbing()
    from portal.extensions import db

    with app.app_context():
        for engine in db.engines.values():
            # The option the engine was built without (create_engine's hide_parameters): an
            # IntegrityError's message would otherwise carry the row's names and identifiers.
            engine.hide_parameters = True
    if app.config.get("JSON_LOGS", True) and not any(
        isinstance(h.formatter, JsonFormatter) for h in logging.getLogger("portal").handlers
    ):
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        root = logging.getLogger("portal")
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        root.propagate = app.config.get("TESTING", False)

    from portal import metrics

    metrics.install(app)

    @app.before_request
    def _start() -> None:
        g.request_id = _request_id()
        g.request_started = time.perf_counter()

    @app.after_request
    def _log(response):
        request_id = getattr(g, "request_id", None) or uuid.uuid4().hex
        response.headers["X-Request-ID"] = request_id
        started = getattr(g, "request_started", None)
        user_id = _user_id()
        ACCESS.info(
            "request",
            extra={
                "extra_fields": {
                    "request_id": request_id,
                    "method": request.method,
                    "path": scrub(request.path),  # a mistyped URL may hold an address
                    "status": response.status_code,
                    "ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
                    "user_id": user_id,
                    "endpoint": request.endpoint,
                }
            },
        )
        return response
