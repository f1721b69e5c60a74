"""Confirmation of irreversible steps: a page stating the consequence before the step posts.

The step's button leads to the page (``GET …/confirm``, or the step's own POST when it carries
typed-in fields); only the page's "Yes, …" button sends ``confirmed``. A POST without it (a
double click on the old button, a script) answers 422 with the same page and changes nothing.
Works without JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import render_template, request
from flask_babel import gettext as _

from portal.forms import ConfirmForm

CONFIRM_FIELD = "confirmed"
CONFIRM_VALUE = "yes"
# Fields a confirmation page never carries over: its own token and its own mark.
_NOT_CARRIED = {"csrf_token", CONFIRM_FIELD}


@dataclass
class Consequence:
    """What a step will do, in words and figures, and where its "Yes" and "Cancel" lead."""

    title: str
    verb: str  # the "Yes, …" button
    action: str  # the step's POST URL
    cancel: str  # back to the record
    consequence: str  # the sentence that says what cannot be taken back
    facts: list[tuple[str, str]] = field(default_factory=list)
    table_head: list[str] = field(default_factory=list)
    table: list[list[str]] = field(default_factory=list)
    carried: dict[str, str] = field(default_factory=dict)  # typed-in fields, posted again


def is_confirmed() -> bool:
    """Return whether the POST comes from a confirmation page's "Yes" button."""
    return request.form.get(CONFIRM_FIELD) == CONFIRM_VALUE


def carried_fields() -> dict[str, str]:
    """Return the fields of the POST to send again with the confirmation."""
    return {k: v for k, v in request.form.items() if k not in _NOT_CARRIED}


def confirm_page(consequence: Consequence, status: int = 200):
    """Render the confirmation page; with 422 it also says that nothing was done yet."""
    message = (
        _("Nothing has been done yet: check what this step will do and confirm it.")
        if status >= 400
        else None
    )
    return render_template(
        "confirm.html", c=consequence, form=ConfirmForm(), message=message
    ), status
