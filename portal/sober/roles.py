"""Who reads and who manages sober settlements, and the settlements a manager may pick."""

from __future__ import annotations

from wtforms import SelectChoice

from core.scope import Scope
from portal.forms import unit_choices

MANAGERS = ("coordinator",)
READERS = ("coordinator", "deputy")


def settlement_choices(scope: Scope) -> list[SelectChoice]:
    return unit_choices(scope, levels=("settlement",))
