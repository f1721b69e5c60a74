"""Who vets applications and who reads the register; the patrol units a page may offer."""

from __future__ import annotations

from wtforms import SelectChoice

from core.scope import Scope
from portal.extensions import db
from volunteers import queries

VETTING = ("coordinator", "registrar")
REGISTER_READERS = ("coordinator", "registrar", "deputy")


def patrol_choices(scope: Scope) -> list[SelectChoice]:
    units = db.session.scalars(queries.patrol_units(scope))
    return [SelectChoice(0, "—")] + [SelectChoice(u.id, u.name) for u in units]
