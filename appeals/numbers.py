"""Numbers of complaints and acts: one gapless sequence per kind and year, taken race-safe."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from appeals.models import AppealCounter

# The printed prefixes: "Ш" (шағым, жалоба) for complaints; acts carry the year and sequence.
FORMATS = {"complaint": "Ш-{year}-{seq:05d}", "act": "{year}-{seq:05d}"}


def next_seq(session: Session, kind: str, year: int) -> int:
    """Take the next sequence number of ``kind`` in ``year``, in the caller's transaction.

    One guarded UPDATE of the counter row: a concurrent taker waits for the row, and a
    rolled-back one gives its number back, so the sequence has no gaps and no repeats.
    """
    bump = (
        update(AppealCounter)
        .where(AppealCounter.kind == kind, AppealCounter.year == year)
        .values(last=AppealCounter.last + 1)
        .returning(AppealCounter.last)
    )
    last = session.execute(bump).scalar_one_or_none()
    if last is None:
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        session.execute(
            dialect.insert(AppealCounter)
            .values(kind=kind, year=year, last=0)
            .on_conflict_do_nothing()
        )
        last = session.execute(bump).scalar_one()
    return last


def next_number(session: Session, kind: str, year: int) -> str:
    """Take and format the next number of ``kind`` ("complaint" or "act") in ``year``."""
    return FORMATS[kind].format(year=year, seq=next_seq(session, kind, year))
