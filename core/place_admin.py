"""Administrators add or rename administrative units when the official KATO list changes."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.accounts import require_admin_over
from core.errors import N_, Conflict, DomainError, NotFound
from core.places import AdminUnit, add_unit

# The levels a unit may have under a unit of each level. A city administration ("Г.А.") holds
# districts (Astana, Almaty, Shymkent), rural okrugs and villages; a settlement holds nothing.
CHILD_LEVELS = {
    "country": ("region", "city"),
    "region": ("city", "district"),
    "city": ("district", "rural_okrug", "settlement"),
    "district": ("rural_okrug", "settlement"),
    "rural_okrug": ("settlement",),
    "settlement": (),
}
PARENT_LEVELS = tuple(level for level, children in CHILD_LEVELS.items() if children)
NAME_MAX = 200  # the columns' length
_KATO = re.compile(r"[0-9]{9}")
_LONG_NUMBER = re.compile(r"\d{7}")


class UnitRefused(DomainError):
    """The unit cannot be added or renamed as asked (code, level or names)."""

    status = 422


def kato_prefix(session: Session, parent: AdminUnit) -> str:
    """Return the digits every code under ``parent`` starts with (KATO: AB CD EF HIJ).

    A top-level unit fixes AB, a city or district below it ABCD, a rural okrug ABCDEF; the
    country fixes nothing.
    """
    if parent.level == "country":
        return ""
    if parent.level == "rural_okrug":
        return parent.kato[:6]
    grandparent = session.get(AdminUnit, parent.parent_id) if parent.parent_id else None
    top_level = grandparent is not None and grandparent.level == "country"
    return parent.kato[:2] if top_level else parent.kato[:4]


def _names(name_kk: str | None, name_ru: str | None) -> tuple[str, str]:
    kk, ru = (name_kk or "").strip(), (name_ru or "").strip()
    if not kk or not ru:
        raise UnitRefused(N_("Give the unit's name in Kazakh and in Russian."))
    if len(kk) > NAME_MAX or len(ru) > NAME_MAX:
        raise UnitRefused(N_("A name may have at most %(n)s characters."), n=NAME_MAX)
    if any(not c.isprintable() for c in kk + ru):
        raise UnitRefused(N_("A name may not hold line breaks or control characters."))
    # A place's name has no long numbers; one that looks like an IIN must not reach the audit
    # chain, which refuses it (found by the form fuzzing).
    if _LONG_NUMBER.search(kk + " " + ru):
        raise UnitRefused(N_("A name may not hold a number of more than %(n)s digits."), n=6)
    return kk, ru


def create_unit(
    session: Session,
    *,
    parent_id: int,
    kato: str,
    level: str,
    name_kk: str,
    name_ru: str,
    actor_id: int,
) -> AdminUnit:
    """Add a unit under ``parent_id``; the actor must administer the parent."""
    parent = session.get(AdminUnit, parent_id)
    if parent is None:
        raise NotFound(N_("No such administrative unit."))
    require_admin_over(session, actor_id, parent.id)
    kato = (kato or "").strip()
    if not _KATO.fullmatch(kato) or kato == "0" * 9:
        raise UnitRefused(N_("A KATO code has exactly 9 digits."))
    prefix = kato_prefix(session, parent)
    if not kato.startswith(prefix):
        raise UnitRefused(N_("A KATO code under this unit begins with %(prefix)s."), prefix=prefix)
    if level not in CHILD_LEVELS.get(parent.level, ()):
        raise UnitRefused(N_("A unit of this level cannot lie under the chosen unit."))
    kk, ru = _names(name_kk, name_ru)
    # Serialize with every other audited writer before the check, so that two administrators
    # adding the same code at once get a 409, not a unique-index error.
    audit.take_append_lock(session)
    if session.scalar(select(AdminUnit.id).where(AdminUnit.kato == kato)) is not None:
        raise Conflict(N_("A unit with this KATO code already exists."))
    unit = add_unit(session, kato=kato, name_kk=kk, name_ru=ru, level=level, parent=parent)
    audit.record(
        session,
        action="admin_unit.create",
        object_type="admin_unit",
        object_id=unit.id,
        actor_id=actor_id,
        payload={
            "kato": kato,
            "level": level,
            "parent_id": parent.id,
            "name_kk": kk,
            "name_ru": ru,
        },
    )
    return unit


def rename_unit(
    session: Session, *, unit_id: int, name_kk: str, name_ru: str, actor_id: int
) -> AdminUnit:
    """Rename a unit (its code stays); the actor must administer the unit above it.

    The old and new names go to the audit event: the unit's history of names is its trail.
    """
    # Locked before the names are read, so that the old names recorded are the ones replaced.
    audit.take_append_lock(session)
    unit = session.get(AdminUnit, unit_id)
    if unit is None:
        raise NotFound(N_("No such administrative unit."))
    session.refresh(unit)
    if unit.parent_id is None:
        raise UnitRefused(N_("The country itself is not renamed here."))
    require_admin_over(session, actor_id, unit.parent_id)
    kk, ru = _names(name_kk, name_ru)
    if (kk, ru) == (unit.name_kk, unit.name_ru):
        raise UnitRefused(N_("The names are the same as before."))
    payload = {
        "kato": unit.kato,
        "old": {"name_kk": unit.name_kk, "name_ru": unit.name_ru},
        "new": {"name_kk": kk, "name_ru": ru},
    }
    unit.name_kk, unit.name_ru = kk, ru
    session.flush()
    audit.record(
        session,
        action="admin_unit.rename",
        object_type="admin_unit",
        object_id=unit.id,
        actor_id=actor_id,
        payload=payload,
    )
    return unit
