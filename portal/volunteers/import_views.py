"""Import of the paper register: the upload, its XLSX template."""

from __future__ import annotations

import io

from flask import redirect, render_template, send_file, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user

from core import outputs, uploads
from portal import jobs
from portal.errors import on_refusal
from portal.extensions import db
from portal.labels import KIND_LABELS
from portal.security import allow, current_scope
from portal.volunteers.blueprint import bp
from portal.volunteers.forms import ImportForm
from volunteers import import_template, importing
from volunteers.jobs import IMPORT_ROLES
from volunteers.models import KINDS


def _language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else "kk"


def _kind_labels() -> dict[str, dict[str, str]]:
    """The kinds as the pages name them, in each language."""
    labels = {}
    for language in importing.LANGUAGES:
        with force_locale(language):
            labels[language] = {code: str(KIND_LABELS[code]) for code in KINDS}
    return labels


@bp.route("/volunteers/import", methods=["GET", "POST"])
@allow(*IMPORT_ROLES)
def import_register():
    form = ImportForm()
    language = _language()
    index = importing.LANGUAGES.index(language) if language in importing.LANGUAGES else 0
    page = {
        "form": form,
        "columns": [
            (code, importing.COLUMN_NAMES[code][index], code in importing.REQUIRED)
            for code in importing.COLUMNS
        ],
        "kinds": [str(KIND_LABELS[code]) for code in KINDS],
    }
    if form.validate_on_submit():
        upload = form.file.data
        content = upload.read()
        with on_refusal("volunteers/import.html", field=form.file, **page):
            # Cheap checks only: the file is parsed by the job, within its limits (issue 17).
            importing.check_file(content, upload.filename or "")
        stored = uploads.store(
            db.session,
            filename=upload.filename or "register",
            content_type=upload.mimetype or "application/octet-stream",
            content=content,
            owner_id=current_user.id,
        )
        run = jobs.submit(
            "members.import",
            requested_by_id=current_user.id,
            unit_id=None,
            params={"file_id": stored.id},
        )
        db.session.commit()
        return redirect(url_for("jobruns.show", run_id=run.id))
    return render_template("volunteers/import.html", **page), 400 if form.errors else 200


@bp.route("/volunteers/import/template.xlsx")
@allow(*IMPORT_ROLES)
def import_template_file():
    language = _language()
    content = import_template.template_xlsx(
        language=language,
        translate=_,
        kind_labels=_kind_labels(),
        units=import_template.settlements(db.session, current_scope(*IMPORT_ROLES)),
    )
    return send_file(
        io.BytesIO(content),
        mimetype=outputs.XLSX_TYPE,
        as_attachment=True,
        download_name=f"register-template-{language}.xlsx",
    )
