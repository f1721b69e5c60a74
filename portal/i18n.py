"""Locale choice (user, session, browser, Kazakh by default) and the language helpers."""

from __future__ import annotations

from flask import Flask, session
from flask_babel import format_date, format_datetime, get_locale, gettext
from flask_login import current_user

from core.iin import mask_iin
from core.money import format_tiyn
from portal.labels import WORKFLOW_STATE_LABELS

LANGUAGES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}
DEFAULT = "kk"


def select_locale() -> str:
    """Pick the language: the user's choice, then the session's, then the browser's, then kk."""
    from flask import request

    if current_user and current_user.is_authenticated:
        return current_user.preferred_language
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT


def normalize(code: str | None) -> str:
    """Return a known language code, falling back to the default for unknown ones."""
    return code if code in LANGUAGES else DEFAULT


def translate_error(exc) -> str:
    """Translate a DomainError's msgid and substitute its parameters.

    A workflow's state (the 409 of a step another request took first) is shown by its label.
    """
    params = exc.params
    states = WORKFLOW_STATE_LABELS.get(getattr(exc, "workflow", ""))
    if states and params.get("state") in states:
        params = {**params, "state": str(states[params["state"]])}
    return gettext(exc.message, **params)


def unit_name(unit) -> str:
    """Return an administrative unit's name in the current language."""
    return unit.name(str(get_locale()))


def local_time(value) -> str:
    """Format an aware UTC timestamp in Almaty time for the current language."""
    return format_datetime(value, "short") if value else ""


def local_date(value) -> str:
    """Format a date for the current language."""
    return format_date(value, "medium") if value else ""


def money(amount_tiyn: int | None) -> str:
    """Format tiyn as ``1 234 567,00 ₸`` with non-breaking spaces (the same in kk, ru and en)."""
    return "" if amount_tiyn is None else format_tiyn(amount_tiyn)


def install(app: Flask) -> None:
    """Expose the language helpers and the code labels to templates."""
    from portal import labels

    app.jinja_env.globals.update(
        LANGUAGES=LANGUAGES,
        get_locale=get_locale,
        unit_name=unit_name,
        ROLE_LABELS=labels.ROLE_LABELS,
        LEVEL_LABELS=labels.LEVEL_LABELS,
        JOB_STATUS_LABELS=labels.JOB_STATUS_LABELS,
        JOB_KIND_LABELS=labels.JOB_KIND_LABELS,
        AUDIT_ACTION_LABELS=labels.AUDIT_ACTION_LABELS,
        KIND_LABELS=labels.KIND_LABELS,
        APPLICATION_STATUS_LABELS=labels.APPLICATION_STATUS_LABELS,
        MEMBER_STATUS_LABELS=labels.MEMBER_STATUS_LABELS,
        SIGNUP_STATUS_LABELS=labels.SIGNUP_STATUS_LABELS,
        CONTRIBUTION_STATUS_LABELS=labels.CONTRIBUTION_STATUS_LABELS,
        mask_iin=mask_iin,
    )
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["local_date"] = local_date
    app.jinja_env.filters["money"] = money
