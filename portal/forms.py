"""Form pieces shared by several screen areas."""

from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectChoice

from core import places
from portal.extensions import db
from portal.i18n import LANGUAGES, unit_name

LANGUAGE_CHOICES = [SelectChoice(code, label) for code, label in LANGUAGES.items()]


class ConfirmForm(FlaskForm):
    """A form with only the CSRF token, for action buttons."""


def unit_choices(scope_ids: list[int], levels: tuple[str, ...] | None = None) -> list[SelectChoice]:
    """Return the units covered by ``scope_ids`` as an indented list, tree order."""
    query = select(places.AdminUnit).where(places.units_within_clause(scope_ids))
    if levels:
        query = query.where(places.AdminUnit.level.in_(levels))
    units = db.session.scalars(query.order_by(places.AdminUnit.path)).all()
    top = min((u.path.count("/") for u in units), default=0)
    return [
        SelectChoice(u.id, "\u2003" * (u.path.count("/") - top) + f"{unit_name(u)} ({u.kato})")
        for u in units
    ]
