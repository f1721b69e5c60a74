"""One admin page pattern for reference-data kinds: list them, add or change one, retire one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from portal.errors import on_refusal
from portal.extensions import db
from portal.security import administers_country, allow, require_country_admin


@dataclass(frozen=True)
class Column:
    """A column of the kinds' table beside code, name and "In use"."""

    header: object  # a lazy string
    value: Callable[[object], object]
    numeric: bool = False


@dataclass(frozen=True)
class KindPage:
    """How one kind of reference data is kept on its page.

    The kinds apply in the whole country: every administrator reads them, only an administrator
    of the whole country changes them. A kind is keyed by its code and never deleted; one no
    longer used is retired by clearing "In use". ``save(session, *, code, actor_id, **fields)``
    receives the form's other fields by name; ``listed(session)`` returns all, retired ones too.
    """

    endpoint: str
    rule: str
    title: object  # lazy strings, translated when the page is shown
    intro: object
    saved: object
    model: type
    form: Callable[..., FlaskForm]
    save: Callable[..., object]
    listed: Callable[..., Sequence]
    columns: tuple[Column, ...] = ()


def _fields(form: FlaskForm) -> dict:
    """Return the form's values but the code: text trimmed, a blank order as 0."""
    values = {}
    for f in form:
        if f.name in ("csrf_token", "code"):
            continue
        data = f.data
        if isinstance(data, str):
            data = data.strip()
        elif data is None and f.type == "IntegerField":
            data = 0
        values[f.name] = data
    return values


def _page(page: KindPage, form: FlaskForm, editing, status: int):
    return render_template(
        "admin/kinds.html",
        page=page,
        kinds=page.listed(db.session),
        form=form,
        editing=editing,
        can_change=administers_country(),
    ), status


def register(bp: Blueprint, page: KindPage) -> None:
    """Add ``page``'s view to ``bp``: GET lists the kinds and (``?code=``) fills the form."""
    endpoint = f"{bp.name}.{page.endpoint}"

    def view():
        if request.method == "POST":
            require_country_admin()
        edit = request.args.get("code")
        existing = db.session.get(page.model, edit) if edit else None
        form = page.form(obj=existing if request.method == "GET" else None)
        if form.validate_on_submit():
            with on_refusal(lambda status: _page(page, form, existing, status)):
                page.save(
                    db.session, code=form.code.data, actor_id=current_user.id, **_fields(form)
                )
            db.session.commit()
            flash(str(page.saved), "success")
            return redirect(url_for(endpoint))
        return _page(page, form, existing, 400 if form.errors else 200)

    view.__name__ = view.__qualname__ = page.endpoint
    view.__doc__ = f"List, add, change and retire: {page.model.__name__}."
    bp.add_url_rule(page.rule, page.endpoint, allow("admin")(view), methods=["GET", "POST"])
