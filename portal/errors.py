"""How the portal answers refusals: domain ones on their form page, error pages for the rest."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import Flask, abort, flash, make_response, render_template
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from wtforms import Field
from wtforms.form import BaseForm

from core.errors import DomainError, NotFound
from portal.extensions import db
from portal.forms import show_at_fields
from portal.i18n import translate_error


@contextmanager
def on_refusal(
    page: str | Callable[[int], ResponseReturnValue],
    *,
    field: Field | BaseForm | Callable[[DomainError], Field] | None = None,
    keep_writes: bool = False,
    **context,
) -> Iterator[None]:
    """Answer a ``DomainError`` raised inside with the page the form was on, at its 4xx status.

    The one way a view turns a domain refusal into a response: the request's writes are
    undone (kept with ``keep_writes``, for an audited failed sign-in), the translated message
    is flashed (or put on ``field``, a form field or a function of the error choosing one; a
    whole form, or the page's ``form`` of ``context``, takes each refusal at the input its
    ``field`` names), and ``page`` answers: a template rendered with ``context``, or a
    function of the status.
    A ``NotFound`` has no page to show again and goes to the app's handler, the 404 page.
    Anything raised outside such a block reaches that handler too: the error page with the
    refusal's status and message.
    """
    try:
        yield
    except NotFound:
        raise
    except DomainError as exc:
        if keep_writes:
            db.session.commit()
        else:
            db.session.rollback()
        message = translate_error(exc)
        # A form field is callable too (it renders itself): tell the two apart by type.
        target = field if field is None or isinstance(field, (Field, BaseForm)) else field(exc)
        if target is None and exc.field and isinstance(context.get("form"), BaseForm):
            target = context["form"]  # the page's form: the refusal names one of its inputs
        if target is None:
            flash(message, "danger")
        elif isinstance(target, BaseForm):
            # A whole form: each refusal at the input it names (issue 19), the rest flashed.
            for unplaced in show_at_fields(target, getattr(exc, "errors", [exc])):
                flash(unplaced, "danger")
        else:
            target.errors.append(message)
        if isinstance(page, str):
            answer = render_template(page, **context), exc.status
        else:
            answer = page(exc.status)
        # A response carried by the HTTPException skips the error handlers (Flask returns it).
        abort(make_response(answer))


def flash_form_errors(form) -> None:
    """Flash why ``form`` was refused, each field's label with its (translated) errors.

    For action forms answered with their record's page: in some states that page does not
    show the form, and the 400 came with no message at all (found by fuzzing, S13).
    """
    for field in form:
        # Field errors are strings, lazy strings included; a form field's errors are a dict.
        errors = [str(e) for e in field.errors if not isinstance(e, (list, dict))]
        if errors:
            flash(f"{field.label.text}: {' '.join(errors)}", "danger")


MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Go back and try again.")),
    401: (_l("Sign-in needed"), _l("Sign in to continue.")),
    403: (_l("Access denied"), _l("You do not have the right to open this page.")),
    404: (_l("Not found"), _l("There is no such page or record, or it is not yours to see.")),
    405: (_l("Not allowed"), _l("This action cannot be done this way.")),
    409: (_l("Conflict"), _l("The record has changed or the action was already done.")),
    413: (_l("Too large"), _l("The file or form is too large. The limit is 5 MB.")),
    422: (_l("Cannot be done"), _l("The request breaks a rule of the portal.")),
    429: (_l("Too many requests"), _l("Too many attempts. Wait a minute and try again.")),
    500: (_l("Something went wrong"), _l("The error was recorded. Try again later.")),
}


def render_error(status: int, detail: str | None = None):
    """Render the error page for ``status`` with an optional specific message."""
    title, text = MESSAGES.get(status, MESSAGES[500] if status >= 500 else MESSAGES[400])
    return render_template(
        "errors/error.html", status=status, title=title, text=detail or text
    ), status


def _has_nul(pairs) -> bool:
    """Tell whether any name or value of ``pairs`` (name, [values]) holds a NUL character."""
    return any(
        "\x00" in (key or "") or any("\x00" in (v or "") for v in found) for key, found in pairs
    )


def _json_has_nul(value) -> bool:
    """Tell whether a parsed JSON body holds a NUL character in any key or string."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_json_has_nul(k) or _json_has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_json_has_nul(v) for v in value)
    return False


def install(app: Flask) -> None:
    """Register the handlers."""

    @app.before_request
    def _refuse_unreadable_input():
        # Found by fuzzing (S13): PostgreSQL cannot store a NUL character, so a form field or
        # filter carrying one was a 500; so was a multipart part without a readable name
        # (WTForms' FieldList fails on it). No one types either: refuse the request plainly.
        # A body over the general limit is left to the view that raised it (the minutes' scan).
        from flask import request

        from portal.api import problems

        api = problems.is_api_request()
        pairs = [request.args.lists()]
        limit = app.config.get("MAX_CONTENT_LENGTH")
        if request.content_length is None or limit is None or request.content_length <= limit:
            if None in request.form or None in request.files:
                return problems.render(400) if api else render_error(400)
            pairs.append(request.form.lists())
            pairs.append((f.filename or "", [f.name or ""]) for f in request.files.values())
        if api and request.is_json and _json_has_nul(request.get_json(silent=True)):
            return problems.render(400)
        if any(_has_nul(found) for found in pairs):
            # The general 400 text: a NUL-specific one would need new catalog entries.
            return problems.render(400) if api else render_error(400)
        return None

    @app.errorhandler(CSRFError)
    def _csrf(_exc):
        if problems.is_api_request():
            return problems.render(400)
        return render_error(
            400,
            str(
                _l(
                    "The form has expired or did not come from this site. "
                    "Reload the page and send it again."
                )
            ),
        )

    from portal.api import problems

    @app.errorhandler(DomainError)
    def _domain(exc):
        db.session.rollback()
        if problems.is_api_request():
            return problems.from_domain(exc)
        return render_error(exc.status, translate_error(exc))

    @app.errorhandler(HTTPException)
    def _http(exc):
        if problems.is_api_request():
            db.session.rollback()
            return problems.from_http(exc)
        return render_error(exc.code or 500)

    @app.errorhandler(Exception)
    def _unexpected(exc):
        app.logger.exception("unhandled error")
        db.session.rollback()
        if problems.is_api_request():
            return problems.render(500)
        return render_error(500)
