"""An administrator's reach: the units they may pick and the accounts of their jurisdictions."""

from __future__ import annotations

from wtforms import SelectChoice

from core import queries as core_queries
from portal.forms import unit_choices
from portal.security import current_scope


def admin_unit_choices() -> list[SelectChoice]:
    return unit_choices(current_scope("admin"))


def people_in_scope():
    """Ids of the accounts of the admin's jurisdictions (a subquery)."""
    return core_queries.account_ids(current_scope("admin"))
