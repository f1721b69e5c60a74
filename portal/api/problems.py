"""RFC 9457 problem details: how every API refusal is answered, translated by Accept-Language."""

from __future__ import annotations

import json

import marshmallow as ma
from flask import Response, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from core.errors import DomainError, Invalid

PROBLEM_TYPE = "application/problem+json"
API_PREFIX = "/api/"

TITLES = {
    400: _l("Bad request"),
    401: _l("Sign-in needed"),
    403: _l("Access denied"),
    404: _l("Not found"),
    405: _l("Not allowed"),
    409: _l("Conflict"),
    413: _l("Too large"),
    415: _l("Unsupported media type"),
    422: _l("Cannot be done"),
    428: _l("Precondition required"),
    429: _l("Too many requests"),
    500: _l("Something went wrong"),
}
DETAILS = {
    400: _l("The request could not be understood."),
    401: _l("Sign in, or send a valid access token in the Authorization header."),
    403: _l("You do not have the right to do this."),
    404: _l("There is no such record, or it is not yours to see."),
    405: _l("This action cannot be done this way."),
    409: _l("The record has changed or the action was already done."),
    413: _l("The request is too large."),
    415: _l("Send the request body as JSON."),
    422: _l("The request breaks a rule of the portal."),
    429: _l("Too many requests. Wait a minute and try again."),
    500: _l("The error was recorded. Try again later."),
}


class ProblemError(ma.Schema):
    """One invalid input: a JSON pointer into the body, or the name of a query parameter."""

    pointer = ma.fields.String(metadata={"description": "JSON Pointer (RFC 6901) into the body"})
    parameter = ma.fields.String(metadata={"description": "Name of the query or header parameter"})
    detail = ma.fields.String(required=True)


class Problem(ma.Schema):
    """An RFC 9457 problem details object."""

    type = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String(required=True)
    instance = ma.fields.String()
    errors = ma.fields.List(ma.fields.Nested(ProblemError))


class ProblemRaised(HTTPException):
    """A refusal an API view raises with ``problem()``; rendered by the API's handler."""

    def __init__(self, status: int, detail: str | None, errors: list[dict] | None, headers=None):
        super().__init__(description=detail)
        self.code = status
        self.errors = errors or []
        self.extra_headers = headers or {}


def is_api_request() -> bool:
    """Tell whether the current request is addressed to the JSON API."""
    return request.path.startswith(API_PREFIX)


def problem(status: int, detail: str | None = None, *, pointer: str | None = None, headers=None):
    """Refuse the request with a problem of ``status``; ``pointer`` names the body field."""
    errors = None
    if pointer:
        errors = [{"pointer": pointer, "detail": detail or str(DETAILS.get(status, ""))}]
    raise ProblemRaised(status, detail, errors, headers)


def render(status: int, detail: str | None = None, errors: list[dict] | None = None, headers=None):
    """Build the ``application/problem+json`` response for ``status``."""
    title = TITLES.get(status) or (TITLES[500] if status >= 500 else TITLES[400])
    body = {
        "type": "about:blank",
        "title": str(title),
        "status": status,
        "detail": detail or str(DETAILS.get(status) or (DETAILS[500] if status >= 500 else title)),
        "instance": request.path,
    }
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_TYPE)
    response.headers["Content-Language"] = _language()
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _language() -> str:
    from flask_babel import get_locale

    return str(get_locale() or "kk")


def pointer_of(field: str | None) -> str | None:
    """Return the JSON pointer of a body field named by a domain refusal."""
    if not field:
        return None
    return "/" + field.replace("~", "~0").replace("/", "~1").replace(".", "/")


def from_domain(exc: DomainError):
    """Answer a domain refusal: its status, its translated message, each input at its pointer."""
    from portal.i18n import translate_error

    errors = []
    for each in exc.errors if isinstance(exc, Invalid) else [exc]:
        if each.field:
            errors.append({"pointer": pointer_of(each.field), "detail": translate_error(each)})
    return render(exc.status, translate_error(exc), errors or None)


# webargs/marshmallow messages, translated (they are English msgids of marshmallow 4).
MARSHMALLOW_MESSAGES = {
    "Missing data for required field.": _l("This field is required."),
    "Unknown field.": _l("This field is not known."),
    "Field may not be null.": _l("This field may not be empty."),
    "Not a valid integer.": _l("Enter a whole number."),
    "Not a valid number.": _l("Enter a number."),
    "Not a valid string.": _l("Enter text."),
    "Not a valid boolean.": _l("Enter true or false."),
    "Not a valid datetime.": _l("Enter a date and time (ISO 8601, with its offset)."),
    "Not a valid date.": _l("Enter a date (YYYY-MM-DD)."),
    "Not a valid list.": _l("Enter a list."),
    "Invalid input type.": _l("The value has the wrong type."),
    "Invalid input.": _l("The value is not valid."),
    "Not a valid mapping type.": _l("Send a JSON object."),
    "Invalid value.": _l("The value is not valid."),
    "Must be one of the allowed values.": _l("Choose one of the allowed values."),
    "Too long.": _l("The text is too long."),
    "Out of range.": _l("The number is out of range."),
}


# marshmallow's messages with values in them, known by how they begin.
MARSHMALLOW_PREFIXES = (
    ("Must be one of:", _l("Choose one of the allowed values.")),
    ("Longer than maximum length", _l("The text is too long.")),
    ("Shorter than minimum length", _l("The text is too short.")),
    ("Length must be", _l("The text has a length that is not allowed.")),
    ("Must be greater than or equal to", _l("The number is out of range.")),
    ("Must be less than or equal to", _l("The number is out of range.")),
    ("Must be greater than", _l("The number is out of range.")),
    ("Must be less than", _l("The number is out of range.")),
    ("Number too large", _l("The number is too large.")),
    ("String does not match expected pattern", _l("The value is not in the expected form.")),
)


def _translate(message: str) -> str:
    known = MARSHMALLOW_MESSAGES.get(message)
    if known is not None:
        return str(known)
    for prefix, text in MARSHMALLOW_PREFIXES:
        if message.startswith(prefix):
            return str(text)
    return gettext(message)


def _flatten(messages, prefix: str = "") -> list[tuple[str, str]]:
    """Turn marshmallow's nested messages into (path, message) pairs."""
    pairs: list[tuple[str, str]] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key == "_schema":  # marshmallow's "the body as a whole": the root pointer
                pairs.extend(_flatten(value, prefix))
                continue
            path = f"{prefix}/{str(key).replace('~', '~0').replace('/', '~1')}"
            pairs.extend(_flatten(value, path))
    elif isinstance(messages, list | tuple):
        if all(isinstance(m, str) for m in messages):
            pairs.extend((prefix, m) for m in messages)
        else:
            for index, value in enumerate(messages):
                pairs.extend(_flatten(value, f"{prefix}/{index}"))
    else:
        pairs.append((prefix, str(messages)))
    return pairs


def from_validation(messages: dict) -> Response:
    """Answer webargs' 422: each message at its body pointer or query/header parameter."""
    errors = []
    for location, fields in (messages or {}).items():
        for path, message in _flatten(fields):
            detail = _translate(message)
            if location in ("json", "form", "files"):
                errors.append({"pointer": path, "detail": detail})
            else:
                name = path.lstrip("/").split("/", 1)[0] or location
                errors.append({"parameter": name, "detail": detail})
    first = errors[0]["detail"] if errors else None
    return render(422, first, errors or None)


def from_http(exc: HTTPException) -> Response:
    """Answer an HTTP error raised anywhere under /api/ (abort, webargs, routing)."""
    if isinstance(exc, ProblemRaised):
        return render(exc.code, exc.description, exc.errors, exc.extra_headers)
    data = getattr(exc, "data", None) or {}
    if exc.code == 422 and "messages" in data:
        return from_validation(data["messages"])
    headers = {}
    valid = getattr(exc, "valid_methods", None)
    if exc.code == 405 and valid:
        headers["Allow"] = ", ".join(valid)
    if exc.code == 429:
        # Flask-Limiter's exception says when to come back.
        retry = getattr(exc, "retry_after", None)
        if retry:
            headers["Retry-After"] = str(retry)
    return render(exc.code or 500, None, None, headers)
